"""/delete: erase everything a person gave the bot, once they confirm."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler
from telegram.ext.filters import UpdateType

from bot.context import BotContext
from conversations.kit.callbacks import MENU, Callbacks
from conversations.kit.steps import (
    END,
    State,
    acknowledge,
    keyboard,
    save,
    section_handler,
    send,
    stops,
    wait_for_buttons,
)
from conversations.worksheet.content import t

SECTION = "delete"
CB = Callbacks(SECTION)
CONFIRM = "delete.confirm"


async def ask(update: Update, context: BotContext) -> State:
    """Says what will be erased, that it cannot be undone, and asks to confirm."""
    await acknowledge(update)
    state = await save(update, context, SECTION, CONFIRM)
    if state == CONFIRM:
        buttons = keyboard(
            [(t("delete.yes_button"), CB("yes"))],
            [(t("delete.no_button"), CB("no"))],
        )
        await send(update, t("delete.ask"), buttons)
    return state


async def erase(update: Update, context: BotContext) -> State:
    """Deletes every row of the person, then their queued reminders and in-memory places."""
    await acknowledge(update)
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    schedules = await context.store.schedules(user.id)
    await context.store.delete_person(user.id)
    context.forget_reminders([schedule.id for schedule in schedules])
    context.forget_person(chat.id, user.id)
    await send(update, t("delete.done"))
    return END


async def keep(update: Update, context: BotContext) -> State:
    """Deletes nothing and says so."""
    await acknowledge(update)
    state = await save(update, context, SECTION, END)
    await send(update, t("delete.kept"))
    return state


def build_handler() -> Any:
    """The /delete conversation."""
    return section_handler(
        SECTION,
        entry_points=[
            CommandHandler(SECTION, stops(ask), filters=UpdateType.MESSAGE),
            CallbackQueryHandler(stops(ask), pattern=MENU.pattern(SECTION)),
        ],
        states={
            CONFIRM: [
                CallbackQueryHandler(stops(erase), pattern=CB.pattern("yes")),
                CallbackQueryHandler(stops(keep), pattern=CB.pattern("no")),
                wait_for_buttons(CONFIRM),
            ],
        },
    )
