"""Therapy session schedules: when sessions happen and when their reminders are due."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from storage.models import ScheduleKind, utcnow
from storage.repository import ScheduleInfo, Unit, ledger_key

Kind = Literal[ScheduleKind.WEEKLY, ScheduleKind.BIWEEKLY, ScheduleKind.ONCE]
SESSION_KINDS = (ScheduleKind.WEEKLY, ScheduleKind.BIWEEKLY, ScheduleKind.ONCE)

BIWEEKLY_DAYS = 14
# How many already-reminded occurrences in a row a replan steps over (a weekly schedule moved
# across zones meets at most one; the bound only keeps a corrupt ledger from looping).
_MAX_REMINDED = 8
# Wall-clock starts are local to whichever zone the person had then: a day either side of UTC,
# so reminders claimed in the last three days cover every occurrence a replan may offer again.
_REMINDED_WINDOW = dt.timedelta(days=3)

# How far before the wanted instant the wall-clock search starts. Converting wall-clock to UTC
# can move a time by the size of a DST or date-line change (up to a day, Samoa 2011), so an
# occurrence whose wall-clock start lies shortly before the instant may still start after it.
_SEARCH_MARGIN = dt.timedelta(days=2)


@dataclass(frozen=True, slots=True)
class Schedule:
    """When someone's therapy sessions happen, in their local wall-clock time."""

    kind: Kind
    weekday: int | None
    at: dt.time
    anchor: dt.date | None

    def __post_init__(self) -> None:
        if self.at.tzinfo is not None:
            raise ValueError("the session time is wall-clock time and must have no tzinfo")
        if self.kind == ScheduleKind.WEEKLY:
            if self.weekday is None or not 0 <= self.weekday <= 6:
                raise ValueError("a weekly schedule needs a weekday from 0 (Monday) to 6")
            if self.anchor is not None:
                raise ValueError("a weekly schedule has no anchor date")
        elif self.kind == ScheduleKind.BIWEEKLY:
            if self.anchor is None:
                raise ValueError("a biweekly schedule needs the date of its first session")
            if self.weekday != self.anchor.weekday():
                raise ValueError("a biweekly schedule's weekday must be its anchor's weekday")
        elif self.kind == ScheduleKind.ONCE:
            if self.anchor is None:
                raise ValueError("a one-off session needs a date")
            if self.weekday is not None and self.weekday != self.anchor.weekday():
                raise ValueError("a one-off session's weekday must be its date's weekday")
        else:
            raise ValueError(f"unknown schedule kind: {self.kind!r}")

    @classmethod
    def weekly(cls, weekday: int, at: dt.time) -> Schedule:
        """Every week on `weekday` (Monday=0) at `at`."""
        return cls(ScheduleKind.WEEKLY, weekday, at, None)

    @classmethod
    def biweekly(cls, first: dt.date, at: dt.time) -> Schedule:
        """Every 14 days from the first session on `first`, at `at`."""
        return cls(ScheduleKind.BIWEEKLY, first.weekday(), at, first)

    @classmethod
    def once(cls, on: dt.date, at: dt.time) -> Schedule:
        """A single session on `on` at `at`."""
        return cls(ScheduleKind.ONCE, on.weekday(), at, on)


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One session: its wall-clock start (its identity) and the instant it starts."""

    local_start: dt.datetime
    start_utc: dt.datetime


def _local_dates(schedule: Schedule, after: dt.date) -> Iterator[dt.date]:
    """Candidate session dates, in order, from the first on or after `after`."""
    if schedule.kind == ScheduleKind.ONCE:
        assert schedule.anchor is not None
        if schedule.anchor >= after:
            yield schedule.anchor
        return
    if schedule.kind == ScheduleKind.WEEKLY:
        assert schedule.weekday is not None
        first = after + dt.timedelta(days=(schedule.weekday - after.weekday()) % 7)
        step = 7
    else:
        assert schedule.anchor is not None
        # Sessions before the first one don't exist, so never count back from the anchor.
        periods = max(0, -((schedule.anchor - after).days // BIWEEKLY_DAYS))
        first = schedule.anchor + dt.timedelta(days=periods * BIWEEKLY_DAYS)
        step = BIWEEKLY_DAYS
    for n in itertools.count():
        yield first + dt.timedelta(days=n * step)


def occurrences_after(
    schedule: Schedule, tz: ZoneInfo, after_local: dt.datetime
) -> Iterator[dt.datetime]:
    """Naive wall-clock session starts strictly after naive `after_local`, in order."""
    # Wall-clock starts don't depend on `tz`; it is part of the signature so that every call
    # here takes the person's zone alike. A start that doesn't exist on a spring DST day is
    # kept: the session still happens, and occurrence_at() gives its instant.
    if after_local.tzinfo is not None:
        raise ValueError("after_local must be a naive wall-clock datetime")
    for day in _local_dates(schedule, after_local.date()):
        start = dt.datetime.combine(day, schedule.at).replace(fold=0)
        if start > after_local:
            yield start


def occurrence_at(local_start: dt.datetime, tz: ZoneInfo) -> Occurrence:
    """The occurrence starting at naive wall-clock `local_start` in `tz`."""
    # fold=0 picks the first of a repeated autumn hour, and moves a time in a spring gap forward
    # by the gap (Berlin 02:30 starts at 03:30 CEST): each wall-clock start has one instant.
    if local_start.tzinfo is not None:
        raise ValueError("local_start must be a naive wall-clock datetime")
    local_start = local_start.replace(fold=0)
    start_utc = local_start.replace(tzinfo=tz).astimezone(dt.UTC)
    return Occurrence(local_start=local_start, start_utc=start_utc)


def next_occurrence(schedule: Schedule, tz: ZoneInfo, after_utc: dt.datetime) -> Occurrence | None:
    """The first session starting strictly after the instant `after_utc`; None if none is left."""
    # A caller that still owes the reminder of a session that has started asks for the first
    # session after `now - delay`, not after `now`.
    if after_utc.tzinfo is None or after_utc.utcoffset() is None:
        raise ValueError("after_utc must be an aware datetime")
    # Compare instants, not wall-clock: in the repeated autumn hour a wall-clock comparison
    # would offer a session that already started, and in a spring gap it would skip one.
    after_local = after_utc.astimezone(tz).replace(tzinfo=None)
    for local_start in occurrences_after(schedule, tz, after_local - _SEARCH_MARGIN):
        occurrence = occurrence_at(local_start, tz)
        if occurrence.start_utc > after_utc:
            return occurrence
    return None


def due_at(occurrence: Occurrence, delay_minutes: int) -> dt.datetime:
    """When the reminder for `occurrence` is due: `delay_minutes` of real time after it starts."""
    return occurrence.start_utc + dt.timedelta(minutes=delay_minutes)


# Stored schedules, planned -------------------------------------------------------------------


def plan_of(info: ScheduleInfo) -> Schedule:
    """The schedule arithmetic's view of a stored schedule (the weekly summary is weekly)."""
    if info.kind in (ScheduleKind.ONCE, ScheduleKind.SNOOZE):
        assert info.anchor is not None
        return Schedule.once(info.anchor, info.at_time)
    if info.kind == ScheduleKind.BIWEEKLY:
        assert info.anchor is not None
        return Schedule.biweekly(info.anchor, info.at_time)
    assert info.weekday is not None
    return Schedule.weekly(info.weekday, info.at_time)


def delay_of(info: ScheduleInfo, delay_min: int) -> int:
    """Minutes from a session's start to its reminder (a snooze or summary has its own time)."""
    return 0 if info.kind in (ScheduleKind.SNOOZE, ScheduleKind.SUMMARY) else delay_min


def first_due(
    info: ScheduleInfo, tz: ZoneInfo, delay_min: int, now: dt.datetime
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The first occurrence whose reminder is still to come, and when it is due."""
    delay = delay_of(info, delay_min)
    occurrence = next_occurrence(plan_of(info), tz, now - dt.timedelta(minutes=delay))
    if occurrence is None:
        return None, None
    return occurrence.local_start, due_at(occurrence, delay)


def following(
    info: ScheduleInfo, tz: ZoneInfo, delay_min: int, after: dt.datetime
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The occurrence after a given one, and when its reminder is due."""
    start = next(occurrences_after(plan_of(info), tz, after), None)
    if start is None:
        return None, None
    occurrence = occurrence_at(start, tz)
    return occurrence.local_start, due_at(occurrence, delay_of(info, delay_min))


def zone(name: str | None) -> ZoneInfo:
    """A person's zone; UTC if unknown."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


async def replan(unit: Unit, now: dt.datetime | None = None) -> None:
    """Recompute every schedule's next reminder (after a change of zone, delay or schedule).

    An occurrence whose reminder was already claimed is stepped over: a session moved to a
    zone further west, or a longer delay, can bring back one whose reminder went out already,
    and the ledger takes each occurrence once (the engine would offer it again and again).
    """
    now = now or utcnow()
    tz = zone(unit.person.timezone)
    delay = unit.person.reminder_delay_min
    schedules = await unit.schedules()
    since = (now - _REMINDED_WINDOW).astimezone(dt.UTC).replace(tzinfo=None, microsecond=0)
    reminded = await unit.reminded_since(since)
    for info in schedules:
        occurrence, due = first_due(info, tz, delay, now)
        key = ledger_key(info.kind, info.id)
        for _ in range(_MAX_REMINDED):
            if occurrence is None or (key, occurrence) not in reminded:
                break
            occurrence, due = following(info, tz, delay, occurrence)
        await unit.set_next(info.id, occurrence, due)


# A change of time zone -----------------------------------------------------------------------


class Keep(StrEnum):
    """What a person's sessions keep when their time zone changes."""

    LOCAL = "local"  # the same wall-clock time, now in the new zone (moved; online at home time)
    MOMENT = "moment"  # the same instant, shown in the new zone's time (a trip)


def same_moment(
    info: ScheduleInfo, old: ZoneInfo, new: ZoneInfo, delay_min: int, now: dt.datetime
) -> ScheduleInfo:
    """The schedule moved so that its next session (the first whose reminder is still to come)
    starts, on `new`'s clock, at the instant it starts on `old`'s: weekday, time and date move
    with it ("Thursday 18:30" in New York is "Friday 00:30" in Berlin). Unchanged if no
    session is left. Later sessions keep the new wall-clock time: where the two zones change
    their clocks on different dates, they are an hour apart from then on (see `drift`)."""
    occurrence = next_occurrence(
        plan_of(info), old, now - dt.timedelta(minutes=delay_of(info, delay_min))
    )
    if occurrence is None:
        return info
    there = occurrence.start_utc.astimezone(new).replace(tzinfo=None, second=0, microsecond=0)
    at = there.time()
    if info.kind in (ScheduleKind.WEEKLY, ScheduleKind.SUMMARY):
        return replace(info, weekday=there.weekday(), at_time=at)
    if info.kind == ScheduleKind.BIWEEKLY:
        assert info.anchor is not None
        # The first session moves by as many days as the next one, so the fortnights stay.
        anchor = info.anchor + (there.date() - occurrence.local_start.date())
        return replace(info, weekday=anchor.weekday(), anchor=anchor, at_time=at)
    weekday = None if info.weekday is None else there.weekday()
    return replace(info, weekday=weekday, anchor=there.date(), at_time=at)


def rezoned(
    info: ScheduleInfo,
    old: ZoneInfo,
    new: ZoneInfo,
    delay_min: int,
    now: dt.datetime,
    keep: Keep,
) -> ScheduleInfo:
    """A schedule after a change of zone from `old` to `new`, keeping what `keep` says.

    A snoozed reminder is a promise for an instant ("in an hour"), so it keeps its moment
    either way; so does a one-off session that would have passed at its local time in the new
    zone while still to come in the old one (it would otherwise be lost without a word). The
    weekly summary comes at its time in the person's own zone, whatever that is.
    """
    if info.kind == ScheduleKind.SUMMARY:
        return info
    if keep == Keep.MOMENT or info.kind == ScheduleKind.SNOOZE:
        return same_moment(info, old, new, delay_min, now)
    if info.kind == ScheduleKind.ONCE:
        passes = first_due(info, new, delay_min, now)[0] is None
        if passes and first_due(info, old, delay_min, now)[0] is not None:
            return same_moment(info, old, new, delay_min, now)
    return info


def moves(
    schedules: list[ScheduleInfo],
    old: ZoneInfo,
    new: ZoneInfo,
    delay_min: int,
    now: dt.datetime,
) -> list[tuple[ScheduleInfo, ScheduleInfo]]:
    """The sessions whose choice matters: (kept at the local time, kept at the same moment),
    for each session schedule where the two differ. Empty when the zones keep the same time
    for every coming session (Paris and Berlin), so there is nothing to ask."""
    found = []
    for info in schedules:
        if info.kind not in SESSION_KINDS:
            continue
        local = rezoned(info, old, new, delay_min, now, Keep.LOCAL)
        moment = rezoned(info, old, new, delay_min, now, Keep.MOMENT)
        if local != moment:
            found.append((local, moment))
    return found


def drift(
    info: ScheduleInfo,
    moved: ScheduleInfo,
    old: ZoneInfo,
    new: ZoneInfo,
    now: dt.datetime,
    horizon: dt.timedelta = dt.timedelta(weeks=12),
) -> dt.date | None:
    """The first session (in the old zone's calendar) within `horizon` where `moved`, a
    schedule kept at the same moment, no longer starts at the same instant as `info` did in
    the old zone: the two zones' clocks changed on different dates. None if they keep step."""
    before = plan_of(info)
    after = plan_of(moved)
    if before.kind == ScheduleKind.ONCE:
        return None
    start = next_occurrence(before, old, now)
    while start is not None and start.start_utc <= now + horizon:
        there = next_occurrence(after, new, start.start_utc - dt.timedelta(seconds=1))
        if there is None or there.start_utc != start.start_utc:
            return start.local_start.date()
        start = next_occurrence(before, old, start.start_utc)
    return None
