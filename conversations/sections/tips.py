"""Section 3, "How can you build trust?": seven tips a page at a time, each can be marked to try."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from telegram import Update

from bot.context import BotContext
from conversations.engines.pages import Handlers, Pager, Words, Write, message_of, page_state
from conversations.kit.steps import END, Button, State, Step, acknowledge, data, send
from conversations.worksheet.content import Html, items, t
from storage.repository import Unit

SECTION = "tips"
MARKED_KEY = "tips.marked"
DONE_KEY = "tips.done"


def parse_marks(value: str | None, count: int) -> set[int]:
    """The tip numbers in a stored "1,4" list (anything else in it is ignored)."""
    numbers = (part.strip() for part in (value or "").split(","))
    return {int(n) for n in numbers if n.isascii() and n.isdigit() and 1 <= int(n) <= count}


def format_marks(marks: Iterable[int]) -> str:
    """Tip numbers as stored: ascending, comma-separated ("" for none)."""
    return ",".join(str(n) for n in sorted(set(marks)))


def toggled(marks: set[int], number: int) -> set[int]:
    """The marks with one tip marked, or unmarked if it was."""
    return marks ^ {number}


async def store_done(unit: Unit) -> None:
    """Records that the last tip was reached."""
    await unit.save_answer(DONE_KEY, "1")


class Tips(Pager):
    """The seven tips, the worksheet's closing words and the person's marked tips."""

    async def marks(self, update: Update, context: BotContext) -> set[int]:
        """The tips this person marked "I'll try this"."""
        user = update.effective_user
        assert user is not None
        answer = (await context.store.answers(user.id, MARKED_KEY)).get(MARKED_KEY)
        return parse_marks(answer.text if answer else None, self.count)

    async def begin(self, update: Update, context: BotContext) -> None:
        """The worksheet's question that opens the tips."""
        await send(update, t("tips.intro"))

    async def page(
        self, update: Update, context: BotContext, number: int
    ) -> tuple[Html, list[list[Button]]]:
        """One tip with its example, and the "I'll try this" button (checked when marked)."""
        tip = items("tips.list")[number - 1]
        marked = number in await self.marks(update, context)
        parts = [
            t("tips.progress", number=number, total=self.count),
            t("tips.tip", title=tip["title"], text=tip["text"]),
            t("tips.example", example=tip["example"]),
        ]
        if marked:
            parts.append(t("tips.marked_note"))
        label = t("tips.unmark") if marked else t("tips.mark")
        return Html("\n\n".join(parts)), [[(label, data(SECTION, "mark", number))]]

    def reached(self, number: int) -> Write | None:
        """The last tip marks the tips as done."""
        return store_done if number == self.count else None

    def toggle(self, number: int) -> Step:
        """I'll try this: marks or unmarks the tip, stored at once, and shows it."""

        async def step(update: Update, context: BotContext) -> State:
            await acknowledge(update, close=False)
            marks = format_marks(toggled(await self.marks(update, context), number))

            async def write(unit: Unit) -> None:
                await unit.save_answer(MARKED_KEY, marks)

            state = await self.move(update, context, number, message_of(update).message_id, write)
            if state != END:
                await self.redraw(update, context, number)
            return state

        return step

    def page_handlers(self, number: int) -> Handlers:
        """The "I'll try this" button of a tip."""
        return [self.button(self.toggle(number), page_state(SECTION, number), "mark", number)]

    async def finish(self, update: Update, context: BotContext) -> None:
        """The worksheet's closing words, then the tips the person wants to try."""
        await send(update, t("tips.closing"))
        marks = sorted(await self.marks(update, context))
        if not marks:
            await send(update, t("tips.summary_none"))
            return
        tips = items("tips.list")
        lines = [t("tips.summary_item", title=tips[n - 1]["title"]) for n in marks]
        await send(update, t("tips.summary", marked=Html("\n".join(lines))))


def build_handler() -> Any:
    """The /tips conversation."""
    return Tips(
        SECTION,
        count=len(items("tips.list")),
        command="tips",
        words=Words(
            resume="tips.resume",
            from_start="tips.from_start",
            later="tips.later",
            last_button="common.next",
        ),
    ).build()
