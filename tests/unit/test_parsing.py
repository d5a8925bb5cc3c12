"""Parsing what people type: ratings 1-10 and session dates."""

from __future__ import annotations

import datetime as dt

import pytest

from conversations.worksheet.parsing import parse_date, parse_rating

TODAY = dt.date(2026, 11, 25)


# Ratings --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1", 1), ("7", 7), ("10", 10), (" 7 ", 7), ("\t3\n", 3), ("07", 7), ("01", 1)],
)
def test_whole_numbers_from_1_to_10_are_ratings(text: str, expected: int) -> None:
    assert parse_rating(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        *("0", "11", "00", "-1", "+7", "100", "007"),
        *("7.5", "7,5", "seven", "7/10", "7 8", "", " ", "1e1", "0x7"),
        # Digits of other scripts: int() would take these, the bot must not.
        *("٧", "０", "７", "²", "۷", "७"),
    ],
)
def test_anything_else_is_not_a_rating(text: str) -> None:
    assert parse_rating(text) is None


def test_the_range_can_change() -> None:
    assert parse_rating("0", low=0, high=5) == 0
    assert parse_rating("5", low=0, high=5) == 5
    assert parse_rating("6", low=0, high=5) is None


# Dates: the forms people write ----------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        *("2026-11-20", "2026/11/20", "2026.11.20", "2026-11-20 "),
        *("20.11.2026", "20/11/2026", "20-11-2026", "20.11.26", "20/11/26"),
        *("20.11.", "20.11", "20/11"),
        *("20 Nov", "20 nov", "20 NOV", "20 Nov.", "20nov", "20. November", "20 November"),
        *("20th Nov", "20th of November", "20 Nov 2026", "20 November 2026", "20 Nov, 2026"),
        *("Nov 20", "nov 20", "Nov. 20", "November 20", "Nov 20th", "Nov 20, 2026"),
        *("November 20 2026", "  20   Nov  ", "20 novem"),
        # Slashes are read day first, unless only month first makes a date.
        "11/20/2026",
    ],
)
def test_common_forms_of_one_date(text: str) -> None:
    assert parse_date(text, TODAY) == dt.date(2026, 11, 20)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("today", TODAY),
        ("Today", TODAY),
        (" TODAY. ", TODAY),
        ("yesterday", dt.date(2026, 11, 24)),
        ("Yesterday!", dt.date(2026, 11, 24)),
        ("1.2.2026", dt.date(2026, 2, 1)),
        ("01.02.2026", dt.date(2026, 2, 1)),
        ("2026-2-1", dt.date(2026, 2, 1)),
        ("5/6/2026", dt.date(2026, 6, 5)),
        ("1 Sept 2026", dt.date(2026, 9, 1)),
        ("3rd Mar", dt.date(2026, 3, 3)),
        ("May 2", dt.date(2026, 5, 2)),
        ("22 Jun 2025", dt.date(2025, 6, 22)),
        ("29.02.2024", dt.date(2024, 2, 29)),
    ],
)
def test_words_and_numbers(text: str, expected: dt.date) -> None:
    assert parse_date(text, TODAY) == expected


def test_today_and_yesterday_follow_the_given_day() -> None:
    new_year = dt.date(2027, 1, 1)
    assert parse_date("today", new_year) == new_year
    assert parse_date("yesterday", new_year) == dt.date(2026, 12, 31)


# Dates without a year -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("25.11.", TODAY),
        ("24 Nov", dt.date(2026, 11, 24)),
        # Not yet this year, so last year's.
        ("26.11.", dt.date(2025, 11, 26)),
        ("Dec 20", dt.date(2025, 12, 20)),
        ("1 January", dt.date(2026, 1, 1)),
    ],
)
def test_without_a_year_the_date_is_the_latest_not_after_today(
    text: str, expected: dt.date
) -> None:
    assert parse_date(text, TODAY) == expected


def test_without_a_year_around_new_year() -> None:
    january = dt.date(2027, 1, 3)
    assert parse_date("30 Dec", january) == dt.date(2026, 12, 30)
    assert parse_date("2.1.", january) == dt.date(2027, 1, 2)


def test_leap_day_without_a_year_in_a_leap_year() -> None:
    assert parse_date("29.02.", dt.date(2028, 3, 1)) == dt.date(2028, 2, 29)


# Dates that do not exist, and nonsense --------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        *("31.02.2026", "30.02.", "29.02.2026", "32.01.2026", "00.01.2026", "1.13.2026"),
        *("2026-13-01", "2026-02-30", "31 Feb", "Feb 30", "0 Nov", "31 Nov", "13/13/2026"),
        *("", "   ", "tomorrow", "last week", "hello", "Nov", "20", "2026", "20.11.2026.1"),
        *("20 Novembre", "20 nv", "20 no", "ma 5", "20 Nov 202", "20.11.202", "2026-11"),
        *("20-11/2026", "20.11/2026", "1/2/3/4", "20 Nov 2026 10:00", "yesterday 20 nov"),
        # Digits of other scripts are not read as numbers.
        *("٢٠.١١.٢٠٢٦", "２０.１１.２０２６", "20.11.２０２６", "२० Nov"),
    ],
)
def test_impossible_or_unreadable_dates_are_none(text: str) -> None:
    assert parse_date(text, TODAY) is None


def test_dates_far_back_or_ahead_are_still_parsed_for_the_caller_to_judge() -> None:
    assert parse_date("20.11.2020", TODAY) == dt.date(2020, 11, 20)
    assert parse_date("2027-01-01", TODAY) == dt.date(2027, 1, 1)
    assert parse_date("20.11.99", TODAY) == dt.date(2099, 11, 20)
