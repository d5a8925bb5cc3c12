"""Session schedules: weekly, every two weeks and one-off sessions, across DST changes."""

from __future__ import annotations

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

import pytest

from conversations.worksheet.timeplan import (
    Keep,
    Occurrence,
    Schedule,
    drift,
    due_at,
    first_due,
    moves,
    next_occurrence,
    occurrence_at,
    occurrences_after,
    plan_of,
    rezoned,
    same_moment,
)
from storage.models import ScheduleKind
from storage.repository import ScheduleInfo

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")
UTC = dt.UTC

MON, SUN = 0, 6


def local(text: str) -> dt.datetime:
    """A naive wall-clock datetime from ISO text."""
    return dt.datetime.fromisoformat(text)


def utc(text: str) -> dt.datetime:
    """An aware UTC datetime from ISO text."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def at(text: str) -> dt.time:
    """A wall-clock time from HH:MM."""
    return dt.time.fromisoformat(text)


def first(schedule: Schedule, after_local: str, count: int, tz: ZoneInfo = BERLIN) -> list[str]:
    """The first `count` wall-clock starts after `after_local`, as ISO text."""
    starts = occurrences_after(schedule, tz, local(after_local))
    return [start.isoformat(timespec="minutes") for start in itertools.islice(starts, count)]


# Schedules ------------------------------------------------------------------------------------


def test_the_constructors_fill_in_weekday_and_anchor() -> None:
    day = dt.date(2026, 12, 3)  # a Thursday
    assert Schedule.weekly(3, at("18:00")) == Schedule("weekly", 3, at("18:00"), None)
    assert Schedule.biweekly(day, at("18:00")) == Schedule("biweekly", 3, at("18:00"), day)
    assert Schedule.once(day, at("18:00")) == Schedule("once", 3, at("18:00"), day)


def test_a_one_off_session_may_leave_out_the_weekday() -> None:
    schedule = Schedule("once", None, at("18:00"), dt.date(2026, 12, 3))
    assert first(schedule, "2026-12-01T00:00", 2) == ["2026-12-03T18:00"]


@pytest.mark.parametrize(
    ("kind", "weekday", "time", "anchor"),
    [
        ("weekly", None, at("18:00"), None),
        ("weekly", -1, at("18:00"), None),
        ("weekly", 7, at("18:00"), None),
        ("weekly", 3, at("18:00"), dt.date(2026, 12, 3)),
        ("biweekly", 3, at("18:00"), None),
        ("biweekly", 4, at("18:00"), dt.date(2026, 12, 3)),
        ("biweekly", None, at("18:00"), dt.date(2026, 12, 3)),
        ("once", None, at("18:00"), None),
        ("once", 4, at("18:00"), dt.date(2026, 12, 3)),
        ("monthly", 3, at("18:00"), None),
        ("weekly", 3, dt.time(18, 0, tzinfo=UTC), None),
    ],
)
def test_inconsistent_schedules_are_refused(
    kind: str, weekday: int | None, time: dt.time, anchor: dt.date | None
) -> None:
    with pytest.raises(ValueError):
        Schedule(kind, weekday, time, anchor)  # type: ignore[arg-type]


def test_schedules_are_frozen_values() -> None:
    schedule = Schedule.weekly(MON, at("18:00"))
    with pytest.raises(AttributeError):
        schedule.weekday = 2  # type: ignore[misc]
    assert schedule == Schedule.weekly(MON, at("18:00"))
    assert hash(schedule) == hash(Schedule.weekly(MON, at("18:00")))


# Wall-clock occurrences -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        # 2026-11-30 is a Monday.
        ("2026-11-30T17:59", ["2026-11-30T18:00", "2026-12-07T18:00", "2026-12-14T18:00"]),
        # Strictly after: a session starting at that very minute is not "after".
        ("2026-11-30T18:00", ["2026-12-07T18:00", "2026-12-14T18:00", "2026-12-21T18:00"]),
        ("2026-11-30T18:01", ["2026-12-07T18:00", "2026-12-14T18:00", "2026-12-21T18:00"]),
        ("2026-12-02T09:00", ["2026-12-07T18:00", "2026-12-14T18:00", "2026-12-21T18:00"]),
        ("2026-12-06T23:59", ["2026-12-07T18:00", "2026-12-14T18:00", "2026-12-21T18:00"]),
        # Across the end of the year.
        ("2026-12-25T00:00", ["2026-12-28T18:00", "2027-01-04T18:00", "2027-01-11T18:00"]),
    ],
)
def test_weekly_sessions_come_every_week_on_their_weekday(after: str, expected: list[str]) -> None:
    assert first(Schedule.weekly(MON, at("18:00")), after, 3) == expected


@pytest.mark.parametrize("weekday", range(7))
def test_every_weekday_can_be_chosen(weekday: int) -> None:
    starts = list(
        itertools.islice(
            occurrences_after(Schedule.weekly(weekday, at("09:30")), BERLIN, local("2026-12-01")),
            5,
        )
    )
    assert [start.weekday() for start in starts] == [weekday] * 5
    assert all(start.time() == at("09:30") for start in starts)
    assert starts[0] - local("2026-12-01") < dt.timedelta(days=7)
    assert [b - a for a, b in itertools.pairwise(starts)] == [dt.timedelta(days=7)] * 4


# The first session is on Thursday 2026-12-03; then every 14 days.
BIWEEKLY = Schedule.biweekly(dt.date(2026, 12, 3), at("18:00"))


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        # Long before the first session: it is the first.
        ("2026-01-01T00:00", ["2026-12-03T18:00", "2026-12-17T18:00", "2026-12-31T18:00"]),
        # The Thursday a week before the first session is no session.
        ("2026-11-26T00:00", ["2026-12-03T18:00", "2026-12-17T18:00", "2026-12-31T18:00"]),
        ("2026-12-03T17:59", ["2026-12-03T18:00", "2026-12-17T18:00", "2026-12-31T18:00"]),
        ("2026-12-03T18:00", ["2026-12-17T18:00", "2026-12-31T18:00", "2027-01-14T18:00"]),
        # The off week: Thursday 2026-12-10 has no session.
        ("2026-12-09T12:00", ["2026-12-17T18:00", "2026-12-31T18:00", "2027-01-14T18:00"]),
        ("2026-12-10T12:00", ["2026-12-17T18:00", "2026-12-31T18:00", "2027-01-14T18:00"]),
        ("2026-12-17T17:00", ["2026-12-17T18:00", "2026-12-31T18:00", "2027-01-14T18:00"]),
        ("2026-12-17T19:00", ["2026-12-31T18:00", "2027-01-14T18:00", "2027-01-28T18:00"]),
        # 100 periods (1400 days) later, across leap day 2028-02-29.
        ("2030-10-03T00:00", ["2030-10-03T18:00", "2030-10-17T18:00", "2030-10-31T18:00"]),
        ("2030-10-04T00:00", ["2030-10-17T18:00", "2030-10-31T18:00", "2030-11-14T18:00"]),
    ],
)
def test_biweekly_sessions_count_fortnights_from_the_first(after: str, expected: list[str]) -> None:
    assert first(BIWEEKLY, after, 3) == expected


@pytest.mark.parametrize("offset_days", range(0, 60))
def test_biweekly_sessions_are_always_a_whole_number_of_fortnights_from_the_first(
    offset_days: int,
) -> None:
    after = dt.datetime(2026, 11, 20, 12) + dt.timedelta(days=offset_days)
    start = next(occurrences_after(BIWEEKLY, BERLIN, after))
    assert (start.date() - dt.date(2026, 12, 3)).days % 14 == 0
    assert start.date() >= dt.date(2026, 12, 3)
    assert dt.timedelta(0) < start - after <= dt.timedelta(days=14)


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        ("2026-12-01T00:00", ["2026-12-03T18:00"]),
        ("2026-12-03T17:59", ["2026-12-03T18:00"]),
        ("2026-12-03T18:00", []),
        ("2027-01-01T00:00", []),
    ],
)
def test_a_one_off_session_happens_once(after: str, expected: list[str]) -> None:
    assert first(Schedule.once(dt.date(2026, 12, 3), at("18:00")), after, 3) == expected


def test_wall_clock_occurrences_need_a_naive_datetime() -> None:
    with pytest.raises(ValueError):
        next(occurrences_after(Schedule.weekly(MON, at("18:00")), BERLIN, utc("2026-12-01T00:00")))


# Instants and DST -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tz", "wall_clock", "expected_utc", "expected_local"),
    [
        # Europe/Berlin. Spring: 02:00 CET jumps to 03:00 CEST, so 02:30 doesn't exist.
        (BERLIN, "2026-03-29T02:30", "2026-03-29T01:30", "2026-03-29T03:30+02:00"),
        (BERLIN, "2026-03-29T01:59", "2026-03-29T00:59", "2026-03-29T01:59+01:00"),
        (BERLIN, "2026-03-29T03:00", "2026-03-29T01:00", "2026-03-29T03:00+02:00"),
        # Autumn: 03:00 CEST falls back to 02:00 CET; 02:30 happens twice, the first counts.
        (BERLIN, "2026-10-25T02:30", "2026-10-25T00:30", "2026-10-25T02:30+02:00"),
        # America/New_York. Spring: 02:00 EST jumps to 03:00 EDT.
        (NEW_YORK, "2026-03-08T02:30", "2026-03-08T07:30", "2026-03-08T03:30-04:00"),
        # Autumn: 02:00 EDT falls back to 01:00 EST; 01:30 happens twice, 02:30 once.
        (NEW_YORK, "2026-11-01T01:30", "2026-11-01T05:30", "2026-11-01T01:30-04:00"),
        (NEW_YORK, "2026-11-01T02:30", "2026-11-01T07:30", "2026-11-01T02:30-05:00"),
        # Australia/Lord_Howe shifts by 30 minutes. October: 02:00 (+10:30) jumps to 02:30 (+11).
        (LORD_HOWE, "2026-10-04T02:15", "2026-10-03T15:45", "2026-10-04T02:45+11:00"),
        (LORD_HOWE, "2026-10-04T02:30", "2026-10-03T15:30", "2026-10-04T02:30+11:00"),
        (LORD_HOWE, "2026-10-04T01:59", "2026-10-03T15:29", "2026-10-04T01:59+10:30"),
        # April: 02:00 (+11) falls back to 01:30 (+10:30); 01:45 happens twice, 02:30 once.
        (LORD_HOWE, "2026-04-05T01:45", "2026-04-04T14:45", "2026-04-05T01:45+11:00"),
        (LORD_HOWE, "2026-04-05T02:30", "2026-04-04T16:00", "2026-04-05T02:30+10:30"),
    ],
)
def test_each_wall_clock_start_has_exactly_one_instant(
    tz: ZoneInfo, wall_clock: str, expected_utc: str, expected_local: str
) -> None:
    occurrence = occurrence_at(local(wall_clock), tz)
    assert occurrence == Occurrence(local(wall_clock), utc(expected_utc))
    assert occurrence.start_utc.utcoffset() == dt.timedelta(0)
    assert occurrence.start_utc.astimezone(tz).isoformat(timespec="minutes") == expected_local


def test_a_second_fold_on_the_wall_clock_start_does_not_change_its_instant() -> None:
    second = local("2026-10-25T02:30").replace(fold=1)
    occurrence = occurrence_at(second, BERLIN)
    assert occurrence.start_utc == utc("2026-10-25T00:30")
    assert occurrence.local_start.fold == 0


@pytest.mark.parametrize(
    ("tz", "wall_clock", "after_utc", "expected_utc"),
    [
        # Spring gap: the session is offered before the gap...
        (BERLIN, "2026-03-29T02:30", "2026-03-28T12:00", "2026-03-29T01:30"),
        # ...and still offered when the wall clock already reads 03:10, past "02:30",
        # because it starts at 03:30.
        (BERLIN, "2026-03-29T02:30", "2026-03-29T01:10", "2026-03-29T01:30"),
        (NEW_YORK, "2026-03-08T02:30", "2026-03-08T07:10", "2026-03-08T07:30"),
        (LORD_HOWE, "2026-10-04T02:15", "2026-10-03T15:40", "2026-10-03T15:45"),
        # Autumn fold: offered while the first 02:30 is ahead...
        (BERLIN, "2026-10-25T02:30", "2026-10-25T00:15", "2026-10-25T00:30"),
        (NEW_YORK, "2026-11-01T01:30", "2026-11-01T05:15", "2026-11-01T05:30"),
        (LORD_HOWE, "2026-04-05T01:45", "2026-04-04T14:40", "2026-04-04T14:45"),
    ],
)
def test_a_session_on_a_dst_change_day_is_never_skipped(
    tz: ZoneInfo, wall_clock: str, after_utc: str, expected_utc: str
) -> None:
    start = local(wall_clock)
    schedule = Schedule.once(start.date(), start.time())
    assert next_occurrence(schedule, tz, utc(after_utc)) == Occurrence(start, utc(expected_utc))


@pytest.mark.parametrize(
    ("tz", "wall_clock", "after_utc"),
    [
        # ...and not offered again during the second, repeated 02:30 (or 01:30, 01:45).
        (BERLIN, "2026-10-25T02:30", "2026-10-25T00:30"),
        (BERLIN, "2026-10-25T02:30", "2026-10-25T01:15"),
        (BERLIN, "2026-10-25T02:30", "2026-10-25T01:45"),
        (NEW_YORK, "2026-11-01T01:30", "2026-11-01T06:15"),
        (NEW_YORK, "2026-11-01T01:30", "2026-11-01T06:45"),
        (LORD_HOWE, "2026-04-05T01:45", "2026-04-04T15:05"),
        (LORD_HOWE, "2026-04-05T01:45", "2026-04-04T15:20"),
        # Once the gap's session has started, it is over.
        (BERLIN, "2026-03-29T02:30", "2026-03-29T01:30"),
        (LORD_HOWE, "2026-10-04T02:15", "2026-10-03T16:00"),
    ],
)
def test_a_session_in_the_repeated_hour_is_not_offered_twice(
    tz: ZoneInfo, wall_clock: str, after_utc: str
) -> None:
    start = local(wall_clock)
    weekly = Schedule.weekly(start.weekday(), start.time())
    once = Schedule.once(start.date(), start.time())
    following = next_occurrence(weekly, tz, utc(after_utc))
    assert following is not None
    assert following.local_start == start + dt.timedelta(weeks=1)
    assert next_occurrence(once, tz, utc(after_utc)) is None


def walk(schedule: Schedule, tz: ZoneInfo, start_utc: str, until_utc: str) -> list[Occurrence]:
    """Every occurrence from one to the next, as a reminder loop would visit them."""
    found = []
    after = utc(start_utc)
    while (occurrence := next_occurrence(schedule, tz, after)) is not None:
        if occurrence.start_utc > utc(until_utc):
            break
        found.append(occurrence)
        after = occurrence.start_utc
    return found


@pytest.mark.parametrize(
    ("tz", "time"),
    [
        (tz, time)
        for tz in (BERLIN, NEW_YORK, LORD_HOWE)
        for time in ("00:30", "01:30", "01:45", "02:00", "02:15", "02:30", "03:00", "18:00")
    ],
)
def test_a_weekly_session_happens_exactly_once_a_week_all_year(tz: ZoneInfo, time: str) -> None:
    schedule = Schedule.weekly(SUN, at(time))
    # All DST changes of 2026 in the three zones fall on Sundays.
    found = walk(schedule, tz, "2025-12-30T00:00", "2027-01-02T00:00")
    sundays = [dt.date(2026, 1, 4) + dt.timedelta(weeks=n) for n in range(52)]
    assert [o.local_start for o in found] == [dt.datetime.combine(d, at(time)) for d in sundays]
    assert all(a.start_utc < b.start_utc for a, b in itertools.pairwise(found))
    for occurrence in found:
        # The reminder fires at the session's wall-clock time, except inside a spring gap,
        # where it fires when the gap ends plus the same distance (by the gap's length later).
        shown = occurrence.start_utc.astimezone(tz)
        shift = shown.replace(tzinfo=None) - occurrence.local_start
        assert shift in (dt.timedelta(0), dt.timedelta(hours=1), dt.timedelta(minutes=30))
        assert shown.date() == occurrence.local_start.date()


@pytest.mark.parametrize(
    ("tz", "before", "after", "utc_before", "utc_after"),
    [
        # Monday 18:00 the week before and the week after the change: same wall clock,
        # the instant moves by the change.
        (BERLIN, "2026-03-23", "2026-03-30", "2026-03-23T17:00", "2026-03-30T16:00"),
        (BERLIN, "2026-10-19", "2026-10-26", "2026-10-19T16:00", "2026-10-26T17:00"),
        (NEW_YORK, "2026-03-02", "2026-03-09", "2026-03-02T23:00", "2026-03-09T22:00"),
        (NEW_YORK, "2026-10-26", "2026-11-02", "2026-10-26T22:00", "2026-11-02T23:00"),
        (LORD_HOWE, "2026-03-30", "2026-04-06", "2026-03-30T07:00", "2026-04-06T07:30"),
        (LORD_HOWE, "2026-09-28", "2026-10-05", "2026-09-28T07:30", "2026-10-05T07:00"),
    ],
)
def test_weekly_sessions_keep_their_wall_clock_time_across_a_change(
    tz: ZoneInfo, before: str, after: str, utc_before: str, utc_after: str
) -> None:
    schedule = Schedule.weekly(MON, at("18:00"))
    found = walk(schedule, tz, f"{before}T00:00", f"{after}T23:59")
    assert found == [
        Occurrence(local(f"{before}T18:00"), utc(utc_before)),
        Occurrence(local(f"{after}T18:00"), utc(utc_after)),
    ]


def test_biweekly_sessions_across_a_change_keep_their_fortnights_and_wall_clock() -> None:
    schedule = Schedule.biweekly(dt.date(2026, 10, 15), at("08:00"))  # a Thursday
    found = walk(schedule, BERLIN, "2026-10-01T00:00", "2026-11-30T00:00")
    assert found == [
        Occurrence(local("2026-10-15T08:00"), utc("2026-10-15T06:00")),
        Occurrence(local("2026-10-29T08:00"), utc("2026-10-29T07:00")),
        Occurrence(local("2026-11-12T08:00"), utc("2026-11-12T07:00")),
        Occurrence(local("2026-11-26T08:00"), utc("2026-11-26T07:00")),
    ]


def test_a_session_on_a_day_the_calendar_skipped_still_happens() -> None:
    # Samoa moved across the date line: Friday 2011-12-30 never happened there.
    apia = ZoneInfo("Pacific/Apia")
    schedule = Schedule.weekly(4, at("10:00"))
    found = walk(schedule, apia, "2011-12-20T00:00", "2012-01-10T00:00")
    assert [o.local_start for o in found] == [
        local("2011-12-23T10:00"),
        local("2011-12-30T10:00"),
        local("2012-01-06T10:00"),
    ]
    assert found[1].start_utc == utc("2011-12-30T20:00")


# Next occurrence ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("after_utc", "expected"),
    [
        ("2026-12-03T16:59", Occurrence(local("2026-12-03T18:00"), utc("2026-12-03T17:00"))),
        # Strictly after: at the very start it is no longer next.
        ("2026-12-03T17:00", None),
        ("2026-12-03T17:01", None),
        ("2027-06-01T00:00", None),
    ],
)
def test_a_one_off_session_in_the_past_has_no_next_occurrence(
    after_utc: str, expected: Occurrence | None
) -> None:
    schedule = Schedule.once(dt.date(2026, 12, 3), at("18:00"))
    assert next_occurrence(schedule, BERLIN, utc(after_utc)) == expected


def test_the_instant_may_be_given_in_any_offset() -> None:
    schedule = Schedule.weekly(MON, at("18:00"))
    in_kolkata = dt.datetime(2026, 11, 30, 22, 29, tzinfo=ZoneInfo("Asia/Kolkata"))
    in_utc = utc("2026-11-30T16:59")
    assert in_kolkata == in_utc
    expected = Occurrence(local("2026-11-30T18:00"), utc("2026-11-30T17:00"))
    assert next_occurrence(schedule, BERLIN, in_kolkata) == expected
    assert next_occurrence(schedule, BERLIN, in_utc) == expected


def test_the_next_occurrence_needs_an_aware_instant() -> None:
    with pytest.raises(ValueError):
        next_occurrence(Schedule.weekly(MON, at("18:00")), BERLIN, local("2026-12-01T00:00"))


@pytest.mark.parametrize(
    ("tz", "expected"),
    [
        # Monday 2026-06-01 20:00 UTC is 22:00 in Berlin, after the session: next week's is next.
        (BERLIN, Occurrence(local("2026-06-08T18:00"), utc("2026-06-08T16:00"))),
        # It is 16:00 in New York, before the session: today's is next, at New York's 18:00.
        (NEW_YORK, Occurrence(local("2026-06-01T18:00"), utc("2026-06-01T22:00"))),
        # It is already Tuesday 06:00 on Lord Howe Island.
        (LORD_HOWE, Occurrence(local("2026-06-08T18:00"), utc("2026-06-08T07:30"))),
    ],
)
def test_a_new_time_zone_gives_that_zones_wall_clock_sessions(
    tz: ZoneInfo, expected: Occurrence
) -> None:
    schedule = Schedule.weekly(MON, at("18:00"))
    assert next_occurrence(schedule, tz, utc("2026-06-01T20:00")) == expected


def test_moving_between_zones_keeps_the_wall_clock_time() -> None:
    schedule = Schedule.weekly(MON, at("18:00"))
    # While the US already has summer time and Europe doesn't yet, the gap is 5 hours, not 6.
    in_berlin = next_occurrence(schedule, BERLIN, utc("2026-03-16T00:00"))
    in_new_york = next_occurrence(schedule, NEW_YORK, utc("2026-03-16T00:00"))
    assert in_berlin is not None and in_new_york is not None
    assert in_berlin.local_start == in_new_york.local_start == local("2026-03-16T18:00")
    assert in_new_york.start_utc - in_berlin.start_utc == dt.timedelta(hours=5)


# Reminder time --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tz", "wall_clock", "delay", "expected_utc"),
    [
        (BERLIN, "2026-12-03T18:00", 0, "2026-12-03T17:00"),
        (BERLIN, "2026-12-03T18:00", 90, "2026-12-03T18:30"),
        # Past local midnight: 00:30 on Friday in Berlin.
        (BERLIN, "2026-12-03T23:30", 60, "2026-12-03T23:30"),
        # The delay is real time: a 60-minute delay from the first 01:30 on New York's autumn
        # change day lands on the second 01:30, one hour later.
        (NEW_YORK, "2026-11-01T01:30", 60, "2026-11-01T06:30"),
        # And from just before Berlin's spring gap, across it: 01:30 CET + 60 min is 03:30 CEST.
        (BERLIN, "2026-03-29T01:30", 60, "2026-03-29T01:30"),
        (LORD_HOWE, "2026-10-04T01:45", 30, "2026-10-03T15:45"),
    ],
)
def test_a_reminder_is_due_the_delay_after_the_session_starts(
    tz: ZoneInfo, wall_clock: str, delay: int, expected_utc: str
) -> None:
    occurrence = occurrence_at(local(wall_clock), tz)
    assert due_at(occurrence, delay) == utc(expected_utc)


# A change of time zone ------------------------------------------------------------------------


def stored(
    kind: str,
    at_time: str,
    *,
    weekday: int | None = None,
    anchor: dt.date | None = None,
    schedule_id: int = 1,
) -> ScheduleInfo:
    """A stored schedule as the repository gives it (its next occurrence doesn't matter here)."""
    if weekday is None and anchor is not None and kind != "snooze":
        weekday = anchor.weekday()
    return ScheduleInfo(
        id=schedule_id,
        person_id=1,
        kind=ScheduleKind(kind),
        weekday=weekday,
        at_time=at(at_time),
        anchor=anchor,
        session_date=None,
        next_occurrence=None,
        next_due_at=None,
    )


THU = 3
PARIS = ZoneInfo("Europe/Paris")


@pytest.mark.parametrize(
    ("now", "weekday", "time"),
    [
        # Most of the year New York is six hours behind Berlin: Thursday 18:30 is Friday 00:30.
        ("2026-12-02T17:00", 4, "00:30"),
        # 14-28 March 2027: New York is on summer time already, Berlin not yet: five hours.
        ("2027-03-16T12:00", THU, "23:30"),
        # 31 Oct - 7 Nov 2027: Berlin is back on winter time, New York not yet: five hours.
        ("2027-11-02T12:00", THU, "23:30"),
        # The week before, both on summer time: six hours again.
        ("2027-10-26T12:00", 4, "00:30"),
    ],
)
def test_the_same_moment_from_new_york_in_berlin_follows_both_zones_clocks(
    now: str, weekday: int, time: str
) -> None:
    weekly = stored("weekly", "18:30", weekday=THU)
    moved = same_moment(weekly, NEW_YORK, BERLIN, 60, utc(now))
    assert (moved.kind, moved.weekday, moved.at_time, moved.anchor) == (
        "weekly",
        weekday,
        at(time),
        None,
    )
    # Its next session starts at the instant the New York one would.
    before = next_occurrence(plan_of(weekly), NEW_YORK, utc(now))
    after = next_occurrence(plan_of(moved), BERLIN, utc(now))
    assert before is not None and after is not None
    assert after.start_utc == before.start_utc


def test_the_offset_of_the_next_session_counts_not_todays() -> None:
    # Friday 12 March 2027: both zones on winter time today, but Thursday's session is after
    # New York's change on the 14th, so it is 23:30 in Berlin, not 00:30.
    moved = same_moment(
        stored("weekly", "18:30", weekday=THU), NEW_YORK, BERLIN, 60, utc("2027-03-12T12:00")
    )
    assert (moved.weekday, moved.at_time) == (THU, at("23:30"))


def test_a_session_going_on_now_is_the_one_that_counts() -> None:
    # Thursday 3 Dec 2026 at 19:00 in New York: the 18:30 session has started and its
    # reminder (an hour after the start) is still to come, so that session is the next one.
    once = stored("once", "18:30", anchor=dt.date(2026, 12, 3))
    moved = same_moment(once, NEW_YORK, BERLIN, 60, utc("2026-12-04T00:00"))
    assert (moved.anchor, moved.weekday, moved.at_time) == (dt.date(2026, 12, 4), 4, at("00:30"))


def test_every_two_weeks_keeps_its_fortnights_when_the_date_moves() -> None:
    biweekly = stored("biweekly", "18:30", anchor=dt.date(2026, 11, 19))  # a Thursday
    moved = same_moment(biweekly, NEW_YORK, BERLIN, 60, utc("2026-12-02T17:00"))
    assert (moved.anchor, moved.weekday, moved.at_time) == (dt.date(2026, 11, 20), 4, at("00:30"))
    before = next_occurrence(plan_of(biweekly), NEW_YORK, utc("2026-12-02T17:00"))
    after = next_occurrence(plan_of(moved), BERLIN, utc("2026-12-02T17:00"))
    assert before is not None and after is not None
    assert before.local_start == local("2026-12-03T18:30")
    assert after.start_utc == before.start_utc == utc("2026-12-03T23:30")


def test_west_moves_a_session_to_the_day_before() -> None:
    once = stored("once", "02:00", anchor=dt.date(2026, 12, 10))
    moved = same_moment(once, BERLIN, NEW_YORK, 0, utc("2026-12-02T12:00"))
    assert (moved.anchor, moved.weekday, moved.at_time) == (dt.date(2026, 12, 9), 2, at("20:00"))


def test_nothing_left_to_move_stays_as_it_is() -> None:
    passed = stored("once", "09:00", anchor=dt.date(2026, 11, 1))
    assert same_moment(passed, NEW_YORK, BERLIN, 60, utc("2026-12-02T12:00")) == passed


def test_a_snooze_keeps_its_moment_whatever_is_chosen() -> None:
    # "Remind me in an hour" at 12:00 in New York: due at 12:59 there, 18:59 in Berlin.
    snooze = stored("snooze", "12:59", anchor=dt.date(2026, 12, 2))
    now = utc("2026-12-02T17:00")
    for keep in Keep:
        moved = rezoned(snooze, NEW_YORK, BERLIN, 60, now, keep)
        assert (moved.kind, moved.weekday, moved.anchor, moved.at_time) == (
            "snooze",
            None,
            dt.date(2026, 12, 2),
            at("18:59"),
        )
        _, due = first_due(moved, BERLIN, 60, now)
        assert due == utc("2026-12-02T17:59")


def test_a_one_off_that_would_pass_at_its_time_of_day_keeps_its_moment() -> None:
    # 12:00 in New York, a session today at 14:00 there: 14:00 in Berlin passed hours ago.
    once = stored("once", "14:00", anchor=dt.date(2026, 12, 2))
    now = utc("2026-12-02T17:00")
    kept = rezoned(once, NEW_YORK, BERLIN, 60, now, Keep.LOCAL)
    assert (kept.anchor, kept.at_time) == (dt.date(2026, 12, 2), at("20:00"))
    assert first_due(kept, BERLIN, 60, now)[1] == utc("2026-12-02T20:00")
    # One still to come at its time of day keeps it, as asked.
    later = stored("once", "14:00", anchor=dt.date(2026, 12, 9))
    assert rezoned(later, NEW_YORK, BERLIN, 60, now, Keep.LOCAL) == later


def test_the_weekly_summary_stays_at_its_time_of_day() -> None:
    summary = stored("summary", "18:00", weekday=6)
    for keep in Keep:
        assert rezoned(summary, NEW_YORK, BERLIN, 60, utc("2026-12-02T17:00"), keep) == summary


def test_a_question_only_where_the_choice_changes_something() -> None:
    now = utc("2026-12-02T17:00")
    weekly = stored("weekly", "18:30", weekday=THU, schedule_id=1)
    passing = stored("once", "14:00", anchor=dt.date(2026, 12, 2), schedule_id=2)
    snooze = stored("snooze", "12:59", anchor=dt.date(2026, 12, 2), schedule_id=3)
    found = moves([weekly, passing, snooze], NEW_YORK, BERLIN, 60, now)
    assert [(local_.id, moment.weekday, moment.at_time) for local_, moment in found] == [
        (1, 4, at("00:30"))
    ]
    assert found[0][0] == weekly
    # Paris and Berlin keep the same time all year: nothing to ask.
    assert moves([weekly, passing], PARIS, BERLIN, 60, now) == []
    # Nor is there without sessions.
    assert moves([snooze], NEW_YORK, BERLIN, 60, now) == []


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        # From December the two zones keep step for twelve weeks (New York changes on 14 March).
        ("2026-12-02T17:00", None),
        # Kept at 00:30 Berlin on 10 March, the session of 18 March is an hour off New York's.
        ("2027-03-10T12:00", dt.date(2027, 3, 18)),
        # Kept at 23:30 in the gap, it is off again once Berlin changes too (28 March).
        ("2027-03-16T12:00", dt.date(2027, 4, 1)),
    ],
)
def test_drift_says_when_the_same_moment_stops_being_the_same(
    now: str, expected: dt.date | None
) -> None:
    weekly = stored("weekly", "18:30", weekday=THU)
    moved = same_moment(weekly, NEW_YORK, BERLIN, 60, utc(now))
    assert drift(weekly, moved, NEW_YORK, BERLIN, utc(now)) == expected


def test_a_one_off_never_drifts() -> None:
    once = stored("once", "18:30", anchor=dt.date(2027, 3, 11))
    moved = same_moment(once, NEW_YORK, BERLIN, 60, utc("2027-03-10T12:00"))
    assert drift(once, moved, NEW_YORK, BERLIN, utc("2027-03-10T12:00")) is None
