"""/delete: erase everything a person gave the bot, once they confirm."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters
from telegram.ext.filters import UpdateType

from bot.context import BotContext
from conversations.kit.steps import (
    END,
    State,
    acknowledge,
    data,
    expect_buttons,
    keyboard,
    save,
    section_handler,
    send,
    stops,
)
from conversations.worksheet.content import t

SECTION = "delete"
CONFIRM = "delete.confirm"


async def ask(update: Update, context: BotContext) -> State:
    """Says what will be erased, that it cannot be undone, and asks to confirm."""
    await acknowledge(update)
    state = await save(update, context, SECTION, CONFIRM)
    if state == CONFIRM:
        buttons = keyboard(
            [(t("delete.yes_button"), data(SECTION, "yes"))],
            [(t("delete.no_button"), data(SECTION, "no"))],
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


async def use_buttons(update: Update, context: BotContext) -> State:
    """A message while the bot waits for Yes or No."""
    await expect_buttons(update, context)
    return CONFIRM


def build_handler() -> Any:
    """The /delete conversation."""
    return section_handler(
        SECTION,
        entry_points=[
            CommandHandler(SECTION, stops(ask), filters=UpdateType.MESSAGE),
            CallbackQueryHandler(stops(ask), pattern=f"^menu:{SECTION}$"),
        ],
        states={
            CONFIRM: [
                CallbackQueryHandler(stops(erase), pattern=f"^{SECTION}:yes$"),
                CallbackQueryHandler(stops(keep), pattern=f"^{SECTION}:no$"),
                MessageHandler(UpdateType.MESSAGE & ~filters.COMMAND, stops(use_buttons)),
            ],
        },
    )
