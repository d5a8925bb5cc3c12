"""The trust and safety chart: a PNG of the promised size, with matplotlib loaded only on use."""

from __future__ import annotations

import datetime as dt
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from conversations.files.chart import (
    FULL_SIZE_POINTS,
    HEIGHT_PX,
    SMALLEST_SCALE,
    WIDTH_PX,
    Point,
    render_chart,
    render_chart_async,
    size_scale,
    spans_years,
    tick_label,
)

ROOT = Path(__file__).resolve().parents[2]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
LABELS = {"trust": "Trust", "safety": "Safety", "title": "Trust and safety", "y": "Score"}


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk, after checking the signature and CRC."""
    assert data[:8] == PNG_SIGNATURE
    length, kind = struct.unpack(">I4s", data[8:16])
    assert (kind, length) == (b"IHDR", 13)
    body = data[16 : 16 + length]
    (crc,) = struct.unpack(">I", data[16 + length : 20 + length])
    assert zlib.crc32(kind + body) == crc
    width, height = struct.unpack(">II", body[:8])
    assert data.endswith(b"IEND\xaeB`\x82")
    return width, height


def weekly_points(weeks: int) -> list[Point]:
    """One session a week, ending on 5 November 2024, with a skipped score now and then."""
    last = dt.date(2024, 11, 5)
    points: list[Point] = []
    for i in range(weeks):
        trust = None if i == 4 else 3 + i % 8
        safety = None if i == 7 else 10 - i % 6
        points.append((last - dt.timedelta(weeks=weeks - 1 - i), trust, safety))
    return points


def test_png_size_reads_a_known_header() -> None:
    ihdr = struct.pack(">II5B", 3, 2, 8, 6, 0, 0, 0)
    data = (
        PNG_SIGNATURE
        + struct.pack(">I", 13)
        + b"IHDR"
        + ihdr
        + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
        + b"\x00\x00\x00\x00IEND\xaeB`\x82"
    )
    assert png_size(data) == (3, 2)
    with pytest.raises(AssertionError):
        png_size(b"GIF89a" + data[6:])


def test_the_chart_is_1200_by_800() -> None:
    assert (WIDTH_PX, HEIGHT_PX) == (1200, 800)


@pytest.mark.parametrize("weeks", [0, 1, 2, 12])
def test_render_chart_is_a_png_of_the_promised_size(weeks: int) -> None:
    data = render_chart(weekly_points(weeks), labels=LABELS)
    assert png_size(data) == (1200, 800)


def test_an_empty_chart_may_carry_a_message() -> None:
    data = render_chart([], labels={**LABELS, "empty": "No sessions yet"})
    assert png_size(data) == (1200, 800)


def test_unsorted_points_and_same_day_sessions_render() -> None:
    day = dt.date(2024, 11, 5)
    points: list[Point] = [(day, 5, 6), (day - dt.timedelta(days=30), 7, None), (day, 6, 6)]
    assert png_size(render_chart(points, labels=LABELS)) == (1200, 800)


def test_a_missing_label_is_an_error_not_a_silent_blank() -> None:
    with pytest.raises(KeyError):
        render_chart(weekly_points(2), labels={"trust": "Trust", "safety": "Safety"})


async def test_render_chart_async_returns_the_same_kind_of_png() -> None:
    data = await render_chart_async(weekly_points(12), labels=LABELS)
    assert png_size(data) == (1200, 800)


def test_labels_carry_the_year_only_when_the_chart_spans_years() -> None:
    autumn = [dt.date(2026, 9, 10), dt.date(2026, 11, 26)]
    assert not spans_years(autumn)
    assert not spans_years([])
    assert spans_years([dt.date(2025, 12, 18), *autumn])
    assert tick_label(dt.date(2026, 11, 3), with_year=False) == "3 Nov"
    assert tick_label(dt.date(2025, 12, 18), with_year=True) == "Dec 2025"


def test_markers_shrink_for_many_sessions_but_not_below_a_floor() -> None:
    assert size_scale(1) == size_scale(FULL_SIZE_POINTS) == 1.0
    assert 1.0 > size_scale(FULL_SIZE_POINTS + 1) > size_scale(52) > size_scale(104)
    assert size_scale(104) > size_scale(1000) == SMALLEST_SCALE
    assert 0.6 < size_scale(52) < 0.8  # a year of weekly sessions
    assert size_scale(10_000) == SMALLEST_SCALE


@pytest.mark.parametrize("weeks", [13, 60])
def test_a_long_range_renders_at_the_same_size(weeks: int) -> None:
    # 60 weeks back from 5 November 2024 starts in 2023: labels with the year, smaller markers.
    assert png_size(render_chart(weekly_points(weeks), labels=LABELS)) == (1200, 800)


def test_importing_bot_chart_does_not_import_matplotlib() -> None:
    code = (
        "import sys, conversations.files.chart\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in {'matplotlib', 'numpy'})\n"
        "print(','.join(loaded) or 'none')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.strip() == "none"
