"""A phone-readable PNG of trust and safety per session; matplotlib loads on first use only."""

from __future__ import annotations

import asyncio
import contextvars
import datetime as dt
import functools
import io
import math
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from conversations.worksheet.formats import month_year, short_date

if TYPE_CHECKING:
    from matplotlib.axes import Axes

Point = tuple[dt.date, int | None, int | None]

# 1200x800 px: 6x4 inches at 200 dpi. Telegram shows photos up to 1280 px on the long side, and
# at 200 dpi a 13 pt font is about 36 px high, which stays legible when a phone shrinks the image.
WIDTH_IN, HEIGHT_IN, DPI = 6.0, 4.0, 200
WIDTH_PX, HEIGHT_PX = round(WIDTH_IN * DPI), round(HEIGHT_IN * DPI)
FONT_PT = 13


@dataclass(frozen=True, slots=True)
class _Style:
    color: str
    linestyle: str
    marker: str
    markersize: float
    markerfacecolor: str
    zorder: int


# Okabe-Ito blue and vermillion: told apart with every common colour-vision deficiency, and the
# line style and marker differ too, so the chart also works in greyscale.
TRUST_STYLE = _Style("#0072B2", "-", "o", 9, "#0072B2", 3)
# Larger hollow squares drawn under the circles: when both scores are equal the circle sits
# inside the square, so neither hides the other.
SAFETY_STYLE = _Style("#D55E00", "--", "s", 14, "white", 2)
# With this few values a line would suggest a trend that isn't there; draw markers only.
MIN_POINTS_FOR_LINE = 3
# Days of space either side of the first and last session so edge markers aren't clipped.
X_PADDING_DAYS = 3
# Date labels sit on session days at least this share of the axis apart, so at most about seven
# "30 Nov"-sized labels share the width and never overlap.
MIN_TICK_GAP = 1 / 7
# Over more than one calendar year a label carries the year ("Mar 2025"), and being longer,
# at most about five share the width.
MIN_YEAR_TICK_GAP = 1 / 5
# Up to this many sessions (half a year of weekly ones) markers and lines keep their full size;
# with more they shrink, so a year or two of sessions stays a readable line, not a smear.
FULL_SIZE_POINTS = 26
SMALLEST_SCALE = 0.4

# One worker: renders are rare, CPU-bound and hold the GIL for most of their run, so more threads
# would not make them faster; a dedicated pool also keeps them from filling the loop's default
# executor that other to_thread work shares, and serialises matplotlib's first-use font cache.
_EXECUTOR = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chart")


def _short_date(day: dt.date) -> str:
    return short_date(day)


def _month_year(day: dt.date) -> str:
    return month_year(day)


def tick_label(day: dt.date, *, with_year: bool) -> str:
    """A date label on the x axis: "3 Nov", or "Nov 2025" when the chart spans years."""
    return _month_year(day) if with_year else _short_date(day)


def spans_years(days: Sequence[dt.date]) -> bool:
    """Whether the sessions fall in more than one calendar year (labels then need the year)."""
    return bool(days) and min(days).year != max(days).year


def _ticks(days: Sequence[int], gap: float = MIN_TICK_GAP) -> list[int]:
    """Session days (ordinals) to label, latest first picked, spaced so labels don't overlap."""
    span = days[-1] - days[0] + 2 * X_PADDING_DAYS
    chosen: list[int] = []
    # Labels on session days say "this dot is the session of 3 Nov"; the latest always gets one.
    for day in reversed(days):
        if not chosen or chosen[-1] - day >= span * gap:
            chosen.append(day)
    return chosen[::-1]


def size_scale(count: int) -> float:
    """How big markers and lines are drawn for this many sessions (1 up to FULL_SIZE_POINTS)."""
    if count <= FULL_SIZE_POINTS:
        return 1.0
    return max(SMALLEST_SCALE, math.sqrt(FULL_SIZE_POINTS / count))


def _plot_measure(
    ax: Axes,
    days: Sequence[int],
    values: Sequence[int | None],
    label: str,
    style: _Style,
    scale: float = 1.0,
) -> None:
    # NaN breaks a matplotlib line, so a skipped score is a gap, never a bridge over it.
    ys = [math.nan if value is None else float(value) for value in values]
    drawn = sum(1 for value in values if value is not None)
    ax.plot(
        days,
        ys,
        label=label,
        linewidth=3 * scale,
        color=style.color,
        linestyle=style.linestyle if drawn >= MIN_POINTS_FOR_LINE else "none",
        marker=style.marker,
        markersize=style.markersize * scale,
        markerfacecolor=style.markerfacecolor,
        markeredgewidth=2.5 * scale,
        zorder=style.zorder,
    )


def render_chart(points: Sequence[Point], *, labels: Mapping[str, str]) -> bytes:
    """Render trust and safety per session as a 1200x800 PNG."""
    # Imported here so importing this module (at bot start-up) costs nothing.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FixedLocator, FuncFormatter

    points = sorted(points, key=lambda point: point[0])
    # Figure, not pyplot: no global figure registry, so each call (and thread) owns its figure.
    fig = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()

    # Dates as day ordinals: plain numbers keep matplotlib's (untyped) date converters out.
    days = [day.toordinal() for day, _, _ in points]
    scale = size_scale(len(points))
    trusts = [trust for _, trust, _ in points]
    _plot_measure(ax, days, trusts, labels["trust"], TRUST_STYLE, scale)
    safeties = [safety for _, _, safety in points]
    _plot_measure(ax, days, safeties, labels["safety"], SAFETY_STYLE, scale)

    ax.set_ylim(0.5, 10.5)
    ax.yaxis.set_major_locator(FixedLocator(list(range(1, 11))))
    ax.set_ylabel(labels["y"], fontsize=FONT_PT)
    ax.set_title(labels["title"], fontsize=FONT_PT + 2)
    ax.grid(axis="y", alpha=0.3)
    ax.tick_params(labelsize=FONT_PT - 1)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)

    if points:
        ax.set_xlim(days[0] - X_PADDING_DAYS, days[-1] + X_PADDING_DAYS)
        with_year = spans_years([day for day, _, _ in points])
        gap = MIN_YEAR_TICK_GAP if with_year else MIN_TICK_GAP
        ax.xaxis.set_major_locator(FixedLocator(_ticks(sorted(set(days)), gap)))
        ax.xaxis.set_major_formatter(
            FuncFormatter(
                lambda x, _pos: tick_label(dt.date.fromordinal(round(x)), with_year=with_year)
            )
        )
        fig.legend(loc="outside lower center", ncols=2, frameon=False, fontsize=FONT_PT)
    else:
        ax.set_xticks([])
        if empty := labels.get("empty"):
            ax.text(
                0.5, 0.5, empty, ha="center", va="center", transform=ax.transAxes, fontsize=FONT_PT
            )

    buffer = io.BytesIO()
    # No "Software" chunk: the image needn't carry library versions.
    fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


async def render_chart_async(points: Sequence[Point], *, labels: Mapping[str, str]) -> bytes:
    """Render the chart on the chart thread so the event loop keeps serving updates."""
    loop = asyncio.get_running_loop()
    job = functools.partial(render_chart, list(points), labels=dict(labels))
    # In the update's context, so the labels are in the person's language.
    return await loop.run_in_executor(_EXECUTOR, contextvars.copy_context().run, job)
