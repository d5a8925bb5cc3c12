"""Every language's typed words, read back through the parsers: each number word as its number,
each month and weekday name (every spelling given) as its month and day, today and yesterday,
tomorrow, yes and no; a German month in a Russian bot works too (all are read together)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from conversations.worksheet.content import ENGLISH, languages, lookup, own_words
from conversations.worksheet.parsing import (
    is_tomorrow,
    parse_date,
    parse_rating,
    parse_yes_no,
)

NEW_YEARS_EVE = dt.date(2026, 12, 31)  # a Thursday
MONDAY = dt.date(2026, 11, 23)


def tables() -> dict[str, dict[str, Any]]:
    """Each language's [input.<language>] table, wherever it is kept."""
    found: dict[str, dict[str, Any]] = {}
    for speaks in languages():
        table = (lookup("input") if speaks == ENGLISH else own_words(speaks).get("input")) or {}
        found.update({name: node for name, node in table.items() if isinstance(node, dict)})
    return found


TABLES = tables()


def spellings(entry: str | list[str]) -> list[str]:
    return entry if isinstance(entry, list) else [entry]


def test_every_language_the_bot_speaks_has_its_typed_words() -> None:
    assert set(TABLES) == set(languages())


@pytest.mark.parametrize("language", sorted(TABLES))
def test_number_words_read_as_their_numbers(language: str) -> None:
    for number, entry in enumerate(TABLES[language]["numbers"], start=1):
        for word in spellings(entry):
            assert parse_rating(word) == number, (language, word)
            assert parse_rating(word.capitalize()) == number, (language, word)


@pytest.mark.parametrize("language", sorted(TABLES))
def test_month_names_read_as_their_months(language: str) -> None:
    for month, entry in enumerate(TABLES[language]["months"], start=1):
        for name in spellings(entry):
            assert parse_date(f"5 {name}", NEW_YEARS_EVE) == dt.date(2026, month, 5), name


@pytest.mark.parametrize("language", sorted(TABLES))
def test_weekday_names_read_as_the_latest_such_day(language: str) -> None:
    for weekday, entry in enumerate(TABLES[language]["weekdays"]):
        for name in spellings(entry):
            day = parse_date(name, MONDAY)
            assert day is not None and day.weekday() == weekday, (language, name)
            assert MONDAY - dt.timedelta(days=6) <= day <= MONDAY


@pytest.mark.parametrize("language", sorted(TABLES))
def test_today_yesterday_tomorrow_yes_and_no(language: str) -> None:
    table = TABLES[language]
    for word in table.get("today", []):
        assert parse_date(word, MONDAY) == MONDAY, word
    for word in table.get("yesterday", []):
        assert parse_date(word, MONDAY) == MONDAY - dt.timedelta(days=1), word
    for word in table.get("tomorrow", []):
        assert is_tomorrow(word), word
    assert table.get("yes") and table.get("no"), language
    assert all(parse_yes_no(word) is True for word in table["yes"])
    assert all(parse_yes_no(word) is False for word in table["no"])
