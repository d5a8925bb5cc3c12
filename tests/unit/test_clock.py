"""Times in a person's own convention: a 12-hour clock where their zone's country reads one."""

from __future__ import annotations

import datetime as dt

import pytest

from conversations.worksheet.dates import (
    TWELVE_HOUR_REGIONS,
    clock,
    parse_time,
    show_when,
    twelve_hour,
    zone_city,
    zone_confirmation,
)


@pytest.mark.parametrize(
    ("zone", "twelve"),
    [
        ("America/New_York", True),
        ("America/Los_Angeles", True),
        ("Pacific/Honolulu", True),
        ("America/Toronto", True),
        ("Australia/Sydney", True),
        ("Asia/Kolkata", True),
        ("America/Puerto_Rico", True),
        # Old aliases are the zones they stand for.
        ("US/Eastern", True),
        ("Asia/Calcutta", True),
        ("Europe/Berlin", False),
        ("Europe/London", False),
        ("America/Sao_Paulo", False),
        ("Asia/Tokyo", False),
        # UTC offsets and unknown zones say nothing about a country: 24 hours.
        ("Etc/GMT+5", False),
        ("Etc/UTC", False),
        ("UTC", False),
        ("Nowhere/Special", False),
        (None, False),
    ],
)
def test_a_zone_says_which_clock(zone: str | None, twelve: bool) -> None:
    assert twelve_hour(zone) is twelve


def test_the_rule_is_cldrs_regions() -> None:
    assert {"US", "CA", "AU", "NZ", "IN", "PH", "EG", "MX", "KR"} <= TWELVE_HOUR_REGIONS
    assert not {"DE", "GB", "FR", "BR", "JP", "CN", "RU", "IE"} & TWELVE_HOUR_REGIONS


@pytest.mark.parametrize(
    ("at", "twelve", "twenty_four"),
    [
        (dt.time(18, 30), "6:30 pm", "18:30"),
        (dt.time(0, 5), "12:05 am", "00:05"),
        (dt.time(12, 0), "12:00 pm", "12:00"),
        (dt.time(9, 0), "9:00 am", "09:00"),
        (dt.time(23, 59), "11:59 pm", "23:59"),
    ],
)
def test_times_on_either_clock(at: dt.time, twelve: str, twenty_four: str) -> None:
    assert clock(at, "America/New_York") == twelve
    assert clock(dt.datetime.combine(dt.date(2026, 12, 3), at), "America/New_York") == twelve
    assert clock(at, "Europe/Berlin") == twenty_four
    assert clock(at) == twenty_four


def test_dates_with_times_and_the_zone_confirmation_use_the_persons_clock() -> None:
    moment = dt.datetime(2026, 12, 3, 18, 30)
    assert show_when(moment, "America/New_York") == "Thu 3 Dec at 6:30 pm"
    assert show_when(moment, "Europe/Berlin") == "Thu 3 Dec at 18:30"
    now = dt.datetime(2026, 12, 2, 17, 0, tzinfo=dt.UTC)
    assert "It is 12:00 pm there now" in zone_confirmation("America/New_York", now)
    assert "It is 18:00 there now" in zone_confirmation("Europe/Berlin", now)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("6:30 pm", dt.time(18, 30)),
        ("6.30pm", dt.time(18, 30)),
        ("6:30 p.m.", dt.time(18, 30)),
        ("18:30", dt.time(18, 30)),
        ("1830", dt.time(18, 30)),
        ("0930", dt.time(9, 30)),
        ("930", dt.time(9, 30)),
        ("630pm", dt.time(18, 30)),
        ("1230am", dt.time(0, 30)),
        ("12:00 pm", dt.time(12, 0)),
        # Without am or pm, the 24-hour reading: 6:30 is in the morning (and shown so).
        ("6:30", dt.time(6, 30)),
    ],
)
def test_typed_times_on_either_clock(text: str, expected: dt.time) -> None:
    assert parse_time(text) == expected


@pytest.mark.parametrize("text", ["2400", "1860", "1330pm", "12345", "18:3", "6:30 pn"])
def test_what_still_is_no_time(text: str) -> None:
    assert parse_time(text) is None


@pytest.mark.parametrize(
    ("zone", "city"),
    [
        ("America/New_York", "New York"),
        ("Europe/Berlin", "Berlin"),
        ("America/Argentina/Buenos_Aires", "Buenos Aires"),
        ("Etc/GMT-2", "UTC+2"),
        ("Etc/UTC", "UTC"),
    ],
)
def test_a_zone_by_its_place(zone: str, city: str) -> None:
    assert zone_city(zone) == city
