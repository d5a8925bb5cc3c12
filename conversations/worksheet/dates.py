"""Dates and times as a person types and reads them, in their own time zone (Telegram-free)."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

from conversations.worksheet import timeplan
from conversations.worksheet.content import Html, items, t
from conversations.worksheet.parsing import is_tomorrow, parse_date
from conversations.worksheet.timezones import zone_countries
from storage.models import utcnow

# "About a year": older session dates are most likely a typo in the year.
MAX_AGE = dt.timedelta(days=366)
# How far ahead a one-off session can be planned, and how recent a past date without a year
# must be to stay in the past (a slip rather than next year's).
MAX_AHEAD = dt.timedelta(days=366)
RECENT = dt.timedelta(days=31)

# "18:30", "18.30", "18h30", "18h", "18", "1830", "930"; each with "am"/"pm" after it or not.
TIME_TEXT = re.compile(
    r"(?:(?P<hour>[0-9]{1,2})(?:(?:[:.h]|\s?h\s?)(?P<minute>[0-9]{2}))?h?"
    r"|(?P<compact_hour>[0-9]{1,2})(?P<compact_minute>[0-9]{2}))"
    r"\s?(?:(?P<am>a\.?m\.?)|(?P<pm>p\.?m\.?))?"
)

# Where people read times on a 12-hour clock ("6:30 pm"): the regions whose preferred hour
# cycle is "h" in CLDR's supplemental time data (timeData, region entries; CLDR 46). A person's
# region is their time zone's country (tzdata's zone.tab); UTC offsets and unknown zones read
# 24 hours ("18:30"). Babel will bring this from CLDR itself with the languages.
_CLDR_TWELVE_HOUR = """
AS BT DJ ER GH IN LS PG PW SO TO VU WS
CY GR
AL TD
BO CO CR CU DO EC GT HN KP KR MX NI NA PA PE PR SV VE
AG AU BB BM BS CA DM FJ FM GD GM GU GY JM KI KN KY LC LR MH MP MW NZ SB SG SL SS SZ TC TT UM US
VC VG VI
BD PK
AE BH DZ EG EH HK IQ JO KW LB LY MO MR OM PH PS QA SA SD SY TN YE
BN MY
KH
TW ET
"""
TWELVE_HOUR_REGIONS = frozenset(_CLDR_TWELVE_HOUR.split())


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
    """A time of day: "17:00", "17.30", "17h30", "1730", "9", "5pm", "6.30pm", "9:30 am"; else
    None. Without am or pm a time is read on the 24-hour clock ("6:30" is 06:30)."""
    match = TIME_TEXT.fullmatch(text.strip().lower())
    if match is None:
        return None
    if match["compact_hour"] is not None:
        hour, minute = int(match["compact_hour"]), int(match["compact_minute"])
    else:
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
    if is_tomorrow(text):
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


def twelve_hour(timezone: str | None) -> bool:
    """Whether a person in this zone reads times on a 12-hour clock (see TWELVE_HOUR_REGIONS)."""
    countries = zone_countries(timezone) if timezone else frozenset()
    return bool(countries) and countries <= TWELVE_HOUR_REGIONS


def zone_city(name: str) -> str:
    """A zone's place as people say it: "Berlin", "New York", "UTC+2" ("Berlin time")."""
    if name in ("UTC", "Etc/UTC", "Etc/GMT") or name.startswith("Etc/GMT"):
        return zone_label(name)
    return name.rsplit("/", 1)[-1].replace("_", " ")


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


def clock(moment: dt.datetime | dt.time, timezone: str | None = None) -> str:
    """A time of day as a person in `timezone` reads it: "18:30", or "6:30 pm" where clocks
    have 12 hours (midnight is "12:00 am", noon "12:00 pm")."""
    if not twelve_hour(timezone):
        return f"{moment.hour:02d}:{moment.minute:02d}"
    hour, minute = moment.hour % 12 or 12, f"{moment.minute:02d}"
    key = "schedule.clock_pm" if moment.hour >= 12 else "schedule.clock_am"
    return t(key, hour=hour, minute=minute)


def show_day(day: dt.date) -> Html:
    """A date as the person reads it: "Fri 5 Dec"."""
    return t(
        "schedule.date_format",
        weekday=items("schedule.weekdays_short")[day.weekday()],
        day=day.day,
        month=items("schedule.months")[day.month - 1],
    )


def show_when(moment: dt.datetime, timezone: str | None = None) -> Html:
    """A local date and time: "Fri 5 Dec at 10:00" ("... at 10:00 am" on a 12-hour clock)."""
    return t("schedule.when", date=show_day(moment.date()), time=clock(moment, timezone))


def zone_confirmation(name: str, now: dt.datetime | None = None) -> Html:
    """The zone and the time there now, so a wrong guess is easy to see."""
    moment = local_now(name, now)
    return t("schedule.zone_saved", zone=zone_label(name), time=clock(moment, name))
