"""Parsing what people type: ratings 1-10 and session dates."""

from __future__ import annotations

import datetime as dt

import pytest

from conversations.worksheet.content import t
from conversations.worksheet.parsing import parse_date, parse_rating, rating_problem

TODAY = dt.date(2026, 11, 25)  # a Wednesday
TUESDAY = dt.date(2026, 11, 24)
SUNDAY = dt.date(2026, 11, 29)
SATURDAY_IN_JANUARY = dt.date(2027, 1, 2)


# Ratings --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1", 1), ("7", 7), ("10", 10), (" 7 ", 7), ("\t3\n", 3), ("07", 7), ("01", 1)],
)
def test_whole_numbers_from_1_to_10_are_ratings(text: str, expected: int) -> None:
    assert parse_rating(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        *(("7/10", 7), ("7 / 10", 7), ("10/10", 10), ("1 /10", 1), ("7/10 🙂", 7)),
        *(("7 of 10", 7), ("7 out of 10", 7), ("7 OUT OF 10", 7), ("seven out of ten", 7)),
        *(("7 von 10", 7), ("sieben von zehn", 7)),
        *(("7 👍", 7), ("7👍", 7), ("👍 7", 7), ("7 😔🙏", 7), ("7 👍🏽", 7), ("7️⃣", 7)),
        *(("7!", 7), ("7.", 7), ("7!!", 7), ("(7)", 7), ("7...", 7), ("«7»", 7)),
        *(("seven", 7), ("Seven", 7), ("ten", 10), ("one", 1), ("  SEVEN  ", 7), ("Ten!", 10)),
        *(("sieben", 7), ("Zehn", 10), ("eins", 1), ("fünf", 5), ("fuenf", 5)),
        # "fünf" with its umlaut as a letter and a combining mark, as some keyboards send it.
        ("fu\u0308nf", 5),
        *(("7.0", 7), ("7,0", 7)),
    ],
)
def test_ratings_as_people_type_them(text: str, expected: int) -> None:
    assert parse_rating(text) == expected
    assert rating_problem(text) is None


@pytest.mark.parametrize(
    "text",
    [
        *("0", "11", "00", "-1", "+7", "100", "007", "12345678901234567890", "9" * 5000),
        *("7.5", "7,5", "7/5", "70/100", "7/100", "7 of 100", "3/5", "7/10/10", "7 8", "7-8"),
        *("", " ", "1e1", "0x7", "purple", "👍", "sev", "a", "seven and a half", "7 apples"),
        # Digits of other scripts: int() would take these, the bot must not.
        *("٧", "０", "７", "²", "۷", "७", "٧/١٠"),
    ],
)
def test_anything_else_is_not_a_rating(text: str) -> None:
    assert parse_rating(text) is None
    assert rating_problem(text) is not None


def test_the_range_can_change() -> None:
    assert parse_rating("0", low=0, high=5) == 0
    assert parse_rating("5", low=0, high=5) == 5
    assert parse_rating("6", low=0, high=5) is None


def test_a_range_up_to_240_takes_three_digits() -> None:
    """/settings reads minutes with parse_rating(text, 0, 240): its buttons go up to 240."""
    assert parse_rating("120", 0, 240) == 120
    assert parse_rating("240", 0, 240) == 240
    assert parse_rating("0", 0, 240) == 0
    assert parse_rating("241", 0, 240) is None
    assert parse_rating("0240", 0, 240) is None
    assert parse_rating("7/10", 0, 240) is None
    assert rating_problem("300", 0, 240) == "input.rating_above"
    assert rating_problem("-5", 0, 240) == "input.rating_below"


# Why a text is not a rating -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        *(("11", "above"), ("12", "above"), ("100", "above"), ("11/10", "above")),
        *(("70%", "above"), ("10.5", "above"), ("12345678901234567890", "above")),
        *(("0", "below"), ("00", "below"), ("-1", "below"), ("−3", "below"), ("0/10", "below")),
        *(("0.5", "below"), ("0 👎", "below")),
        *(("7.5", "not_whole"), ("7,5", "not_whole"), ("6.25", "not_whole")),
        *(("7.5/10", "not_whole"), ("7.5 out of 10", "not_whole")),
        *(("7-8", "between"), ("7 - 8", "between"), ("7–8", "between"), ("7 8", "between")),
        *(("7 or 8", "between"), ("7 to 8", "between"), ("seven or eight", "between")),
        *(("7 oder 8", "between"), ("7-8/10", "between")),
        *(("purple", "unreadable"), ("", "unreadable"), ("😭", "unreadable")),
        *(("70/100", "unreadable"), ("3/5", "unreadable"), ("007", "unreadable")),
        *(("٧", "unreadable"), ("０", "unreadable"), ("²", "unreadable"), ("+7", "unreadable")),
        *(("7 or 11", "unreadable"), ("7-", "unreadable"), ("1/2/3/4", "unreadable")),
        *(("seven eight nine", "unreadable"), ("semь", "unreadable")),
    ],
)
def test_rating_problem_says_why(text: str, problem: str) -> None:
    assert rating_problem(text) == f"input.rating_{problem}"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("11", "above 10"),
        ("0", "starts at 1"),
        ("7.5", "whole numbers"),
        ("7-8", "in between"),
        ("purple", "from 1 to 10"),
    ],
)
def test_each_problem_has_a_reply_that_says_what_works(text: str, words: str) -> None:
    problem = rating_problem(text)
    assert problem is not None
    reply = t(problem)
    assert words in reply
    assert "7" in reply or "1" in reply


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
        # The bot's own way of showing a date, typed back; the weekday has to fit.
        *("Fri 20 Nov 2026", "Friday, 20 November", "Fr. 20.11.", "Freitag, 20.11.2026"),
        # A dot after the day and no space, as German dates are written.
        *("20. Nov.", "20.Nov", "20.November", "Freitag, 20. November"),
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
        ("28. October", dt.date(2026, 10, 28)),
        ("28.10", dt.date(2026, 10, 28)),
        ("28.10.", dt.date(2026, 10, 28)),
        ("the day before yesterday", dt.date(2026, 11, 23)),
        ("The day before yesterday.", dt.date(2026, 11, 23)),
        ("day before yesterday", dt.date(2026, 11, 23)),
    ],
)
def test_words_and_numbers(text: str, expected: dt.date) -> None:
    assert parse_date(text, TODAY) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("28. Oktober", dt.date(2026, 10, 28)),
        ("28. Okt.", dt.date(2026, 10, 28)),
        ("28 okt", dt.date(2026, 10, 28)),
        ("3. Dez", dt.date(2025, 12, 3)),
        ("3. Dezember 2025", dt.date(2025, 12, 3)),
        ("3. März", dt.date(2026, 3, 3)),
        ("3. Mär", dt.date(2026, 3, 3)),
        ("3. Maerz", dt.date(2026, 3, 3)),
        ("3. MÄRZ", dt.date(2026, 3, 3)),
        # "März" with its umlaut as a letter and a combining mark.
        ("3. Ma\u0308rz", dt.date(2026, 3, 3)),
        ("3. Mrz.", dt.date(2026, 3, 3)),
        ("1. Mai", dt.date(2026, 5, 1)),
        ("15. Juni", dt.date(2026, 6, 15)),
        ("15. Juli 2026", dt.date(2026, 7, 15)),
        ("6. Jänner", dt.date(2026, 1, 6)),
        ("heute", TODAY),
        ("Heute", TODAY),
        ("gestern", dt.date(2026, 11, 24)),
        ("Gestern.", dt.date(2026, 11, 24)),
        ("vorgestern", dt.date(2026, 11, 23)),
        ("Montag", dt.date(2026, 11, 23)),
        ("Mo", dt.date(2026, 11, 23)),
        ("Di.", dt.date(2026, 11, 24)),
        ("Mittwoch", TODAY),
        ("letzten Dienstag", dt.date(2026, 11, 24)),
        ("letzten Mittwoch", dt.date(2026, 11, 18)),
        ("letzter Mi.", dt.date(2026, 11, 18)),
        ("vergangenen Sonntag", dt.date(2026, 11, 22)),
        ("am Montag", dt.date(2026, 11, 23)),
        ("Sonnabend", dt.date(2026, 11, 21)),
        ("vor 2 Tagen", dt.date(2026, 11, 23)),
        ("vor zwei Tagen", dt.date(2026, 11, 23)),
        ("vor einer Woche", dt.date(2026, 11, 18)),
        ("vor 3 Wochen", dt.date(2026, 11, 4)),
        ("vor einem Tag", dt.date(2026, 11, 24)),
    ],
)
def test_german_words_work_in_the_english_bot(text: str, expected: dt.date) -> None:
    assert parse_date(text, TODAY) == expected


# Weekdays and days back -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # On a Tuesday, "tuesday" is today and "last tuesday" a week ago.
        ("tuesday", TUESDAY),
        ("Tuesday", TUESDAY),
        ("tue", TUESDAY),
        ("tues.", TUESDAY),
        ("on tuesday", TUESDAY),
        ("last tuesday", dt.date(2026, 11, 17)),
        ("Last Tuesday.", dt.date(2026, 11, 17)),
        ("this past tuesday", dt.date(2026, 11, 17)),
        ("mon", dt.date(2026, 11, 23)),
        ("monday", dt.date(2026, 11, 23)),
        ("on monday", dt.date(2026, 11, 23)),
        ("On Monday", dt.date(2026, 11, 23)),
        ("last monday", dt.date(2026, 11, 23)),
        ("wednesday", dt.date(2026, 11, 18)),
        ("last wednesday", dt.date(2026, 11, 18)),
        ("sunday", dt.date(2026, 11, 22)),
        ("sat", dt.date(2026, 11, 21)),
        ("thursday", dt.date(2026, 11, 19)),
        ("thurs", dt.date(2026, 11, 19)),
        ("fri", dt.date(2026, 11, 20)),
        ("2 days ago", dt.date(2026, 11, 22)),
        ("two days ago", dt.date(2026, 11, 22)),
        ("1 day ago", dt.date(2026, 11, 23)),
        ("a day ago", dt.date(2026, 11, 23)),
        ("a week ago", dt.date(2026, 11, 17)),
        ("A week ago.", dt.date(2026, 11, 17)),
        ("one week ago", dt.date(2026, 11, 17)),
        ("3 weeks ago", dt.date(2026, 11, 3)),
        ("three weeks ago", dt.date(2026, 11, 3)),
        ("10 days ago", dt.date(2026, 11, 14)),
        ("0 days ago", TUESDAY),
    ],
)
def test_weekdays_and_days_back_on_a_tuesday(text: str, expected: dt.date) -> None:
    assert parse_date(text, TUESDAY) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # On a Sunday, "sunday" is today, "last sunday" a week ago, the others this week's.
        ("sunday", SUNDAY),
        ("sun", SUNDAY),
        ("on sunday", SUNDAY),
        ("last sunday", dt.date(2026, 11, 22)),
        ("Sonntag", SUNDAY),
        ("So.", SUNDAY),
        ("letzten Sonntag", dt.date(2026, 11, 22)),
        ("monday", dt.date(2026, 11, 23)),
        ("last monday", dt.date(2026, 11, 23)),
        ("saturday", dt.date(2026, 11, 28)),
        ("last saturday", dt.date(2026, 11, 28)),
        ("a week ago", dt.date(2026, 11, 22)),
    ],
)
def test_weekdays_on_a_sunday(text: str, expected: dt.date) -> None:
    assert parse_date(text, SUNDAY) == expected


@pytest.mark.parametrize(
    ("text", "today", "expected"),
    [
        ("mon", SATURDAY_IN_JANUARY, dt.date(2026, 12, 28)),
        ("last friday", SATURDAY_IN_JANUARY, dt.date(2027, 1, 1)),
        ("last saturday", SATURDAY_IN_JANUARY, dt.date(2026, 12, 26)),
        ("Montag", SATURDAY_IN_JANUARY, dt.date(2026, 12, 28)),
        ("a week ago", SATURDAY_IN_JANUARY, dt.date(2026, 12, 26)),
        ("the day before yesterday", dt.date(2027, 1, 1), dt.date(2026, 12, 30)),
        ("vorgestern", dt.date(2027, 3, 1), dt.date(2027, 2, 27)),
        ("2 days ago", dt.date(2028, 3, 1), dt.date(2028, 2, 28)),
        ("yesterday", dt.date(2028, 3, 1), dt.date(2028, 2, 29)),
        ("3 weeks ago", dt.date(2026, 12, 10), dt.date(2026, 11, 19)),
        ("tuesday", dt.date(2026, 12, 1), dt.date(2026, 12, 1)),
        ("last tuesday", dt.date(2026, 12, 1), dt.date(2026, 11, 24)),
    ],
)
def test_weekdays_and_days_back_across_months_and_years(
    text: str, today: dt.date, expected: dt.date
) -> None:
    assert parse_date(text, today) == expected


def test_today_and_yesterday_follow_the_given_day() -> None:
    new_year = dt.date(2027, 1, 1)
    assert parse_date("today", new_year) == new_year
    assert parse_date("yesterday", new_year) == dt.date(2026, 12, 31)
    assert parse_date("gestern", new_year) == dt.date(2026, 12, 31)


# Dates without a year -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("25.11.", TODAY),
        ("24 Nov", dt.date(2026, 11, 24)),
        # Not yet this year, so last year's.
        ("26.11.", dt.date(2025, 11, 26)),
        ("Dec 20", dt.date(2025, 12, 20)),
        ("20. Dezember", dt.date(2025, 12, 20)),
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
    assert parse_date("30. Dez.", january) == dt.date(2026, 12, 30)
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
        *("٢٠.١١.٢٠٢٦", "２０.１１.２０２６", "20.11.２０２６", "२० Nov", "٢ days ago"),
        # Weekdays and days back that say nothing, or something else.
        *("next monday", "monday next week", "last", "on", "the monday", "last mon day"),
        *("days ago", "2 days", "ago", "2 months ago", "a year ago", "1000 days ago"),
        *("two and a half days ago", "2 fortnights ago", "vor Tagen", "vor 2", "gestern 20.11."),
        *("m", "mo 5", "letzte Woche", "vor einer Stunde", "monday tuesday"),
        # A weekday that doesn't fit the date with it: which of the two was meant is unknown.
        *("Thu 20 Nov 2026", "Mo 20.11.", "Sunday 2026-11-20"),
        # The start of both Sonntag (Sunday) and Sonnabend (Saturday): ambiguous.
        *("sonn", "letzten Sonn"),
    ],
)
def test_impossible_or_unreadable_dates_are_none(text: str) -> None:
    assert parse_date(text, TODAY) is None


def test_dates_far_back_or_ahead_are_still_parsed_for_the_caller_to_judge() -> None:
    assert parse_date("20.11.2020", TODAY) == dt.date(2020, 11, 20)
    assert parse_date("2027-01-01", TODAY) == dt.date(2027, 1, 1)
    assert parse_date("20.11.99", TODAY) == dt.date(2099, 11, 20)
    assert parse_date("999 weeks ago", TODAY) == TODAY - dt.timedelta(weeks=999)
