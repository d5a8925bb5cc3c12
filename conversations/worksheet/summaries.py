"""The weekly summary: averages, changes and gentle signals over logged therapy sessions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Literal, NamedTuple
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from storage.repository import SessionRow

Measure = Literal["trust", "safety"]
SignalKind = Literal["drop", "low"]

MEASURES: tuple[Measure, ...] = ("trust", "safety")
WEEK_DAYS = 7
# A fall of this many points from one session to the next is worth a gentle word.
DROP_POINTS = 2
# A score at or below this is worth a gentle word.
LOW_SCORE = 5
TOP_SCORE = 10
# Fewer sessions than this say too little to remark on a run of tens.
ALL_TENS_MIN_SESSIONS = 3
CHART_WEEKS = 12


@dataclass(frozen=True, slots=True)
class Signal:
    """A gentle signal about one measure of one session of the week."""

    kind: SignalKind
    measure: Measure
    session_date: dt.date
    value: int
    # For a drop: the value and date of the previous session that had this measure.
    previous_value: int | None = None
    previous_date: dt.date | None = None


@dataclass(frozen=True, slots=True)
class Note:
    """What the person wrote their therapist could have done, for one session of the week."""

    session_date: dt.date
    topic: str | None
    text: str


@dataclass(frozen=True, slots=True)
class WeekSummary:
    """The last seven days in the person's time zone, compared with the seven before."""

    start: dt.date
    end: dt.date
    sessions: tuple[SessionRow, ...]
    trust_average: float | None
    safety_average: float | None
    trust_change: float | None
    safety_change: float | None
    notes: tuple[Note, ...]
    signals: tuple[Signal, ...]
    all_tens: bool

    @property
    def empty(self) -> bool:
        """True when no session was logged in the week."""
        return not self.sessions


class ChartPoint(NamedTuple):
    """One session on the chart; a measure the person skipped is None."""

    session_date: dt.date
    trust: int | None
    safety: int | None


def _zone(tz: str | dt.tzinfo) -> dt.tzinfo:
    return ZoneInfo(tz) if isinstance(tz, str) else tz


def local_today(now_utc: dt.datetime, tz: str | dt.tzinfo) -> dt.date:
    """Today's calendar date in the person's time zone."""
    if now_utc.tzinfo is None or now_utc.utcoffset() is None:
        raise ValueError("now_utc must be an aware datetime")
    return now_utc.astimezone(_zone(tz)).date()


def week_window(now_utc: dt.datetime, tz: str | dt.tzinfo) -> tuple[dt.date, dt.date]:
    """Today and the six days before it in the person's zone, as inclusive (start, end) dates."""
    # Session dates are calendar dates, so a DST week is still seven dates; no hour arithmetic.
    today = local_today(now_utc, tz)
    return today - dt.timedelta(days=WEEK_DAYS - 1), today


def previous_window(now_utc: dt.datetime, tz: str | dt.tzinfo) -> tuple[dt.date, dt.date]:
    """The seven days before `week_window`, as inclusive (start, end) dates."""
    start, _ = week_window(now_utc, tz)
    return start - dt.timedelta(days=WEEK_DAYS), start - dt.timedelta(days=1)


def _usable(rows: Iterable[SessionRow]) -> list[SessionRow]:
    """Complete, dated rows sorted by date; same-day rows keep their given order."""
    kept = [row for row in rows if row.complete and row.session_date is not None]
    return sorted(kept, key=_date_of)


def _date_of(row: SessionRow) -> dt.date:
    assert row.session_date is not None  # _usable drops undated rows first
    return row.session_date


def _value(row: SessionRow, measure: Measure) -> int | None:
    return row.trust if measure == "trust" else row.safety


def _between(rows: Sequence[SessionRow], start: dt.date, end: dt.date) -> list[SessionRow]:
    return [row for row in rows if start <= _date_of(row) <= end]


def _average(rows: Sequence[SessionRow], measure: Measure) -> float | None:
    values = [v for row in rows if (v := _value(row, measure)) is not None]
    if not values:
        return None
    # Half-up on exact decimals: round() on floats would show 7.25 as 7.2 (banker's rounding).
    mean = Decimal(sum(values)) / Decimal(len(values))
    return float(mean.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _change(current: float | None, previous: float | None) -> float | None:
    if current is None or previous is None:
        return None
    # From the rounded averages, so the change shown always matches the two numbers shown.
    return float(Decimal(str(current)) - Decimal(str(previous)))


def _signals(rows: Sequence[SessionRow], start: dt.date, end: dt.date) -> list[Signal]:
    found: list[Signal] = []
    for measure in MEASURES:
        last: tuple[int, dt.date] | None = None
        for row in rows:
            value, day = _value(row, measure), _date_of(row)
            if value is None:
                # A skipped measure is no score; compare with the last session that had one.
                continue
            if start <= day <= end:
                if last is not None and last[0] - value >= DROP_POINTS:
                    found.append(Signal("drop", measure, day, value, last[0], last[1]))
                if value <= LOW_SCORE:
                    found.append(Signal("low", measure, day, value))
            last = (value, day)
    order = {m: i for i, m in enumerate(MEASURES)}
    return sorted(found, key=lambda s: (s.session_date, order[s.measure], s.kind))


def _all_tens(rows: Sequence[SessionRow]) -> bool:
    scored = [row for row in rows if row.trust is not None or row.safety is not None]
    if len(scored) < ALL_TENS_MIN_SESSIONS:
        return False
    values = [v for row in scored for m in MEASURES if (v := _value(row, m)) is not None]
    return all(v == TOP_SCORE for v in values)


def summarise_week(
    rows: Iterable[SessionRow], now_utc: dt.datetime, tz: str | dt.tzinfo
) -> WeekSummary:
    """Summarise the last seven days of sessions in the person's time zone."""
    usable = _usable(rows)
    start, end = week_window(now_utc, tz)
    prev_start, prev_end = previous_window(now_utc, tz)
    week = _between(usable, start, end)
    before = _between(usable, prev_start, prev_end)
    trust, safety = _average(week, "trust"), _average(week, "safety")
    notes = tuple(
        Note(_date_of(row), row.topic, row.role.strip())
        for row in week
        if row.role is not None and row.role.strip()
    )
    # Drops look at sessions up to the end of the week only; a future-dated entry is not "before".
    history = [row for row in usable if _date_of(row) <= end]
    return WeekSummary(
        start=start,
        end=end,
        sessions=tuple(week),
        trust_average=trust,
        safety_average=safety,
        trust_change=_change(trust, _average(before, "trust")),
        safety_change=_change(safety, _average(before, "safety")),
        notes=notes,
        signals=tuple(_signals(history, start, end)),
        all_tens=_all_tens(usable),
    )


def chart_points(
    rows: Iterable[SessionRow],
    now_utc: dt.datetime,
    tz: str | dt.tzinfo,
    weeks: int = CHART_WEEKS,
) -> list[ChartPoint]:
    """Sessions of the last `weeks` weeks (ending today in the person's zone), oldest first."""
    end = local_today(now_utc, tz)
    start = end - dt.timedelta(days=weeks * WEEK_DAYS - 1)
    return [
        ChartPoint(_date_of(row), row.trust, row.safety)
        for row in _between(_usable(rows), start, end)
        # A session with neither score has nothing to draw.
        if row.trust is not None or row.safety is not None
    ]
