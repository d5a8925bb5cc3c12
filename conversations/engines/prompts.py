"""A section made of written prompts asked one at a time (reflections, closing questions).

Each answer is saved with the state that follows it, in one transaction. Coming back offers to
continue at the first prompt not yet reached, to revisit skipped prompts, or to start over.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler
from telegram.ext.filters import UpdateType

from bot.context import BotContext
from conversations.kit.steps import (
    END,
    NEW_NOT_TEXT,
    NEW_TEXT,
    State,
    acknowledge,
    data,
    expect_text,
    keyboard,
    later_row,
    save,
    section_handler,
    send,
    stops,
    text_of,
)
from conversations.worksheet.content import Html, t
from storage.repository import AnswerValue, Unit


@dataclass(frozen=True, slots=True)
class Prompt:
    """One written prompt: its answer key (without the section) and its words."""

    key: str
    text: Html


def answer_key(section: str, key: str) -> str:
    """The stored answer key of one prompt."""
    return f"{section}.{key}"


class PromptSequence:
    """Builds the ConversationHandler for a run of written prompts."""

    def __init__(
        self,
        section: str,
        prompts: Sequence[Prompt],
        *,
        command: str,
        intro: Callable[[], Html],
        on_done: Callable[[Update, BotContext, int], Any],
    ) -> None:
        self.section = section
        self.prompts = list(prompts)
        self.command = command
        self.intro = intro
        self.on_done = on_done

    # Where to go -----------------------------------------------------------------------------

    def _index(self, key: str) -> int:
        return next(i for i, p in enumerate(self.prompts) if p.key == key)

    def first_unreached(self, answers: dict[str, AnswerValue]) -> Prompt | None:
        """The first prompt neither answered nor skipped."""
        return next(
            (p for p in self.prompts if answer_key(self.section, p.key) not in answers), None
        )

    def next_skipped(self, answers: dict[str, AnswerValue], after: int = -1) -> Prompt | None:
        """The first skipped prompt after an index."""
        for prompt in self.prompts[after + 1 :]:
            value = answers.get(answer_key(self.section, prompt.key))
            if value is not None and value.text is None:
                return prompt
        return None

    async def _answers(self, update: Update, context: BotContext) -> dict[str, AnswerValue]:
        user = update.effective_user
        assert user is not None
        return await context.store.answers(user.id, f"{self.section}.")

    # Steps -----------------------------------------------------------------------------------

    async def ask(self, update: Update, prompt: Prompt, *, revisiting: bool = False) -> None:
        """Sends one prompt with Skip and Not now."""
        mode = "revisit" if revisiting else "ask"
        await send(
            update,
            prompt.text,
            keyboard(later_row(self.section, f"{mode}.{prompt.key}")),
        )

    async def enter(self, update: Update, context: BotContext) -> State:
        """Starts the section, or offers to continue, revisit or start over."""
        await acknowledge(update)
        answers = await self._answers(update, context)
        nxt = self.first_unreached(answers)
        if not answers:
            await send(update, self.intro())
            return await self._move(update, context, self.prompts[0])
        if nxt is not None:
            choice = [
                (t("common.continue"), data(self.section, "continue")),
                (t("common.start_over"), data(self.section, "over")),
            ]
            await send(
                update, t(f"{self.section}.resume"), keyboard(choice, later_row(self.section))
            )
        elif self.next_skipped(answers) is not None:
            choice = [
                (t(f"{self.section}.revisit_button"), data(self.section, "revisit")),
                (t("common.start_over"), data(self.section, "over")),
            ]
            await send(
                update, t(f"{self.section}.revisit"), keyboard(choice, later_row(self.section))
            )
        else:
            choice = [(t("common.start_over"), data(self.section, "over"))]
            await send(
                update, t(f"{self.section}.complete"), keyboard(choice, later_row(self.section))
            )
        return await save(update, context, self.section, f"{self.section}.choose")

    async def _move(
        self,
        update: Update,
        context: BotContext,
        prompt: Prompt | None,
        write: Callable[[Unit], Any] | None = None,
        *,
        revisiting: bool = False,
    ) -> State:
        """Saves `write` with the state of the next prompt (or the end), then asks it."""
        if prompt is None:
            state = await save(update, context, self.section, END, write)
            answers = await self._answers(update, context)
            skipped = sum(1 for a in answers.values() if a.text is None)
            await self.on_done(update, context, skipped)
            return state
        state = await save(update, context, self.section, self.state(prompt, revisiting), write)
        if state != END:
            await self.ask(update, prompt, revisiting=revisiting)
        return state

    async def resume(self, update: Update, context: BotContext) -> State:
        """Continues at the first prompt not yet reached."""
        await acknowledge(update)
        answers = await self._answers(update, context)
        return await self._move(update, context, self.first_unreached(answers))

    async def revisit(self, update: Update, context: BotContext) -> State:
        """Goes back to the first skipped prompt."""
        await acknowledge(update)
        answers = await self._answers(update, context)
        return await self._move(update, context, self.next_skipped(answers), revisiting=True)

    async def start_over(self, update: Update, context: BotContext) -> State:
        """Clears this section's answers and asks from the beginning."""
        await acknowledge(update)
        prefix = f"{self.section}."

        async def clear(unit: Unit) -> None:
            await unit.clear_answers(prefix)

        return await self._move(update, context, self.prompts[0], clear)

    async def later(self, update: Update, context: BotContext) -> State:
        """Leaves the section; everything answered stays."""
        await acknowledge(update)
        state = await save(update, context, self.section, END)
        await send(update, t("common.later"))
        return state

    def _after(
        self, answers: dict[str, AnswerValue], index: int, revisiting: bool
    ) -> Prompt | None:
        if revisiting:
            return self.next_skipped(answers, index)
        return self.prompts[index + 1] if index + 1 < len(self.prompts) else None

    def answer(self, prompt: Prompt, *, revisiting: bool) -> Any:
        """The handler for a written answer to one prompt."""
        index = self._index(prompt.key)
        key = answer_key(self.section, prompt.key)

        async def step(update: Update, context: BotContext) -> State:
            text = text_of(update)
            if not text:
                await send(update, t("common.empty"))
                await self.ask(update, prompt, revisiting=revisiting)
                return self.state(prompt, revisiting)
            message = update.message
            assert message is not None

            async def write(unit: Unit) -> None:
                await unit.save_answer(key, text, message_id=message.message_id)

            answers = await self._answers(update, context)
            answers.pop(key, None)
            return await self._move(
                update,
                context,
                self._after(answers, index, revisiting),
                write,
                revisiting=revisiting,
            )

        return stops(step)

    def skip(self, prompt: Prompt, *, revisiting: bool) -> Any:
        """The handler for Skip on one prompt."""
        index = self._index(prompt.key)
        key = answer_key(self.section, prompt.key)

        async def step(update: Update, context: BotContext) -> State:
            await acknowledge(update, t("common.skipped"))

            async def write(unit: Unit) -> None:
                await unit.skip_answer(key)

            answers = await self._answers(update, context)
            return await self._move(
                update,
                context,
                self._after(answers, index, revisiting),
                write,
                revisiting=revisiting,
            )

        return stops(step)

    def wrong_kind(self, prompt: Prompt, *, revisiting: bool) -> Any:
        """The handler for a photo, sticker or file where text is expected."""

        async def step(update: Update, context: BotContext) -> State:
            await expect_text(update, context)
            await self.ask(update, prompt, revisiting=revisiting)
            return self.state(prompt, revisiting)

        return stops(step)

    def state(self, prompt: Prompt, revisiting: bool) -> str:
        """The conversation state while one prompt waits for its answer."""
        return f"{self.section}.{'revisit' if revisiting else 'ask'}.{prompt.key}"

    # Wiring ----------------------------------------------------------------------------------

    def build(self) -> Any:
        """The section's ConversationHandler."""
        s = self.section
        later = CallbackQueryHandler(stops(self.later), pattern=f"^{s}:later$")
        states: dict[object, list[BaseHandler[Update, Any, Any]]] = {
            f"{s}.choose": [
                CallbackQueryHandler(stops(self.resume), pattern=f"^{s}:continue$"),
                CallbackQueryHandler(stops(self.revisit), pattern=f"^{s}:revisit$"),
                CallbackQueryHandler(stops(self.start_over), pattern=f"^{s}:over$"),
                later,
            ],
        }
        for prompt in self.prompts:
            for revisiting in (False, True):
                mode = "revisit" if revisiting else "ask"
                states[f"{s}.{mode}.{prompt.key}"] = [
                    MessageHandler(NEW_TEXT, self.answer(prompt, revisiting=revisiting)),
                    CallbackQueryHandler(
                        self.skip(prompt, revisiting=revisiting),
                        pattern="^" + re.escape(data(s, "skip", f"{mode}.{prompt.key}")) + "$",
                    ),
                    later,
                    MessageHandler(NEW_NOT_TEXT, self.wrong_kind(prompt, revisiting=revisiting)),
                ]
        return section_handler(
            s,
            entry_points=[
                CommandHandler(self.command, stops(self.enter), filters=UpdateType.MESSAGE),
                CallbackQueryHandler(stops(self.enter), pattern=f"^menu:{s}$"),
            ],
            states=states,
        )
