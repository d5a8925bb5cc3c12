"""The words people type, in content/input.toml: every language's words are read together, so
each word must mean one thing (in one language and across them all)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from conversations.worksheet.content import lookup
from conversations.worksheet.parsing import (
    KINDS,
    parse_date,
    parse_rating,
    vocabulary,
    words_of,
)

MONDAY = dt.date(2026, 11, 23)
NEW_YEARS_EVE = dt.date(2026, 12, 31)


def _languages() -> dict[str, dict[str, Any]]:
    table = lookup("input")
    return {name: node for name, node in table.items() if isinstance(node, dict)}


def _names(entry: str | list[str]) -> list[str]:
    return entry if isinstance(entry, list) else [entry]


def test_english_and_german_are_there_and_read_together() -> None:
    languages = _languages()
    assert {"en", "de"} <= set(languages)
    words = vocabulary()
    assert words.numbers["seven"] == words.numbers["sieben"] == 7
    assert words.months["october"] == words.months["oktober"] == 10
    assert words.weekdays["tuesday"] == words.weekdays["dienstag"] == 1
    assert words.days_back["yesterday"] == words.days_back["gestern"] == 1


def test_every_language_gives_only_known_lists() -> None:
    for language, table in _languages().items():
        assert set(table) <= set(KINDS), language


@pytest.mark.parametrize("language", sorted(_languages()))
def test_every_number_word_of_every_language_is_its_rating(language: str) -> None:
    for number, entry in enumerate(_languages()[language].get("numbers", []), start=1):
        for name in _names(entry):
            assert parse_rating(name) == number, (language, name)
            assert parse_rating(name.upper()) == number, (language, name)


@pytest.mark.parametrize("language", sorted(_languages()))
def test_every_month_name_of_every_language_is_its_month(language: str) -> None:
    for month, entry in enumerate(_languages()[language].get("months", []), start=1):
        for name in _names(entry):
            day = dt.date(2026, month, 3)
            assert parse_date(f"3 {name}", NEW_YEARS_EVE) == day, (language, name)
            assert parse_date(f"3. {name.title()}", NEW_YEARS_EVE) == day, (language, name)
            assert parse_date(f"{name} 3 2026", NEW_YEARS_EVE) == day, (language, name)


@pytest.mark.parametrize("language", sorted(_languages()))
def test_every_weekday_name_of_every_language_is_its_weekday(language: str) -> None:
    table = _languages()[language]
    for weekday, entry in enumerate(table.get("weekdays", []), start=0):
        for name in _names(entry):
            day = parse_date(name.title(), MONDAY)
            assert day is not None and day.weekday() == weekday, (language, name)
            for phrase in table.get("last", []):
                day = parse_date(phrase.format(weekday=name), MONDAY)
                assert day is not None and day.weekday() == weekday, (language, phrase, name)
                assert day < MONDAY


@pytest.mark.parametrize("language", sorted(_languages()))
def test_every_word_for_days_back_of_every_language(language: str) -> None:
    table = _languages()[language]
    for kind, back in (("today", 0), ("yesterday", 1), ("day_before_yesterday", 2)):
        for name in table.get(kind, []):
            assert parse_date(name, MONDAY) == MONDAY - dt.timedelta(days=back), (language, name)
    for phrase in table.get("ago", []):
        for unit, days in (("days", 1), ("weeks", 7)):
            for name in table.get(unit, []):
                text = phrase.format(count="2", unit=name)
                assert parse_date(text, MONDAY) == MONDAY - dt.timedelta(days=2 * days), text


# A word that means two things -------------------------------------------------------------------

ENGLISH = {
    "months": [
        *("january", "february", "march", "april", "may", "june"),
        *("july", "august", "september", "october", "november", "december"),
    ],
    "numbers": ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"],
}


def test_a_word_with_two_meanings_in_two_languages_is_refused() -> None:
    # "mai" is May in German; a language in which it meant June would make "3 Mai" ambiguous.
    german = {"months": [*ENGLISH["months"][:4], "mai", *ENGLISH["months"][5:]]}
    clashing = {"months": [*ENGLISH["months"][:5], "mai", *ENGLISH["months"][6:]]}
    with pytest.raises(ValueError, match=r"'mai' is month 5 in 'de' and month 6 in 'xx'"):
        words_of({"en": ENGLISH, "de": german, "xx": clashing})


def test_a_word_with_two_meanings_in_one_language_is_refused() -> None:
    with pytest.raises(ValueError, match=r"'gestern' is yesterday in 'de' and today in 'de'"):
        words_of({"de": {"yesterday": ["gestern"], "today": ["gestern"]}})
    with pytest.raises(ValueError, match=r"'bis' is"):
        words_of({"de": {"out_of": ["von", "bis"], "between": ["oder", "bis"]}})


def test_one_word_for_one_meaning_in_two_languages_is_fine() -> None:
    # "april", "august", "september", "november" are English and German alike.
    german = {
        "months": [
            *("januar", "februar", "märz", "april", "mai", "juni"),
            *("juli", "august", "september", "oktober", "november", "dezember"),
        ]
    }
    words = words_of({"en": ENGLISH, "de": german})
    assert words.months["april"] == 4
    assert words.months["mai"] == 5


def test_a_word_may_mean_different_things_where_it_is_read_in_different_places() -> None:
    # Spanish "mar" is short for martes (Tuesday) and marzo (March): "3 mar" is March, and "mar"
    # alone is Tuesday, so both can be listed.
    months = ["enero", "febrero", ["marzo", "mar"], *ENGLISH["months"][3:]]
    weekdays = ["lunes", ["martes", "mar"], "miércoles", "jueves", "viernes", "sábado", "domingo"]
    words = words_of({"es": {"months": months, "weekdays": weekdays}})
    assert words.months["mar"] == 3
    assert words.weekdays["mar"] == 1


def test_the_start_of_two_names_is_not_read_as_either() -> None:
    # "Sonn" begins both Sonntag (Sunday) and Sonnabend (Saturday); "Sonnt" only Sunday.
    assert parse_date("sonn", MONDAY) is None
    assert parse_date("sonnt", MONDAY) == dt.date(2026, 11, 22)
    assert parse_date("sonna", MONDAY) == dt.date(2026, 11, 21)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"weekday": ["monday"]}, "unknown lists"),
        ({"months": ["january"]}, "needs 12 entries"),
        ({"numbers": "one two"}, "is not a list"),
        ({"ago": ["{count} ago"]}, "needs"),
        ({"last": ["last"]}, "needs"),
        ({"on": ["on {weekday} {weekday}"]}, "needs"),
        ({"today": [""]}, "is not a word"),
        ({"today": [7]}, "is not a word"),
    ],
)
def test_a_table_that_cannot_be_read_is_refused(table: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        words_of({"xx": table})
