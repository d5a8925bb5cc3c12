"""The export's files, parsed back: JSON as given, CSV neutralised, the PDF's text extractable."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from conversations.files.exports import (
    COLUMNS,
    REPLACEMENT,
    TICKED,
    UNTICKED,
    build_csv,
    build_json,
    build_pdf,
    chart_points,
    chart_rows,
    fallback_fonts,
    lead,
    neutralise,
    numbers,
    plain,
    prompt,
    scale,
)
from conversations.worksheet.content import items, short_prompt, t

TODAY = dt.date(2026, 3, 2)
CYRILLIC = "Доверие — это когда меня слышат"
GREEK = "Εμπιστοσύνη σημαίνει ασφάλεια"
ARABIC = "الثقة تعني الأمان"
CHINESE = "安全感"
EMOJI = "💛🌱👍🏽👩‍👧"


def answer(key: str, text: str | None) -> dict[str, Any]:
    """One answer as storage/export.py gathers it."""
    return {"key": key, "text": text, "skipped": text is None, "updated_at": "2026-03-01T10:00:00"}


def session(
    day: str | None,
    topic: str | None,
    trust: int | None,
    safety: int | None,
    role: str | None,
    *,
    complete: bool = True,
) -> dict[str, Any]:
    """One session chart row as storage/export.py gathers it."""
    return {
        "uid": f"{day}-{topic}",
        "session_date": day,
        "topic": topic,
        "trust": trust,
        "safety": safety,
        "therapist_role": role,
        "complete": complete,
        "created_at": "2026-03-01T10:00:00+00:00",
        "updated_at": "2026-03-01T10:00:00+00:00",
    }


def squash(text: str) -> str:
    """Every run of white space as one space (PDF lines wrap anywhere)."""
    return re.sub(r"\s+", " ", text).strip()


def pdf_text(content: bytes) -> str:
    """The whole text of a PDF, white space squashed."""
    return squash(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages))


DATA: dict[str, Any] = {
    "answers": [
        answer("reflect.q1", CYRILLIC),
        answer("reflect.q2", ARABIC),
        answer("reflect.q3", f"{CHINESE} and {EMOJI} too"),
        answer("reflect.q4", GREEK),
        answer("reflect.q5", None),
        answer("reflect.q6.2", "Start on time"),
        answer("checklist.selected", "2,8"),
        answer("tips.marked", "3"),
        answer("finish.surprise", "yes"),
        answer("finish.surprise_detail", "How much the numbers moved"),
        answer("finish.helpful", "9"),
    ],
    "sessions": [
        session("2026-02-20", "Work & <family>", 6, 7, "Ask about the week"),
        session("2026-01-05", "=cmd|' /C calc'!A0", 3, None, "@SUM(1+1)"),
        session("2026-02-27", None, None, None, None, complete=False),
        session(None, "no date given", 5, 5, None),
    ],
}


# JSON --------------------------------------------------------------------------------------


def test_json_parses_back_to_exactly_the_data() -> None:
    raw = build_json(DATA)
    assert json.loads(raw) == DATA
    assert CYRILLIC.encode() in raw  # readable as it is, not \u-escaped


# CSV ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-2", "@x", "\tx", "\rx", "  =SUM(A1)"])
def test_cells_a_spreadsheet_would_run_get_an_apostrophe(cell: str) -> None:
    assert neutralise(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["", "a=b", "1+1", "e-mail", "x@y", CYRILLIC, "'quoted"])
def test_other_cells_stay_as_they_are(cell: str) -> None:
    assert neutralise(cell) == cell


def test_csv_holds_the_completed_chart_oldest_first_neutralised() -> None:
    raw = build_csv(DATA["sessions"])
    assert raw.startswith(b"\xef\xbb\xbf")  # a BOM, so spreadsheet apps read UTF-8
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows == [
        [plain(t(key)) for key in COLUMNS],
        ["2026-01-05", "'=cmd|' /C calc'!A0", "3", "", "'@SUM(1+1)"],
        ["2026-02-20", "Work & <family>", "6", "7", "Ask about the week"],
        ["", "no date given", "5", "5", ""],
    ]


def test_a_chart_without_sessions_is_just_its_headings() -> None:
    rows = list(csv.reader(io.StringIO(build_csv([]).decode("utf-8-sig"))))
    assert rows == [[plain(t(key)) for key in COLUMNS]]


# What goes into the PDF ----------------------------------------------------------------------


def test_chart_rows_and_points_leave_out_drafts_undated_and_unscored_rows() -> None:
    rows = chart_rows(DATA["sessions"])
    assert [r["session_date"] for r in rows] == ["2026-01-05", "2026-02-20", None]
    assert chart_points(DATA["sessions"]) == [
        (dt.date(2026, 1, 5), 3, None),
        (dt.date(2026, 2, 20), 6, 7),
    ]


def test_words_from_the_content() -> None:
    assert lead("reflect.intro").startswith("This worksheet will help you explore")
    assert lead("checklist.intro").startswith("If you are holding back in therapy sessions")
    assert lead("log.intro").startswith("Use the following chart over the next three months")
    assert prompt("finish.trust_prompt").startswith("After completing this activity, do you")
    assert scale("finish.helpful_prompt").startswith("1 = not at all helpful")
    assert numbers("1, 4,x,") == {1, 4}
    assert numbers(None) == set()


# The PDF -----------------------------------------------------------------------------------


def test_the_pdf_has_the_prompts_and_the_answers_as_text() -> None:
    text = pdf_text(build_pdf(DATA, chart_png=None, today=TODAY, fallbacks=[]))
    assert plain(t("export.pdf.title")) in text
    assert "Sessions from Mon 5 Jan 2026 to Fri 20 Feb 2026" in text
    assert "Exported on Mon 2 Mar 2026" in text
    for item in items("reflect.prompts"):
        assert squash(short_prompt(item["text"], limit=2000)) in text
    assert CYRILLIC in text and GREEK in text
    # Arabic is drawn right to left; its letters come out in either order, never lost.
    assert ARABIC in text or ARABIC[::-1] in text
    statements = items("checklist.statements")
    assert f"{TICKED} {statements[1]['title']}" in text
    assert f"{TICKED} {statements[7]['title']}" in text
    assert f"{UNTICKED} {statements[0]['title']}" in text
    assert f"{TICKED} {items('tips.list')[2]['title']}" in text
    assert f"{UNTICKED} {items('tips.list')[0]['title']}" in text
    assert "Work & <family>" in text and "=cmd|' /C calc'!A0" in text
    assert "How much the numbers moved" in text
    assert plain(t("export.pdf.rating", value=9)) in text
    assert re.search(r"Page 1 of [2-9]", text)


def test_without_a_font_for_them_chinese_and_emoji_show_as_boxes_with_a_note() -> None:
    text = pdf_text(build_pdf(DATA, chart_png=None, today=TODAY, fallbacks=[]))
    # Three boxes for the Chinese, one per emoji (the skin tone adds none).
    found = re.search(f"({REPLACEMENT}+) and (.*?) too", text)
    assert found is not None and found.group(1) == REPLACEMENT * 3
    assert found.group(2).count(REPLACEMENT) == 5
    assert squash(plain(t("export.pdf.missing"))) in text


def test_the_note_is_left_out_when_every_character_can_be_drawn() -> None:
    data = {"answers": [answer("reflect.q1", CYRILLIC)], "sessions": []}
    text = pdf_text(build_pdf(data, chart_png=None, today=TODAY, fallbacks=[]))
    assert squash(plain(t("export.pdf.missing"))) not in text
    assert "Exported on Mon 2 Mar 2026" in text and "Sessions from" not in text


@pytest.mark.skipif(not fallback_fonts(), reason="no fallback font for Chinese on this machine")
def test_a_fallback_font_draws_chinese_as_text() -> None:
    text = pdf_text(build_pdf(DATA, chart_png=None, today=TODAY, fallbacks=fallback_fonts()))
    assert f"{CHINESE} and" in text


def test_a_broken_fallback_font_is_skipped(tmp_path: Path) -> None:
    broken = tmp_path / "DroidSansFallbackFull.ttf"
    broken.write_bytes(b"not a font")
    text = pdf_text(build_pdf(DATA, chart_png=None, today=TODAY, fallbacks=[broken]))
    assert CYRILLIC in text and f"{REPLACEMENT * 3} and" in text


def test_unanswered_prompts_leave_room_and_no_text() -> None:
    empty = {"answers": [], "sessions": []}
    content = build_pdf(empty, chart_png=None, today=TODAY, fallbacks=[])
    text = pdf_text(content)
    assert squash(plain(t("export.pdf.no_sessions"))) in text
    assert plain(t("export.pdf.trend")) not in text
    assert TICKED not in text
    # Blank lines are drawn, not typed: many more line segments than in a filled-in copy.
    filled = build_pdf(DATA, chart_png=None, today=TODAY, fallbacks=[])
    assert _rules(content) > _rules(filled)


def _rules(content: bytes) -> int:
    """How many straight lines the PDF's pages draw."""
    reader = PdfReader(io.BytesIO(content))
    streams = [page.get_contents() for page in reader.pages]
    return sum(s.get_data().count(b" l S") for s in streams if s is not None)


def test_the_trend_chart_is_placed_when_given() -> None:
    from conversations.files.chart import render_chart

    labels = {"trust": "Trust", "safety": "Safety", "y": "Rating", "title": ""}
    png = render_chart(chart_points(DATA["sessions"]), labels=labels)
    content = build_pdf(DATA, chart_png=png, today=TODAY, fallbacks=[])
    assert plain(t("export.pdf.trend")) in pdf_text(content)
    reader = PdfReader(io.BytesIO(content))
    assert sum(len(page.images) for page in reader.pages) == 1


def test_awkward_text_never_breaks_the_pdf() -> None:
    awkward = "你好" * 200 + " " + "x" * 500 + " \x00\x07 tab\there\r\nnew line 🙂" + "\u200f"
    data = {
        "answers": [answer("reflect.q1", awkward), answer("finish.trust", "")],
        "sessions": [session("2026-01-01", awkward, 1, 10, awkward)],
    }
    text = pdf_text(build_pdf(data, chart_png=None, today=TODAY, fallbacks=[]))
    assert "tab here" in text and "new line" in text
