"""Reads a worksheet structure file into the model, checking it against its words.

Every mistake an author can make is reported as one sentence naming the file and the place
(`WorksheetError`); the bot prints it and exits with status 2 instead of starting half right.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from conversations.worksheet.model import (
    KINDS_IN,
    Condition,
    Done,
    Item,
    ItemKind,
    Offer,
    Section,
    SectionKind,
    Worksheet,
)

BUILT_IN = Path(__file__).parent.parent / "worksheets" / "trust_safety.toml"
# Ids are short: "<section>.<item>.<part>" must fit in a button's 64 bytes with room to spare.
ID = re.compile(r"[a-z0-9][a-z0-9_]{0,15}")
# The words each kind of item needs, at "<section>.items.<item>"; `parts` is a list.
WORDS_OF = {
    ItemKind.PAGE: ("text",),
    ItemKind.TIP: ("title", "text"),
    ItemKind.TOGGLE: ("title", "text", "label"),
    ItemKind.TEXT: ("text",),
    ItemKind.NUMBERED: ("text", "parts"),
    ItemKind.YES_NO: ("text",),
    ItemKind.RATING: ("text", "scale"),
    ItemKind.DATE: ("text",),
}
# Commands and names of the bot itself, which a section may not take as its command or id.
RESERVED = frozenset(
    {"start", "menu", "help", "crisis", "cancel", "review", "summary", "schedule", "settings"}
    | {"export", "delete", "health", "rem", "errors", "common", "commands", "worksheet"}
)
# When a section counts as done, by kind: the first is the default.
DONE_RULES = {
    SectionKind.PAGES: (Done.READ, Done.NEVER),
    SectionKind.TOGGLES: (Done.CHOSEN, Done.NEVER),
    SectionKind.PROMPTS: (Done.ANSWERED, Done.NEVER),
    SectionKind.CHART: (Done.NEVER,),
}
# The section's own words each engine needs ("<section>.<name>"); pages and prompts sections
# fall back to shared words for the rest.
SECTION_WORDS = {
    SectionKind.PAGES: (),
    SectionKind.TOGGLES: (
        *("intro", "again", "how", "statement", "button", "chosen"),
        *("ticked", "ticked_item", "none", "followup"),
    ),
    SectionKind.PROMPTS: ("intro",),
    SectionKind.CHART: (),
}
# The session chart's entry, as the chart engine (and the reminders after a session) know it.
CHART_FIELDS = (
    ("date", ItemKind.DATE),
    ("topic", ItemKind.TEXT),
    ("trust", ItemKind.RATING),
    ("safety", ItemKind.RATING),
    ("role", ItemKind.TEXT),
)
SECTION_FIELDS = frozenset({"id", "kind", "command", "done", "items", "offer"})
ITEM_FIELDS = frozenset({"id", "kind", "label", "parts", "shown_if"})

Lookup = Callable[[str], Any]  # a words key -> its value, or None
K = TypeVar("K", SectionKind, ItemKind, Done)


class WorksheetError(ValueError):
    """A worksheet file that cannot be used, in one sentence."""


def load(path: Path, words: Lookup) -> Worksheet:
    """The worksheet in `path`, checked; `words` looks up a content key (None when missing)."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise WorksheetError(f"{path}: cannot be read ({error.strerror}).") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise WorksheetError(f"{path}: is not valid TOML ({error}).") from None
    return Reader(path, words).worksheet(raw)


class Reader:
    """One file's checks, each failing with the file's name and the place."""

    def __init__(self, path: Path, words: Lookup) -> None:
        self.path = path
        self.words = words

    def fail(self, where: str, what: str) -> WorksheetError:
        return WorksheetError(f"{self.path}: {where}: {what}.")

    def worksheet(self, raw: Mapping[str, Any]) -> Worksheet:
        head = raw.get("worksheet")
        if not isinstance(head, dict) or not ID.fullmatch(str(head.get("id", ""))):
            raise self.fail("[worksheet]", 'needs an "id"')
        sections_raw = raw.get("sections")
        if not isinstance(sections_raw, list) or not sections_raw:
            raise self.fail("[[sections]]", "there must be at least one section")
        sections: list[Section] = []
        for number, entry in enumerate(sections_raw, 1):
            section = self.section(number, entry)
            if any(s.id == section.id for s in sections):
                raise self.fail(f'section "{section.id}"', "this id is used twice")
            if any(s.command == section.command for s in sections):
                raise self.fail(f'section "{section.id}"', f'command "/{section.command}" is taken')
            sections.append(section)
        charts = [s for s in sections if s.kind is SectionKind.CHART]
        offering = next((s for s in sections if s.offer is not None), None)
        if offering is not None and not charts:
            raise self.fail(
                f'section "{offering.id}"',
                "an offer counts chart entries, and this worksheet has no chart",
            )
        if len(charts) > 1:
            raise self.fail("[[sections]]", "a worksheet has at most one chart section")
        if charts and (
            charts[0].id != "log" or tuple((i.id, i.kind) for i in charts[0].items) != CHART_FIELDS
        ):
            fields = ", ".join(f"{name} ({kind.value})" for name, kind in CHART_FIELDS)
            raise self.fail(
                f'section "{charts[0].id}"',
                f'the session chart is the section "log" with the fields {fields}, in this order',
            )
        for key in ("worksheet.title", "worksheet.objective"):
            if not isinstance(self.words(key), str):
                raise self.fail("[worksheet]", f'the words "{key}" are missing')
        return Worksheet(str(head["id"]), tuple(sections))

    def section(self, number: int, raw: Any) -> Section:
        where = f"section {number}"
        if not isinstance(raw, dict):
            raise self.fail(where, "must be a table")
        section_id = raw.get("id")
        if not isinstance(section_id, str) or not ID.fullmatch(section_id):
            raise self.fail(where, 'needs an "id" of lower-case letters, digits and _')
        where = f'section "{section_id}"'
        unknown = set(raw) - SECTION_FIELDS
        if unknown:
            raise self.fail(where, f'has an unknown field "{sorted(unknown)[0]}"')
        kind = self.choice(where, "kind", raw.get("kind"), SectionKind)
        rules = DONE_RULES[kind]
        done = self.choice(where, "done", raw.get("done", rules[0].value), Done)
        if done not in rules:
            allowed = " or ".join(f'"{rule.value}"' for rule in rules)
            raise self.fail(where, f"a {kind.value} section is done when {allowed}")
        command = raw.get("command", section_id)
        if not isinstance(command, str) or not ID.fullmatch(command) or command in RESERVED:
            raise self.fail(where, f'"/{command}" cannot be its command')
        if section_id in RESERVED or (section_id == "log") != (kind is SectionKind.CHART):
            raise self.fail(where, f'"{section_id}" is a name the bot keeps for itself')
        offer = self.offer(where, raw.get("offer"))
        needed = [f"menu.{section_id}", f"commands.{command}"]
        needed += [f"{section_id}.{name}" for name in SECTION_WORDS[kind]]
        if "offer" in raw:
            needed += [f"{section_id}.offer", f"{section_id}.offer_button"]
        for key in needed:
            value = self.words(key)
            if not (
                isinstance(value, str) or (key.endswith(".followup") and isinstance(value, list))
            ):
                raise self.fail(where, f'the words "{key}" are missing')
        items_raw = raw.get("items")
        if not isinstance(items_raw, list) or not items_raw:
            raise self.fail(where, "needs at least one item")
        items: list[Item] = []
        for index, entry in enumerate(items_raw, 1):
            item = self.item(section_id, kind, index, entry)
            if any(i.id == item.id for i in items):
                raise self.fail(f'item "{section_id}.{item.id}"', "this id is used twice")
            items.append(item)
        for item in items:
            if item.shown_if is not None:
                other = item.shown_if.key.split(".", 1)[1]
                before = [i for i in items[: items.index(item)] if i.id == other]
                if not before:
                    raise self.fail(
                        f'item "{item.key}"',
                        f'its shown_if names "{other}", which is not an item before it',
                    )
                if before[0].kind is ItemKind.NUMBERED:
                    raise self.fail(
                        f'item "{item.key}"',
                        f'its shown_if names "{other}", a numbered item, which has no one answer',
                    )
        return Section(section_id, kind, command, done, tuple(items), offer)

    def item(self, section: str, section_kind: SectionKind, index: int, raw: Any) -> Item:
        where = f'item {index} of section "{section}"'
        if not isinstance(raw, dict):
            raise self.fail(where, "must be a table")
        item_id = raw.get("id")
        if not isinstance(item_id, str) or not ID.fullmatch(item_id):
            raise self.fail(where, 'needs an "id" of lower-case letters, digits and _')
        where = f'item "{section}.{item_id}"'
        unknown = set(raw) - ITEM_FIELDS
        if unknown:
            raise self.fail(where, f'has an unknown field "{sorted(unknown)[0]}"')
        kind = self.choice(where, "kind", raw.get("kind"), ItemKind)
        if kind not in KINDS_IN[section_kind]:
            raise self.fail(where, f'a {section_kind.value} section cannot hold a "{kind.value}"')
        parts = raw.get("parts", 0)
        if kind is ItemKind.NUMBERED and (
            isinstance(parts, bool) or not isinstance(parts, int) or not 2 <= parts <= 10
        ):
            raise self.fail(where, 'a numbered item needs "parts" from 2 to 10')
        if kind is not ItemKind.NUMBERED and "parts" in raw:
            raise self.fail(where, 'only a numbered item has "parts"')
        label = raw.get("label", str(index))
        condition = self.condition(where, section, raw.get("shown_if"))
        item = Item(section, item_id, kind, str(label), int(parts), condition)
        self.check_words(where, item)
        return item

    def check_words(self, where: str, item: Item) -> None:
        for field in WORDS_OF[item.kind]:
            value = self.words(f"{item.words}.{field}")
            if field == "parts":
                if not isinstance(value, list) or len(value) != item.parts:
                    raise self.fail(where, f'the words "{item.words}.parts" need {item.parts}')
            elif not isinstance(value, str) or not value.strip():
                raise self.fail(where, f'the words "{item.words}.{field}" are missing')

    def condition(self, where: str, section: str, raw: Any) -> Condition | None:
        if raw is None:
            return None
        if not isinstance(raw, dict) or set(raw) != {"item", "equals"}:
            raise self.fail(where, 'shown_if needs "item" and "equals"')
        return Condition(f"{section}.{raw['item']}", str(raw["equals"]))

    def offer(self, where: str, raw: Any) -> Offer | None:
        if raw is None:
            return None
        if (
            not isinstance(raw, dict)
            or set(raw) != {"after_entries", "after_weeks"}
            or not all(
                isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in raw.values()
            )
        ):
            raise self.fail(where, 'offer needs "after_entries" and "after_weeks", whole numbers')
        return Offer(raw["after_entries"], raw["after_weeks"])

    def choice(self, where: str, field: str, value: Any, kinds: type[K]) -> K:
        try:
            return kinds(value)
        except ValueError:
            known = ", ".join(k.value for k in kinds)
            raise self.fail(where, f'"{value}" is not a known {field} (known: {known})') from None
