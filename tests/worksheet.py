"""The built-in worksheet's prompts as the chat shows them, for tests that play the person."""

from __future__ import annotations

from dataclasses import dataclass

from conversations.engines.prompts import Prompts
from conversations.worksheet import words
from conversations.worksheet.content import t
from conversations.worksheet.current import worksheet
from conversations.worksheet.words import prompt_text


@dataclass(frozen=True)
class ChatPrompt:
    """A reflection prompt: its key within the section ("q6.2") and its message as sent."""

    key: str
    text: str


def prompts() -> list[ChatPrompt]:
    """The reflection prompts as /reflect sends them, headed with their number."""
    section = worksheet().section("reflect")
    engine = Prompts(section)
    return [
        ChatPrompt(engine.short(p), engine.heading(p) + prompt_text(p)) for p in section.prompts()
    ]


def reflect_items() -> list[dict[str, str]]:
    """Each reflection prompt's key within the section and its words (without the heading)."""
    section = worksheet().section("reflect")
    return [
        {"key": p.key.removeprefix("reflect."), "text": prompt_text(p)} for p in section.prompts()
    ]


def learn_pages() -> list[str]:
    """The pages of "What to know", in order."""
    return [str(words.of(item)["text"]) for item in worksheet().section("learn").items]


def chat(key: str) -> str:
    """A prompt's message by its answer key ("log.trust"), or any other text by its key."""
    return prompt_text(key) if worksheet().prompt(key) is not None else t(key)
