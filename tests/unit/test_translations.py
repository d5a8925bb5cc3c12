"""Every language the bot speaks has exactly English's words: the same keys, the same
placeholders, lists of the same length, balanced HTML, phone-sized texts; and a person's Telegram
language finds its language."""

from __future__ import annotations

import re
import string
from typing import Any

import pytest

from conversations.worksheet import content
from conversations.worksheet.content import ENGLISH, all_keys, languages, own_words, speaking, t

LANGUAGES = ("de", "es", "pt_BR", "ru", "uk")
# Typed-input words are per language by design: [input.<language>] tables (every language's are
# read together), in content/input.toml or the language's own content/<language>/input.toml.
OWN = re.compile(r"input\.[A-Za-z_]+\.")
TAGS = ("b", "i", "u", "s", "a", "code", "pre", "blockquote", "tg-spoiler")
FORMATTER = string.Formatter()


def leaves(tree: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}

    def walk(prefix: str, node: Any) -> None:
        if isinstance(node, dict):
            for name, child in node.items():
                walk(f"{prefix}.{name}" if prefix else name, child)
        else:
            found[prefix] = node

    walk("", tree)
    return {k: v for k, v in found.items() if not OWN.match(k)}


def texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [s for v in value for s in texts(v)]
    if isinstance(value, dict):
        return [s for v in value.values() for s in texts(v)]
    return []


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in FORMATTER.parse(text) if name is not None}


def test_the_bot_speaks_english_and_five_more() -> None:
    assert languages() == (ENGLISH, *sorted(LANGUAGES))


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_language_has_exactly_englishs_keys(language: str) -> None:
    english, other = leaves(own_words(ENGLISH)), leaves(own_words(language))
    assert sorted(english.keys() - other.keys()) == [], "missing"
    assert sorted(other.keys() - english.keys()) == [], "not in English"


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_language_fills_the_same_placeholders_and_lists(language: str) -> None:
    english, other = leaves(own_words(ENGLISH)), leaves(own_words(language))
    for key, value in english.items():
        theirs = other.get(key)
        if isinstance(value, list):
            assert isinstance(theirs, list) and len(theirs) == len(value), key
        for mine, translated in zip(texts(value), texts(theirs), strict=True):
            assert placeholders(translated) == placeholders(mine), key


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_languages_html_is_balanced_and_its_texts_phone_sized(language: str) -> None:
    for key, value in leaves(own_words(language)).items():
        for text in texts(value):
            for tag in TAGS:
                opened = len(re.findall(rf"<{tag}[\s>]", text))
                assert opened == text.count(f"</{tag}>"), (key, tag)
            assert len(text) <= 1500, key
            assert text.strip(), key


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_text_is_there_once_filled_in(language: str) -> None:
    with speaking(language):
        for key in all_keys():
            node = content._lookup(key)
            for text in texts(node):
                filled = text.format(**dict.fromkeys(placeholders(text), "x" * 40))
                assert len(filled) < 4096, key


@pytest.mark.parametrize(
    ("code", "language"),
    [
        ("de", "de"),
        ("de-AT", "de"),
        ("pt-br", "pt_BR"),
        ("pt", "pt_BR"),
        ("es-419", "es"),
        ("ru", "ru"),
        ("uk", "uk"),
        ("en-GB", "en"),
        ("fr", "en"),
        (None, "en"),
        ("", "en"),
    ],
)
def test_a_telegram_language_code_finds_the_bots_language(code: str | None, language: str) -> None:
    assert content.supported(code) == language


def test_a_missing_key_falls_back_to_english_not_to_its_name() -> None:
    with speaking("de"):
        german = t("common.menu")
    with speaking("xx"):  # not a language the bot has: English
        assert t("common.menu") == t("common.menu")
    assert german and german != "common.menu"
