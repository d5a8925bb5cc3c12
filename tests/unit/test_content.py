"""The content file and the code agree: every key used exists, every text is used."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from conversations.engines.pages import Pages
from conversations.engines.prompts import Prompts
from conversations.engines.toggles import Toggles
from conversations.worksheet import content, words
from conversations.worksheet.content import all_keys, items, t
from conversations.worksheet.current import worksheet
from conversations.worksheet.model import SectionKind

ROOT = Path(__file__).resolve().parents[2]
CODE = [p for d in ("bot", "conversations") for p in (ROOT / d).rglob("*.py")]
LOOKUPS = {"t", "items"}


def _trees() -> list[ast.AST]:
    return [ast.parse(p.read_text(), filename=str(p)) for p in CODE]


def _literals() -> set[str]:
    found: set[str] = set()
    for tree in _trees():
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found.add(node.value)
    return found


def _templates() -> list[re.Pattern[str]]:
    """f-strings such as f"menu.{name}", as patterns that match the keys they can build."""
    patterns = []
    for tree in _trees():
        for node in ast.walk(tree):
            if isinstance(node, ast.JoinedStr):
                parts = [
                    re.escape(v.value)
                    if isinstance(v, ast.Constant) and isinstance(v.value, str)
                    else r"[a-z0-9_.]+"
                    for v in node.values
                ]
                constant = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
                # Only key-like templates with a fixed word in them, such as "menu.{name}".
                if "." in constant and constant.replace(".", "").isidentifier():
                    patterns.append(re.compile("".join(parts)))
    return patterns


def _literal_lookups() -> set[str]:
    used: set[str] = set()
    for tree in _trees():
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in LOOKUPS
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                used.add(node.args[0].value)
    return used


def test_every_key_the_code_looks_up_has_its_text() -> None:
    keys = all_keys()
    missing = sorted(k for k in _literal_lookups() if k not in keys)
    assert missing == []


def _worksheet_keys() -> set[str]:
    """The words the worksheet's sections read by convention: their items' words, the words
    their engine looks up by name, and their menu and command words."""
    engines = {
        SectionKind.PAGES: (*Pages.WORDS, *Pages.TIP_WORDS),
        SectionKind.TOGGLES: Toggles.WORDS,
        SectionKind.PROMPTS: (*Prompts.WORDS, *Prompts.OFFER_WORDS),
        SectionKind.CHART: (),
    }
    keys = {"worksheet.title", "worksheet.objective"}
    shared = [f"common.pages.{n}" for n in (*Pages.WORDS, *Pages.TIP_WORDS)]
    shared += [f"common.prompts.{n}" for n in Prompts.WORDS]
    keys.update(shared)
    for section in worksheet():
        keys.update(f"{section.id}.{name}" for name in engines[section.kind])
        keys.update({f"menu.{section.id}", f"commands.{section.command}"})
        keys.add(f"help.commands.{section.command}")
        for item in section.items:
            keys.update(f"{item.words}.{field}" for field in words.of(item))
    return keys


def test_every_text_is_used_by_the_code() -> None:
    literals = _literals() | _worksheet_keys()
    templates = _templates()
    # Typed-input words are read as whole tables, every language's (parsing.vocabulary).
    typed = re.compile(r"input\.[A-Za-z_]+\..+")
    unused = sorted(
        key
        for key in all_keys()
        if key not in literals
        and not any(p.fullmatch(key) for p in templates)
        and not typed.fullmatch(key)
    )
    assert unused == []


@pytest.mark.parametrize("key", sorted(all_keys()))
def test_every_text_is_valid_and_phone_sized(key: str) -> None:
    node = content._lookup(key)
    texts = node if isinstance(node, list) else [node]
    for value in texts:
        strings = value.values() if isinstance(value, dict) else [value]
        for text in strings:
            if isinstance(text, str):
                # A few short paragraphs at most: well under Telegram's 4096 characters.
                assert len(text) <= 1500, key
                assert text.count("<b>") == text.count("</b>"), key


def test_placeholders_are_escaped() -> None:
    text = t("reflect.progress", number="<b>&", total=8)
    assert "&lt;b&gt;&amp;" in text and "<b>&" not in text


def test_a_table_of_items_reads_as_a_list_in_order() -> None:
    assert [item["title"] for item in items("tips.items")][:2] == [
        "Openly Communicate",
        "Establish Boundaries",
    ]
    assert len(items("checklist.followup")) == 2
