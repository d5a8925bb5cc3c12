"""Callback data, built, matched and parsed by one object per section.

aiogram's callback-data factory is the model: `Callbacks("reflect")` makes the data of a
section's buttons (`cb("skip", "ask.q1")` -> "reflect:skip:ask.q1"), the pattern a handler
matches (`cb.pattern("skip", ANY)`), and reads the parts back (`cb.parts(update)`). Data is
"section:action:part:...", at most 64 bytes (Telegram's limit). Patterns match the whole data,
so a forged or garbled button that merely starts like one matches nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from telegram import Update

ANY = r"[^:]+"  # one part, whatever it is
NUMBER = r"[0-9]+"
RATING = r"[1-9]|10"
DAY = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
LIMIT = 64


@dataclass(frozen=True, slots=True)
class Callbacks:
    """The buttons of one section (or feature: "menu", "rem")."""

    section: str

    def __call__(self, action: str, *parts: object) -> str:
        value = ":".join([self.section, action, *map(str, parts)])
        if len(value.encode()) > LIMIT or any(":" in str(p) for p in parts):
            raise ValueError("callback data over 64 bytes, or a part with a colon")
        return value

    def pattern(self, action: str, *parts: str) -> str:
        """A regex for the data of one action; each part a regex (ANY, NUMBER, or literal)."""
        literal = [re.escape(self.section), re.escape(action)]
        return "^" + ":".join([*literal, *(f"(?:{p})" for p in parts)]) + "$"

    def any_action(self) -> str:
        """A regex for any button of this family with an action and no parts ("menu:learn")."""
        return f"^{re.escape(self.section)}:{ANY}$"

    def parts(self, update: Update) -> list[str]:
        """The parts after the action of a pressed button of this section ([] if not one)."""
        query = update.callback_query
        data = (query.data or "") if query is not None else ""
        head, _, rest = data.partition(":")
        if head != self.section:
            return []
        return rest.split(":")[1:]


MENU = Callbacks("menu")
