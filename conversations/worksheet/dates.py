"""Dates and times as a person types and reads them, in their own time zone (Telegram-free)."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

from conversations.worksheet import timeplan
from conversations.worksheet.content import Html, items, t
from conversations.worksheet.parsing import parse_date
from storage.models import utcnow

# "About a year": older session dates are most likely a typo in the year.
MAX_AGE = dt.timedelta(days=366)
# How far ahead a one-off session can be planned, and how recent a past date without a year
# must be to stay in the past (a slip rather than next year's).
MAX_AHEAD = dt.timedelta(days=366)
RECENT = dt.timedelta(days=31)

TIME_TEXT = re.compile(
    r"(?P<hour>[0-9]{1,2})(?:(?:[:.h]|\s?h\s?)(?P<minute>[0-9]{2}))?h?"
    r"\s?(?:(?P<am>a\.?m\.?)|(?P<pm>p\.?m\.?))?"
)


def local_today(timezone: str | None, now: dt.datetime | None = None) -> dt.date:
    """Today's date where the person lives (in UTC while their time zone is unknown)."""
    zone: dt.tzinfo = dt.UTC
    if timezone:
        try:
            zone = zoneinfo.ZoneInfo(timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            zone = dt.UTC
    return (now or dt.datetime.now(dt.UTC)).astimezone(zone).date()


def session_date_problem(day: dt.date, today: dt.date) -> str | None:
    """The content key saying why a session date can't be logged, or None if it can."""
    if day > today:
        return "log.date_future"
    if day < today - MAX_AGE:
        return "log.date_too_old"
    return None


def show_date(day: dt.date | None) -> Html:
    """A date as the person reads it, "Fri 20 Nov 2026"."""
    if day is None:
        return t("log.no_date")
    return t(
        "log.date_format",
        weekday=items("log.weekdays")[day.weekday()],
        day=day.day,
        month=items("log.months")[day.month - 1],
        year=day.year,
    )


def parse_time(text: str) -> dt.time | None:
    """A time of day: "17:00", "17.30", "17h30", "9", "5pm", "9:30 am"; else None."""
    match = TIME_TEXT.fullmatch(text.strip().lower())
    if match is None:
        return None
    hour, minute = int(match["hour"]), int(match["minute"] or 0)
    if match["am"] or match["pm"]:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if match["pm"] else 0)
    if hour > 23 or minute > 59:
        return None
    return dt.time(hour, minute)


def parse_coming_date(text: str, today: dt.date) -> dt.date | None:
    """A date as typed, read as today or later when no year is given ("4 Dec", "tomorrow").

    A date without a year that was less than a month ago stays in the past (it is most likely
    a slip, and the person is told that it has passed) rather than becoming next year's.
    """
    word = " ".join(text.lower().split()).rstrip(".!")
    if word == "tomorrow":
        return today + dt.timedelta(days=1)
    day = parse_date(text, today)
    if day is None or day >= today or today - day <= RECENT:
        return day
    # parse_date reads a date without a year as the latest one not after the day it is given;
    # given the last day of the coming year, that is the first one from today on. A date with
    # its year doesn't move.
    try:
        year_on = today.replace(year=today.year + 1)
    except ValueError:  # 29 February
        year_on = dt.date(today.year + 1, 3, 1)
    return parse_date(text, year_on - dt.timedelta(days=1))


def plan_date_problem(day: dt.date, today: dt.date) -> str | None:
    """The content key saying why a session date can't be planned, or None if it can."""
    if day < today:
        return "schedule.date_past"
    if day > today + MAX_AHEAD:
        return "schedule.date_too_far"
    return None


def zone_label(name: str) -> str:
    """A zone as people read it: "Europe/Berlin", "America/New York", "UTC+2"."""
    if name in ("UTC", "Etc/UTC", "Etc/GMT"):
        return t("schedule.zone_offset", offset="")
    if name.startswith("Etc/GMT"):
        # The Etc zones' signs are POSIX-style, inverted: Etc/GMT-2 is UTC+2.
        offset = name.removeprefix("Etc/GMT").translate(str.maketrans("+-", "-+"))
        return t("schedule.zone_offset", offset=offset)
    return name.replace("_", " ")


def local_now(timezone: str | None, now: dt.datetime | None = None) -> dt.datetime:
    """The wall-clock time now where the person lives (UTC while unknown), without tzinfo."""
    return (now or utcnow()).astimezone(timeplan.zone(timezone)).replace(tzinfo=None)


def clock(moment: dt.datetime | dt.time) -> str:
    """A time of day, 24-hour: "09:30"."""
    return moment.strftime("%H:%M")


def show_day(day: dt.date) -> Html:
    """A date as the person reads it: "Fri 5 Dec"."""
    return t(
        "schedule.date_format",
        weekday=items("schedule.weekdays_short")[day.weekday()],
        day=day.day,
        month=items("schedule.months")[day.month - 1],
    )


def show_when(moment: dt.datetime) -> Html:
    """A local date and time: "Fri 5 Dec at 10:00"."""
    return t("schedule.when", date=show_day(moment.date()), time=clock(moment))


def zone_confirmation(name: str, now: dt.datetime | None = None) -> Html:
    """The zone and the time there now, so a wrong guess is easy to see."""
    return t("schedule.zone_saved", zone=zone_label(name), time=clock(local_now(name, now)))
