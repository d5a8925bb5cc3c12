"""The toggles engine: a list of statements to tick, in one message, stored as they are tapped.

The statements are one message whose buttons toggle them; each tap is saved at once (the model's
selection codec, "1,4") and the same message's keyboard is redrawn with check marks. A later
visit shows the stored choices checked. Done marks the section done and shows what was ticked,
then the section's follow-up words when anything applies (or a kind word when nothing does).
"""

from __future__ import annotations

import re
from typing import Any

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, ConversationHandler, filters

from bot.context import BotContext
from conversations.kit.callbacks import MENU, Callbacks
from conversations.kit.prompting import leaving
from conversations.kit.steps import (
    END,
    Button,
    State,
    acknowledge,
    callback_query,
    keyboard,
    position_data,
    quietly,
    save,
    section_handler,
    send,
    stops,
    wait_for_buttons,
)
from conversations.worksheet import words
from conversations.worksheet.content import Html, items, lookup, t
from conversations.worksheet.current import worksheet
from conversations.worksheet.model import Item, Section
from storage.repository import Unit


class Toggles:
    """One toggles section's steps and wiring."""

    # The section's own words this engine looks up ("<section>.<name>"); next/next_button are
    # optional (a pointer to the section after it).
    WORDS: tuple[str, ...] = (
        "intro",
        "again",
        "how",
        "statement",
        "button",
        "chosen",
        "ticked",
        "ticked_item",
    )
    WORDS += ("none", "followup", "next", "next_button")

    def __init__(self, section: Section) -> None:
        self.section = section
        self.cb = Callbacks(section.id)
        self.choose = f"{section.id}.choose"

    def number(self, item: Item) -> int:
        return self.section.items.index(item) + 1

    # Reading ---------------------------------------------------------------------------------

    async def stored(self, context: BotContext, telegram_id: int) -> str | None:
        """The saved selection as stored (None if nothing was saved yet)."""
        key = self.section.selection_key
        value = (await context.store.answers(telegram_id, key)).get(key)
        return None if value is None else (value.text or "")

    # What the person sees --------------------------------------------------------------------

    def text(self) -> Html:
        """The one message listing every statement, title in bold."""
        s = self.section.id
        lines = [t(f"{s}.how")]
        for item in self.section.items:
            lines.append(
                t(
                    f"{s}.statement",
                    number=self.number(item),
                    title=Html(str(words.of(item)["title"])),
                    text=Html(str(words.of(item)["text"])),
                )
            )
        return Html("\n\n".join(lines))

    def keyboard(self, stored: str | None) -> InlineKeyboardMarkup:
        """A toggle per statement (checked when chosen), then Done and Not now."""
        chosen = self.section.selected(stored)
        s = self.section.id
        rows: list[list[Button]] = []
        for item in self.section.items:
            key = f"{s}.chosen" if item in chosen else f"{s}.button"
            label = t(key, number=self.number(item), label=Html(words.label(item)))
            rows.append([(label, self.cb("toggle", item.id))])
        rows.append([(t("common.done"), self.cb("done"))])
        rows.append([(t("common.not_now"), self.cb("later"))])
        return keyboard(*rows)

    def ticked(self, stored: str | None) -> Html:
        """The statements the person ticked, each with its number and full title."""
        lines = [
            t(f"{self.section.id}.ticked_item", number=self.number(i), title=words.title(i))
            for i in self.section.selected(stored)
        ]
        return t(f"{self.section.id}.ticked", statements=Html("\n".join(lines)))

    @staticmethod
    def user_id(update: Update) -> int:
        user = update.effective_user
        assert user is not None
        return user.id

    async def on_current_list(self, update: Update, context: BotContext) -> bool:
        """Whether a button comes from the statements message this visit showed."""
        expected = (await position_data(update, context, self.section.id)).get("message_id")
        message = callback_query(update).message
        return expected is None or (message is not None and message.message_id == expected)

    # Steps -----------------------------------------------------------------------------------

    async def enter(self, update: Update, context: BotContext) -> State:
        """Shows the intro and the statements, with earlier choices checked."""
        await acknowledge(update)
        s = self.section.id
        answers = await context.store.answers(self.user_id(update), f"{s}.")
        saved = answers.get(self.section.selection_key)
        stored = None if saved is None else (saved.text or "")
        await send(update, t(f"{s}.again") if answers else t(f"{s}.intro"))
        message: Message | None = await send(update, self.text(), self.keyboard(stored))
        position = {"message_id": message.message_id} if message is not None else None
        return await save(update, context, s, self.choose, data_=position)

    async def toggle(self, update: Update, context: BotContext) -> State:
        """Checks or unchecks one statement, saves it, and redraws the check marks."""
        query = callback_query(update)
        if not await self.on_current_list(update, context):
            await acknowledge(update, t("errors.stale_button"), close=False)
            return self.choose
        await acknowledge(update, close=False)
        item_id = self.cb.parts(update)[-1]
        key = self.section.selection_key
        toggled: list[str] = []

        async def write(unit: Unit) -> None:
            # Read in the write's own transaction, so nothing lands in between.
            toggled.append(self.section.toggled(await unit.answer_text(key), item_id))
            await unit.save_answer(key, toggled[-1])

        position = await position_data(update, context, self.section.id)
        state = await save(update, context, self.section.id, self.choose, write, data_=position)
        if state == self.choose and toggled:
            await quietly(query.edit_message_reply_markup(self.keyboard(toggled[-1])))
        return state

    async def done(self, update: Update, context: BotContext) -> State:
        """Marks the list done, shows what was ticked, then the follow-up (or a kind word)."""
        if not await self.on_current_list(update, context):
            await acknowledge(update, t("errors.stale_button"), close=False)
            return self.choose
        await acknowledge(update)
        s = self.section.id
        key = self.section.selection_key
        final: list[str] = []

        async def write(unit: Unit) -> None:
            current = await unit.answer_text(key)
            if current is None:
                current = self.section.selection([])
                await unit.save_answer(key, current)
            final.append(current)
            await unit.mark(self.section.done_key)

        state = await save(update, context, s, END, write)
        stored = final[-1] if final else await self.stored(context, self.user_id(update))
        if self.section.selected(stored):
            await send(update, self.ticked(stored))
            for paragraph in items(f"{s}.followup"):
                await send(update, Html(paragraph))
        else:
            await send(update, t(f"{s}.none"))
        await self.next_step(update)
        return state

    async def next_step(self, update: Update) -> None:
        """Points to the section that follows in the worksheet, if the section has words for it."""
        s = self.section.id
        sections = list(worksheet().sections)
        index = sections.index(self.section)
        if not isinstance(lookup(f"{s}.next"), str) or index + 1 >= len(sections):
            return
        following = sections[index + 1].id
        button_key = f"{s}.next_button"
        button = t(button_key) if isinstance(lookup(button_key), str) else t(f"menu.{following}")
        await send(
            update,
            t(f"{s}.next"),
            keyboard([(button, MENU(following))], [(t("common.menu"), MENU("menu"))]),
        )

    async def later(self, update: Update, context: BotContext) -> State:
        """Leaves the list; every check mark so far stays saved."""
        return await leaving(self.section.id)(update, context)

    def build(self) -> ConversationHandler[Any]:
        """The section's ConversationHandler."""
        ids = "|".join(re.escape(item.id) for item in self.section.items)
        toggle = self.cb.pattern("toggle", ids)
        return section_handler(
            self.section.id,
            entry_points=[
                CommandHandler(
                    self.section.command, stops(self.enter), filters=filters.UpdateType.MESSAGE
                ),
                CallbackQueryHandler(stops(self.enter), pattern=MENU.pattern(self.section.id)),
            ],
            states={
                self.choose: [
                    CallbackQueryHandler(stops(self.toggle), pattern=toggle),
                    CallbackQueryHandler(stops(self.done), pattern=self.cb.pattern("done")),
                    CallbackQueryHandler(stops(self.later), pattern=self.cb.pattern("later")),
                    wait_for_buttons(self.choose),
                ],
            },
        )
