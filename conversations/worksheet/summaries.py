"""The summaries' numbers: the week (averages, changes, gentle signals) and since the start
(monthly averages, the biggest dip, the hard sessions) over logged therapy sessions."""

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
# A session with trust or safety at or below this is a hard one: its note is worth bringing.
HARD_SCORE = 3


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


@dataclass(frozen=True, slots=True)
class MonthAverage:
    """One calendar month with sessions: its averages and how many sessions it had."""

    month: dt.date  # the first day of the month
    sessions: int
    trust: float | None
    safety: float | None


@dataclass(frozen=True, slots=True)
class Fall:
    """One measure falling from one session to the next session that had it."""

    measure: Measure
    before: int
    after: int

    @property
    def points(self) -> int:
        return self.before - self.after


@dataclass(frozen=True, slots=True)
class Dip:
    """The session with the largest fall, and every measure that fell at it."""

    session_date: dt.date
    topic: str | None
    falls: tuple[Fall, ...]

    @property
    def points(self) -> int:
        """The largest fall of the session, in points."""
        return max(fall.points for fall in self.falls)


@dataclass(frozen=True, slots=True)
class HardSession:
    """A session with trust or safety at HARD_SCORE or below, with its note if it has one."""

    session_date: dt.date
    topic: str | None
    trust: int | None
    safety: int | None
    note: str | None


@dataclass(frozen=True, slots=True)
class HistorySummary:
    """Everything since the first session, up to today in the person's zone."""

    start: dt.date | None  # the first session's date (None without sessions)
    end: dt.date
    sessions: tuple[SessionRow, ...]
    months: tuple[MonthAverage, ...]
    dip: Dip | None
    hard: tuple[HardSession, ...]

    @property
    def empty(self) -> bool:
        """True when no session was ever logged (up to today)."""
        return not self.sessions

    @property
    def first_and_last_month(self) -> tuple[MonthAverage, MonthAverage] | None:
        """The first and the last month with sessions, when there are two different ones."""
        if len(self.months) < 2:
            return None
        return self.months[0], self.months[-1]


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


def monthly_averages(rows: Iterable[SessionRow]) -> list[MonthAverage]:
    """Averages per calendar month, oldest first; months without sessions are left out."""
    by_month: dict[dt.date, list[SessionRow]] = {}
    for row in _usable(rows):
        by_month.setdefault(_date_of(row).replace(day=1), []).append(row)
    return [
        MonthAverage(month, len(kept), _average(kept, "trust"), _average(kept, "safety"))
        for month, kept in by_month.items()
    ]


def biggest_dip(rows: Iterable[SessionRow]) -> Dip | None:
    """The session whose trust or safety fell most since the last session that had it.

    Ties go to the session where the two falls together were larger, then to the earlier one.
    None when nothing ever fell (no sessions, one session, or only rises and levels).
    """
    best: Dip | None = None
    best_key = (0, 0)
    last: dict[Measure, int] = {}
    for row in _usable(rows):
        falls: list[Fall] = []
        for measure in MEASURES:
            value = _value(row, measure)
            if value is None:
                continue  # a skipped measure: compare with the last session that had one
            before = last.get(measure)
            if before is not None and before > value:
                falls.append(Fall(measure, before, value))
            last[measure] = value
        if not falls:
            continue
        key = (max(f.points for f in falls), sum(f.points for f in falls))
        if key > best_key:
            best, best_key = Dip(_date_of(row), row.topic, tuple(falls)), key
    return best


def hard_sessions(rows: Iterable[SessionRow]) -> list[HardSession]:
    """Sessions with trust or safety at HARD_SCORE or below, oldest first, with their notes."""
    found: list[HardSession] = []
    for row in _usable(rows):
        scores = [v for m in MEASURES if (v := _value(row, m)) is not None]
        if scores and min(scores) <= HARD_SCORE:
            note = row.role.strip() if row.role is not None and row.role.strip() else None
            found.append(HardSession(_date_of(row), row.topic, row.trust, row.safety, note))
    return found


def summarise_history(
    rows: Iterable[SessionRow], now_utc: dt.datetime, tz: str | dt.tzinfo
) -> HistorySummary:
    """Summarise every session from the first one up to today in the person's time zone."""
    end = local_today(now_utc, tz)
    kept = [row for row in _usable(rows) if _date_of(row) <= end]
    return HistorySummary(
        start=_date_of(kept[0]) if kept else None,
        end=end,
        sessions=tuple(kept),
        months=tuple(monthly_averages(kept)),
        dip=biggest_dip(kept),
        hard=tuple(hard_sessions(kept)),
    )


def history_points(
    rows: Iterable[SessionRow], now_utc: dt.datetime, tz: str | dt.tzinfo
) -> list[ChartPoint]:
    """Every session up to today in the person's zone, oldest first (the whole range)."""
    end = local_today(now_utc, tz)
    return [
        ChartPoint(_date_of(row), row.trust, row.safety)
        for row in _usable(rows)
        if _date_of(row) <= end and (row.trust is not None or row.safety is not None)
    ]


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
