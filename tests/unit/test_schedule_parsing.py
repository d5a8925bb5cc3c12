"""/schedule's plain functions: typed times and coming dates, zone names, schedules in words."""

from __future__ import annotations

import datetime as dt

import pytest

from conversations.sections.schedule import describe
from conversations.worksheet.content import t
from conversations.worksheet.dates import (
    parse_coming_date,
    parse_time,
    plan_date_problem,
    zone_label,
)
from storage.repository import ScheduleInfo

TODAY = dt.date(2026, 11, 25)  # a Wednesday


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("17:00", dt.time(17, 0)),
        ("17.30", dt.time(17, 30)),
        ("17h30", dt.time(17, 30)),
        ("17h", dt.time(17, 0)),
        ("9", dt.time(9, 0)),
        (" 09:05 ", dt.time(9, 5)),
        ("0:00", dt.time(0, 0)),
        ("5pm", dt.time(17, 0)),
        ("5 PM", dt.time(17, 0)),
        ("9:30 am", dt.time(9, 30)),
        ("5p.m.", dt.time(17, 0)),
        ("12pm", dt.time(12, 0)),
        ("12am", dt.time(0, 0)),
        ("1730", dt.time(17, 30)),  # four digits, as on a 24-hour clock
        ("6.30pm", dt.time(18, 30)),
    ],
)
def test_times_people_type(text: str, expected: dt.time) -> None:
    assert parse_time(text) == expected


@pytest.mark.parametrize(
    "text",
    ["24:00", "25", "17:60", "13pm", "0am", "9.5", "2460", "five", "", "١٧:٠٠", "17:00:00"],
)
def test_what_is_no_time(text: str) -> None:
    assert parse_time(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("today", TODAY),
        ("tomorrow", dt.date(2026, 11, 26)),
        ("4 Dec", dt.date(2026, 12, 4)),
        ("26 Nov", dt.date(2026, 11, 26)),
        # Without a year, a date some time ago is next year's...
        ("1 Jan", dt.date(2027, 1, 1)),
        ("1.3.", dt.date(2027, 3, 1)),
        # ...but one less than a month ago stays (and is refused as past).
        ("20 Nov", dt.date(2026, 11, 20)),
        ("yesterday", dt.date(2026, 11, 24)),
        # A year given is kept.
        ("2026-01-05", dt.date(2026, 1, 5)),
        ("05.01.2027", dt.date(2027, 1, 5)),
    ],
)
def test_coming_dates(text: str, expected: dt.date) -> None:
    assert parse_coming_date(text, TODAY) == expected


def test_no_date() -> None:
    assert parse_coming_date("next session", TODAY) is None


def test_a_date_must_be_today_or_within_a_year() -> None:
    assert plan_date_problem(TODAY, TODAY) is None
    assert plan_date_problem(dt.date(2027, 11, 25), TODAY) is None
    assert plan_date_problem(dt.date(2026, 11, 24), TODAY) == "schedule.date_past"
    assert plan_date_problem(dt.date(2027, 11, 27), TODAY) == "schedule.date_too_far"


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("Etc/GMT-2", "UTC+2"),
        ("Etc/GMT+5", "UTC-5"),
        ("Etc/UTC", "UTC"),
        ("America/New_York", "America/New York"),
        ("Europe/Berlin", "Europe/Berlin"),
    ],
)
def test_zone_labels(name: str, label: str) -> None:
    assert zone_label(name) == label


def schedule(kind: str, weekday: int | None, anchor: dt.date | None) -> ScheduleInfo:
    return ScheduleInfo(
        id=1,
        person_id=1,
        kind=kind,
        weekday=weekday,
        at_time=dt.time(9, 30),
        anchor=anchor,
        session_date=None,
        next_occurrence=None,
        next_due_at=None,
    )


NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)


def test_schedules_in_words() -> None:
    weekly = schedule("weekly", 1, None)
    assert describe(weekly, "Europe/Berlin", NOW) == "Every Tuesday at 09:30"
    # Every two weeks from Thursday 3 Dec 2026: on 25 Nov the next one is that first one,
    biweekly = schedule("biweekly", 3, dt.date(2026, 12, 3))
    expected = "Every two weeks on Thursday at 09:30 (next: 3 Dec)"
    assert describe(biweekly, "Europe/Berlin", NOW) == expected
    # and on 4 Dec the one two weeks after it.
    later = NOW + dt.timedelta(days=9)
    assert describe(biweekly, "Europe/Berlin", later).endswith("(next: 17 Dec)")
    once = schedule("once", 4, dt.date(2026, 12, 4))
    assert describe(once, "Europe/Berlin", NOW) == "Once: Fri 4 Dec at 09:30"
    passed = t("schedule.passed", text="Once: Fri 4 Dec at 09:30")
    assert describe(once, "Europe/Berlin", NOW + dt.timedelta(days=10)) == passed
