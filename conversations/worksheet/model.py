"""The worksheet as typed data: sections, items and the rules every part of the bot reads.

Loaded once from a structure file (see `loader` and docs/worksheet-format.md). The rules live
here and nowhere else: which prompts apply (`shown_if`), what counts as done, how items are
numbered for people ("6.1", "2b"), how a stored selection ("1,4") reads, when /finish is offered.
Answers come in as a mapping from stored key to text, None for a skipped prompt; a key that is
missing was never reached.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

Answers = Mapping[str, str | None]


def with_marks(answers: Answers, marks: Iterable[str]) -> dict[str, str | None]:
    """Answers together with the progress marks ("learn.done"), as the done rules read them."""
    return {**answers, **dict.fromkeys(marks, "1")}


class SectionKind(enum.StrEnum):
    """How a section is walked through."""

    PAGES = "pages"  # read one page at a time (reading pages, or tips to mark)
    TOGGLES = "toggles"  # a list to tick, in one message
    PROMPTS = "prompts"  # questions one at a time
    CHART = "chart"  # a repeating entry (one per therapy session)


class ItemKind(enum.StrEnum):
    """What one item is."""

    PAGE = "page"  # a page to read
    TIP = "tip"  # a tip with its example, and "I'll try this"
    TOGGLE = "toggle"  # a statement to tick
    TEXT = "text"  # a written answer
    NUMBERED = "numbered"  # several written answers to one prompt (1, 2, 3)
    YES_NO = "yes_no"  # Yes or No
    RATING = "rating"  # a whole number from 1 to 10, with the scale's anchors
    DATE = "date"  # a day (only in a chart entry)


class Done(enum.StrEnum):
    """When a section counts as done."""

    READ = "read"  # the last page was reached
    CHOSEN = "chosen"  # the list was confirmed with Done, ticked or not
    ANSWERED = "answered"  # every prompt that applies was answered (skipped ones still wait)
    NEVER = "never"  # it repeats (the chart)


# Which item kinds each section kind holds.
KINDS_IN = {
    SectionKind.PAGES: frozenset({ItemKind.PAGE, ItemKind.TIP}),
    SectionKind.TOGGLES: frozenset({ItemKind.TOGGLE}),
    SectionKind.PROMPTS: frozenset(
        {ItemKind.TEXT, ItemKind.NUMBERED, ItemKind.YES_NO, ItemKind.RATING}
    ),
    SectionKind.CHART: frozenset({ItemKind.DATE, ItemKind.TEXT, ItemKind.RATING}),
}
YES, NO = "yes", "no"


@dataclass(frozen=True, slots=True)
class Condition:
    """`shown_if`: an item is asked only when another item of its section has this answer."""

    key: str  # the other item's stored key
    equals: str

    def holds(self, answers: Answers) -> bool:
        return answers.get(self.key) == self.equals


@dataclass(frozen=True, slots=True)
class Prompt:
    """One answer a person can give: an item, or one part of a numbered item."""

    key: str  # where the answer is stored ("reflect.q6.2")
    label: str  # how people see it numbered ("6.2")
    item: Item
    part: int | None  # 1-based part of a numbered item

    @property
    def kind(self) -> ItemKind:
        """A part of a numbered item is a written answer."""
        return ItemKind.TEXT if self.part is not None else self.item.kind

    def applies(self, answers: Answers) -> bool:
        return self.item.applies(answers)


@dataclass(frozen=True, slots=True)
class Item:
    """One item of a section, with a stable id."""

    section: str
    id: str
    kind: ItemKind
    label: str
    parts: int = 0
    shown_if: Condition | None = None

    @property
    def key(self) -> str:
        """Its stored key and the root of its words' key."""
        return f"{self.section}.{self.id}"

    @property
    def words(self) -> str:
        """Where its words are in the content files."""
        return f"{self.section}.items.{self.id}"

    def applies(self, answers: Answers) -> bool:
        """Whether it is asked at all; one answered before its condition changed still shows."""
        if self.shown_if is None or self.shown_if.holds(answers):
            return True
        return any(answers.get(p.key) for p in self.prompts())

    def prompts(self) -> list[Prompt]:
        """Its answers: itself, or each of its parts."""
        if self.kind is ItemKind.NUMBERED:
            return [
                Prompt(f"{self.key}.{n}", f"{self.label}.{n}", self, n)
                for n in range(1, self.parts + 1)
            ]
        return [Prompt(self.key, self.label, self, None)]


@dataclass(frozen=True, slots=True)
class Offer:
    """When a section offers itself, once: after so many chart entries or weeks of them."""

    after_entries: int
    after_weeks: int

    def due(self, entries: int, first: dt.date | None, today: dt.date) -> bool:
        if entries >= self.after_entries:
            return True
        return first is not None and today - first >= dt.timedelta(weeks=self.after_weeks)


@dataclass(frozen=True, slots=True)
class Section:
    """One section of the worksheet."""

    id: str
    kind: SectionKind
    command: str
    done: Done
    items: tuple[Item, ...]
    offer: Offer | None = None

    @property
    def done_key(self) -> str:
        """The progress mark set when the section is read or confirmed."""
        return f"{self.id}.done"

    @property
    def selection_key(self) -> str:
        """Where a toggle list's ticks, or the tips marked to try, are stored."""
        return f"{self.id}.selected" if self.kind is SectionKind.TOGGLES else f"{self.id}.marked"

    @property
    def offered_key(self) -> str:
        return f"{self.id}.offered"

    def item(self, item_id: str) -> Item:
        return next(i for i in self.items if i.id == item_id)

    def prompts(self) -> list[Prompt]:
        """Every answer of the section, in order, whether it applies or not."""
        return [p for item in self.items for p in item.prompts()]

    def asked(self, answers: Answers) -> list[Prompt]:
        """The answers that apply, given the ones stored."""
        return [p for p in self.prompts() if p.applies(answers)]

    def on_paper(self, answers: Answers) -> list[Prompt]:
        """The answers a printed copy shows: those that apply, and, as on the paper worksheet,
        one asked only after another answer while that answer is still open (to fill in)."""
        return [
            p
            for p in self.prompts()
            if p.applies(answers)
            or (p.item.shown_if is not None and not answers.get(p.item.shown_if.key))
        ]

    def prompt(self, key: str) -> Prompt | None:
        return next((p for p in self.prompts() if p.key == key), None)

    def counts(self, answers: Answers) -> tuple[int, int, int]:
        """Of the questions that apply, as the person counts them (a numbered question with its
        three answers is one): how many answered (in part or in full), how many skipped (none
        of it answered, some of it skipped), and how many in all."""
        answered = skipped = total = 0
        for item in self.items:
            asked = [p for p in item.prompts() if p.applies(answers)]
            if not asked:
                continue
            total += 1
            if any(answers.get(p.key) for p in asked):
                answered += 1
            elif any(p.key in answers for p in asked):
                skipped += 1
        return answered, skipped, total

    def skipped(self, answers: Answers) -> list[Prompt]:
        """The answers that apply and were skipped (each part of a numbered question apart)."""
        return [p for p in self.asked(answers) if p.key in answers and not answers.get(p.key)]

    def is_done(self, answers: Answers) -> bool:
        """Whether the section counts as done, by its `done` rule."""
        if self.done in (Done.READ, Done.CHOSEN):
            return self.done_key in answers or (
                self.done is Done.CHOSEN and self.selection_key in answers
            )
        if self.done is Done.ANSWERED:
            return all(answers.get(p.key) for p in self.asked(answers))
        return False

    def first_open(self, answers: Answers) -> Prompt | None:
        """The first answer that applies and was never reached."""
        return next((p for p in self.asked(answers) if p.key not in answers), None)

    def first_skipped(self, answers: Answers) -> Prompt | None:
        return next(
            (p for p in self.asked(answers) if p.key in answers and answers[p.key] is None), None
        )

    def next_open(self, answers: Answers, after: str) -> Prompt | None:
        """The next answer after `after` that applies and is still open (unreached or skipped)."""
        keys = [p.key for p in self.prompts()]
        later = self.prompts()[keys.index(after) + 1 :]
        return next((p for p in later if p.applies(answers) and not answers.get(p.key)), None)

    # The selection codec: ticked statements and marked tips, stored as "1,4". ---------------

    def selected(self, stored: str | None) -> list[Item]:
        """The items named in a stored selection, in worksheet order; unknown ids left out."""
        ids = {part.strip() for part in (stored or "").split(",")}
        return [item for item in self.items if item.id in ids]

    def selection(self, chosen: Iterable[str]) -> str:
        """A selection as it is stored: the chosen ids in worksheet order ("" for none)."""
        ids = set(chosen)
        return ",".join(item.id for item in self.items if item.id in ids)

    def toggled(self, stored: str | None, item_id: str) -> str:
        """A stored selection with one item ticked, or unticked if it was."""
        ids = {item.id for item in self.selected(stored)}
        return self.selection(ids ^ {item_id})


@dataclass(frozen=True, slots=True)
class Worksheet:
    """The whole worksheet: its sections in menu order."""

    id: str
    sections: tuple[Section, ...]

    def __iter__(self) -> Iterator[Section]:
        return iter(self.sections)

    def section(self, section_id: str) -> Section:
        return next(s for s in self.sections if s.id == section_id)

    def get(self, section_id: str) -> Section | None:
        return next((s for s in self.sections if s.id == section_id), None)

    def of_kind(self, kind: SectionKind) -> list[Section]:
        return [s for s in self.sections if s.kind is kind]

    def prompt(self, key: str) -> Prompt | None:
        """The answer stored under `key`, in whichever section."""
        section = self.get(key.split(".", 1)[0])
        return section.prompt(key) if section is not None else None

    @property
    def chart(self) -> Section | None:
        """The repeating session chart, if the worksheet has one."""
        return next(iter(self.of_kind(SectionKind.CHART)), None)
