"""Section 1, "What to Know": the worksheet's psychoeducation, a page at a time."""

from __future__ import annotations

from typing import Any

from telegram import Update

from bot.context import BotContext
from conversations.engines.pages import Pager, Words, Write
from conversations.kit.steps import Button, send
from conversations.worksheet.content import Html, items, t
from storage.repository import Unit

SECTION = "learn"
DONE_KEY = "learn.done"


async def store_done(unit: Unit) -> None:
    """Records that the last page was reached."""
    await unit.save_answer(DONE_KEY, "1")


class Learn(Pager):
    """The pages of "What to Know", with a closing line after the last one."""

    async def page(
        self, update: Update, context: BotContext, number: int
    ) -> tuple[Html, list[list[Button]]]:
        """One page of the reading, headed with where it is."""
        heading = t("learn.progress", number=number, total=self.count)
        return Html(f"{heading}\n\n{items('learn.pages')[number - 1]}"), []

    def reached(self, number: int) -> Write | None:
        """The last page marks the reading as done."""
        return store_done if number == self.count else None

    async def finish(self, update: Update, context: BotContext) -> None:
        """Thanks the person and points to what comes next."""
        await send(update, t("learn.closing"))


def build_handler() -> Any:
    """The /learn conversation."""
    return Learn(
        SECTION,
        count=len(items("learn.pages")),
        command="learn",
        words=Words(
            resume="learn.resume",
            from_start="learn.from_start",
            later="learn.later",
            last_button="common.done",
        ),
    ).build()
