"""/delete: erase everything a person gave the bot, once they confirm."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters
from telegram.ext.filters import UpdateType

from bot.context import BotContext
from bot.reminders import forget_jobs
from conversations.common import (
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
from conversations.content import t

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
    forget_jobs(context.job_queue, [schedule.id for schedule in schedules])
    forget(context.application, chat.id, user.id)
    await send(update, t("delete.done"))
    return END


def forget(
    application: Application[Any, Any, Any, Any, Any, Any], chat_id: int, user_id: int
) -> None:
    """Ends the person's sections in memory and drops whatever PTB keeps for their chat."""
    # bot.app imports this module to build its handlers, so it is imported here, when used.
    from bot.app import end_sections

    end_sections(application, (chat_id, user_id))
    application.drop_chat_data(chat_id)
    application.drop_user_data(user_id)


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
