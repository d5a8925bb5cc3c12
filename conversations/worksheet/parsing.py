"""Parsing what people type: ratings and dates. Plain functions, unit-tested."""

from __future__ import annotations

import datetime as dt
import re

RATING = re.compile(r"[0-9]{1,2}")


def parse_rating(text: str, low: int = 1, high: int = 10) -> int | None:
    """A whole number from low to high written with ASCII digits, else None.

    "7" and " 7 " are taken; "0", "11", "7.5", "seven", "٧", "０", "²" and long digit strings
    are not (Python's int() would accept some of those, which is why this does not use it).
    """
    value = text.strip()
    if not RATING.fullmatch(value):
        return None
    number = int(value)
    return number if low <= number <= high else None


MONTHS = (
    *("january", "february", "march", "april", "may", "june"),
    *("july", "august", "september", "october", "november", "december"),
)
TODAY_WORDS = frozenset({"today"})
YESTERDAY_WORDS = frozenset({"yesterday"})
# [0-9] rather than \d: \d also matches other scripts' digits, which int() would then accept.
ISO_DATE = re.compile(
    r"(?P<year>[0-9]{4})(?P<sep>[-/.])(?P<month>[0-9]{1,2})(?P=sep)(?P<day>[0-9]{1,2})"
)
NUMERIC_DATE = re.compile(
    r"(?P<day>[0-9]{1,2})(?P<sep>[./-])(?P<month>[0-9]{1,2})"
    r"(?:(?P=sep)(?P<year>[0-9]{4}|[0-9]{2})?)?"
)
DAY_FIRST = re.compile(
    r"(?P<day>[0-9]{1,2})(?:st|nd|rd|th)?\.? ?(?:of )?(?P<month>[a-z]+)\.?"
    r"(?: (?P<year>[0-9]{4}|[0-9]{2}))?"
)
MONTH_FIRST = re.compile(
    r"(?P<month>[a-z]+)\.? (?P<day>[0-9]{1,2})(?:st|nd|rd|th)?"
    r"(?: (?P<year>[0-9]{4}|[0-9]{2}))?"
)


def parse_date(text: str, today: dt.date) -> dt.date | None:
    """A calendar date in a common written form, else None.

    Takes "today", "yesterday", 2026-11-20, 20.11.2026, 20/11/2026, 20.11.26, 20.11., 20 Nov,
    Nov 20, 20th of November 2026, November 20, 2026. Slashes are day first unless only the
    other order makes a date (11/20/2026). Without a year, the date is the latest one that is not
    after `today`. Whether the date is too far back or ahead is for the caller to judge.
    """
    value = " ".join(text.lower().replace(",", " ").split())
    word = value.rstrip(".!")
    if word in TODAY_WORDS:
        return today
    if word in YESTERDAY_WORDS:
        return today - dt.timedelta(days=1)
    if match := ISO_DATE.fullmatch(value):
        return _date(int(match["year"]), int(match["month"]), int(match["day"]))
    if match := NUMERIC_DATE.fullmatch(value):
        day, month = int(match["day"]), int(match["month"])
        if match["sep"] == "/" and month > 12 >= day:
            day, month = month, day
        return _resolve(day, month, match["year"], today)
    for form in (DAY_FIRST, MONTH_FIRST):
        if (match := form.fullmatch(value)) and (number := _month(match["month"])):
            return _resolve(int(match["day"]), number, match["year"], today)
    return None


def _month(name: str) -> int | None:
    """1-12 for an English month name or its first three or more letters."""
    if len(name) < 3:
        return None
    return next((n for n, full in enumerate(MONTHS, start=1) if full.startswith(name)), None)


def _resolve(day: int, month: int, year: str | None, today: dt.date) -> dt.date | None:
    """The date for a day and month, in the given year or the latest one not after today."""
    if year is not None:
        return _date(int(year) + (2000 if len(year) == 2 else 0), month, day)
    this_year = _date(today.year, month, day)
    if this_year is not None and this_year <= today:
        return this_year
    return _date(today.year - 1, month, day)


def _date(year: int, month: int, day: int) -> dt.date | None:
    """The date, or None if there is no such day (31.02., month 13)."""
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None
