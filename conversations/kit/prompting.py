"""One live copy of a prompt: asking again takes the buttons off the copy before.

Every section that asks a question with buttons sends it through `ask_once`, which remembers the
message per person and section. The next prompt (or the same one asked again after a wrong
answer) first takes the keyboard off the earlier message, so an answer typed or tapped leaves no
live buttons behind, and a button pressed on an older copy that is still on screen is turned
away (`is_live`) instead of changing a stored answer. The message id is kept in PTB's chat data,
in memory: after a restart the first button pressed is believed (the place in the store still
decides which prompt it answers).
"""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Message, Update

from bot.context import BotContext
from conversations.kit.steps import (
    END,
    State,
    Step,
    acknowledge,
    help_row,
    keyboard,
    quietly,
    save,
    send,
)
from conversations.worksheet.content import Html, t


def _slot(section: str) -> str:
    return f"prompt:{section}"


async def ask_once(
    update: Update,
    context: BotContext,
    section: str,
    text: Html,
    markup: InlineKeyboardMarkup | None,
) -> Message | None:
    """Sends a prompt as the section's one live copy."""
    await retire(update, context, section)
    message = await send(update, text, markup)
    if message is not None and markup is not None and context.chat_data is not None:
        context.chat_data[_slot(section)] = message.message_id
    return message


async def retire(update: Update, context: BotContext, section: str) -> None:
    """Takes the buttons off the section's live prompt, unless it is the one being pressed."""
    if context.chat_data is None:
        return
    message_id = context.chat_data.pop(_slot(section), None)
    chat = update.effective_chat
    if message_id is None or chat is None:
        return
    query = update.callback_query
    pressed = query.message.message_id if query is not None and query.message else None
    if message_id != pressed:
        await quietly(context.bot.edit_message_reply_markup(chat.id, message_id, reply_markup=None))


async def is_live(update: Update, context: BotContext, section: str) -> bool:
    """Whether a pressed button is on the section's live prompt (or none is known)."""
    query = update.callback_query
    if query is None or query.message is None or context.chat_data is None:
        return True
    live = context.chat_data.get(_slot(section))
    return live is None or live == query.message.message_id


def on_live(section: str, state: State, step: Step) -> Step:
    """A button step that acts only on the section's live prompt: a press on an older copy is
    out of date and keeps the person in `state`, with nothing stored."""

    async def checked(update: Update, context: BotContext) -> State:
        if not await is_live(update, context, section):
            return await stale(update, state)
        return await step(update, context)

    return checked


async def stale(update: Update, state: State) -> State:
    """A button on an older copy of a prompt: changes nothing, and says where the live one is."""
    await acknowledge(update, t("common.stale_prompt"))
    return state


def leaving(section: str, words: str = "common.later") -> Step:
    """Not now (or Done): leaves the section with a kind word; everything saved stays, and the
    section's live prompt (if it has one) loses its buttons."""

    async def step(update: Update, context: BotContext) -> State:
        await acknowledge(update)
        state = await save(update, context, section, END)
        await retire(update, context, section)
        await send(update, t(words), keyboard(help_row()))
        return state

    return step
