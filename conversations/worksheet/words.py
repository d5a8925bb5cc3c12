"""An item's words, composed the same way for the chat, /review and the PDF.

Each item's words are one table at "<section>.items.<item>" (see docs/worksheet-format.md):
`title` (a heading, optional), `text` (the question or the page), `scale` (a rating's anchors),
`parts` (a numbered item's part headings), `label` (a toggle's short button), `example` (a tip's).
"""

from __future__ import annotations

from typing import Any

from conversations.worksheet.content import Html, lookup
from conversations.worksheet.current import worksheet
from conversations.worksheet.model import Item, ItemKind, Prompt, Section


def of(item: Item) -> dict[str, Any]:
    """The item's table of words."""
    table = lookup(item.words)
    assert isinstance(table, dict), item.words  # the loader checked it
    return table


def field(item: Item, name: str) -> str | None:
    value = of(item).get(name)
    return value if isinstance(value, str) else None


def part_heading(prompt: Prompt) -> str | None:
    """A numbered item's heading for one part ("The second one:")."""
    if prompt.part is None:
        return None
    parts = of(prompt.item)["parts"]
    return str(parts[prompt.part - 1])


def prompt_text(prompt: Prompt | str) -> Html:
    """A prompt as the chat asks it: heading, question, a rating's scale, a part's heading."""
    if isinstance(prompt, str):
        found = worksheet().prompt(prompt)
        assert found is not None, prompt
        prompt = found
    item = prompt.item
    blocks = []
    title = field(item, "title")
    if title:
        blocks.append(f"<b>{title}</b>")
    blocks.append(str(of(item)["text"]))
    scale = field(item, "scale")
    if item.kind is ItemKind.RATING and scale:
        blocks.append(f"<i>{scale}</i>")
    heading = part_heading(prompt)
    if heading:
        blocks.append(f"<b>{heading}</b>")
    return Html("\n\n".join(blocks))


def question(prompt: Prompt, section: Section | None = None) -> str:
    """A prompt's question in one line of HTML-free words, for lists (/review, the PDF).

    A prompt shown only after another answer ("If so, describe.") reads with that one's
    question before it, so it keeps its meaning on its own.
    """
    item = prompt.item
    text = str(of(item)["text"])
    condition = item.shown_if
    if condition is not None:
        owner = section or worksheet().section(item.section)
        before = owner.prompt(condition.key)
        if before is not None:
            text = f"{question(before, owner)} {text}"
    return text


def label(item: Item) -> str:
    """A toggle's button words, which keep the statement's meaning when ticked."""
    return field(item, "label") or str(of(item)["title"]).rstrip(".")


def title(item: Item) -> str:
    """A statement's or tip's title, without its closing full stop."""
    return str(of(item).get("title") or of(item)["text"]).rstrip(".")
