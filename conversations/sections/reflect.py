"""Section 4, "What to Do": eight reflection prompts, one at a time (prompt 6 takes three)."""

from __future__ import annotations

from typing import Any

from telegram import Update

from bot.context import BotContext
from conversations.engines.prompts import Prompt, PromptSequence
from conversations.kit.steps import send
from conversations.worksheet.content import Html, items, t

SECTION = "reflect"


def prompts() -> list[Prompt]:
    """The prompts, each headed with its number."""
    out = []
    for item in items("reflect.prompts"):
        # Prompt 6 takes three answers (q6.1, q6.2, q6.3): the number is the key's, not the index.
        number = int(item["key"][1:].split(".")[0])
        heading = t("reflect.progress", number=number)
        out.append(Prompt(key=item["key"], text=Html(f"<i>{heading}</i>\n\n{item['text']}")))
    return out


async def done(update: Update, context: BotContext, skipped: int) -> None:
    """Thanks the person at the end."""
    if skipped:
        await send(update, t("reflect.done_with_skips", count=skipped))
    else:
        await send(update, t("reflect.done"))


def build_handler() -> Any:
    """The /reflect conversation."""
    return PromptSequence(
        SECTION,
        prompts(),
        command="reflect",
        intro=lambda: t("reflect.intro"),
        on_done=done,
    ).build()
