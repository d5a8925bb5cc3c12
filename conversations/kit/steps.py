"""What every section shares: callback data, keyboards, saving a step with its state, fallbacks."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from contextvars import ContextVar
from typing import Any, TypeAlias

from telegram import (
    CallbackQuery,
    Chat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.error import BadRequest
from telegram.ext import (
    ApplicationHandlerStop,
    BaseHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.context import BotContext
from bot.places import PlaceHandler
from conversations.kit.callbacks import MENU, Callbacks
from conversations.kit.limits import split
from conversations.worksheet.content import Html, t
from storage.repository import DuplicateUpdate, PersonInfo, PersonMissing, Unit

logger = logging.getLogger(__name__)

END = ConversationHandler.END
State: TypeAlias = str | int
Step: TypeAlias = Callable[[Update, BotContext], Coroutine[Any, Any, State]]
Button: TypeAlias = tuple[str, str]

# New messages only: an edit must never become the answer to a later prompt.
NEW_TEXT = filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND
NEW_NOT_TEXT = filters.UpdateType.MESSAGE & ~filters.TEXT & ~filters.COMMAND
NOT_A_COMMAND = filters.UpdateType.MESSAGE & ~filters.COMMAND

# Set while a protected step runs (see protected): what `send` sends then cannot be forwarded
# or saved. A ContextVar, so each update's task has its own.
_protect: ContextVar[bool] = ContextVar("protect", default=False)


def keyboard(*rows: Sequence[Button]) -> InlineKeyboardMarkup:
    """Inline keyboard from rows of (label, callback data)."""
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(label, callback_data=cb) for label, cb in row]
            for row in rows
            if row
        ]
    )


def rating_rows(section: str, *parts: object) -> list[list[Button]]:
    """Buttons 1-10 in two rows of five, with callback data `section:parts:N`."""
    cb = Callbacks(section)
    action, *rest = map(str, parts)
    numbers = [(str(n), cb(action, *rest, n)) for n in range(1, 11)]
    return [numbers[:5], numbers[5:]]


def help_row() -> list[Button]:
    """Help one tap away: the crisis text, and the menu (under every kind "not now" reply)."""
    return [(t("crisis.button"), MENU("crisis")), (t("common.menu"), MENU("menu"))]


def later_row(section: str, skip_key: str | None = None) -> list[Button]:
    """The row every prompt offers: Skip (if the prompt can be skipped) and Not now."""
    row: list[Button] = []
    if skip_key is not None:
        row.append((t("common.skip"), Callbacks(section)("skip", skip_key)))
    row.append((t("common.not_now"), Callbacks(section)("later")))
    return row


def stops(step: Step) -> Step:
    """Make a step end the update's handling once the section has taken it."""

    @functools.wraps(step)
    async def wrapper(update: Update, context: BotContext) -> State:
        raise ApplicationHandlerStop(await step(update, context))

    return wrapper


def protected(step: Step) -> Step:
    """A step whose replies show what the person wrote (/review): sent with protect_content,
    no forwarding or saving, while the person keeps "Protect my messages" on (the default)."""

    @functools.wraps(step)
    async def wrapper(update: Update, context: BotContext) -> State:
        person = await person_of(update, context)
        token = _protect.set(person is None or person.protect_messages)
        try:
            return await step(update, context)
        finally:
            _protect.reset(token)

    return wrapper


async def send(
    update: Update, text: str, markup: InlineKeyboardMarkup | None = None
) -> Message | None:
    """Send a new message to the person who sent the update (protected in a protected step);
    a text longer than one message goes in parts (kit/limits.py), the buttons under the last."""
    chat = update.effective_chat
    if chat is None:
        return None
    *first, last = split(text) or [Html(text)]
    for part in first:
        await _send_one(chat, part, None)
    return await _send_one(chat, last, markup)


async def _send_one(chat: Chat, text: str, markup: InlineKeyboardMarkup | None) -> Message:
    if _protect.get():
        return await chat.send_message(text, reply_markup=markup, protect_content=True)
    return await chat.send_message(text, reply_markup=markup)


async def acknowledge(update: Update, text: str | None = None, *, close: bool = True) -> None:
    """Answer a button press; by default also remove the keyboard it came from."""
    query = update.callback_query
    if query is None:
        return
    await quietly(query.answer(text))
    message = query.message
    # The main menu stays usable: only a section's own buttons are taken away once pressed.
    if (query.data or "").startswith("menu:"):
        return
    if close and isinstance(message, Message) and message.reply_markup is not None:
        await quietly(query.edit_message_reply_markup(None))


async def quietly(awaitable: Awaitable[Any]) -> None:
    """Await a Telegram call whose harmless 400s (not modified, too old) don't matter."""
    try:
        await awaitable
    except BadRequest as error:
        logger.debug("Ignored a harmless BadRequest: %s", type(error).__name__)


async def save(
    update: Update,
    context: BotContext,
    section: str,
    state: State,
    write: Callable[[Unit], Awaitable[None]] | None = None,
    *,
    data_: dict[str, Any] | None = None,
) -> State:
    """Run `write` and record the new state in one transaction, marking the update handled.

    Returns the state the conversation should move to: `state` when saved; the same state on a
    redelivered update; END when the person no longer exists.
    """
    user = update.effective_user
    if user is None:
        return END
    stored_state = None if state == END else str(state)
    visit = context.visit
    try:
        async with context.store.unit(user.id, update_id=update.update_id, visit=visit) as unit:
            if write is not None:
                await write(unit)
            await unit.set_state(section, stored_state, data_)
        if visit is not None:  # what this update's own writes changed, for the steps after
            visit.place = unit.place
            visit.person = unit.person
    except DuplicateUpdate:
        logger.info("Update %s redelivered; nothing stored again", update.update_id)
    except PersonMissing:
        await send(update, t("errors.consent_needed"))
        return END
    return state


async def position_data(update: Update, context: BotContext, section: str) -> dict[str, Any]:
    """The small data saved with a person's place in a section (from the update's visit)."""
    visit = context.visit
    if visit is not None:
        place = visit.place
        return dict(place.data) if place is not None and place.section == section else {}
    user = update.effective_user
    if user is None:
        return {}
    position = await context.store.position(user.id, section)
    return {} if position is None else position.data


async def person_of(update: Update, context: BotContext) -> PersonInfo | None:
    """The person who sent the update, as the update's visit read them (None before consent)."""
    visit = context.visit
    if visit is not None:
        return visit.person
    user = update.effective_user
    return None if user is None else await context.store.get_person(user.id)


def text_of(update: Update) -> str:
    """The text of a new message, stripped."""
    message = update.message
    return (message.text or "").strip() if message is not None else ""


async def expect_text(update: Update, context: BotContext) -> None:
    """Tells the person that this prompt takes a written answer."""
    await send(update, t("common.expect_text"))


async def expect_buttons(update: Update, context: BotContext) -> None:
    """Tells the person to use the buttons above."""
    await send(update, t("common.expect_buttons"))


def wait_for_buttons(state: str) -> MessageHandler[Any, Any]:
    """A message (not a command) while a step waits for a button: points to the buttons and
    stays in `state`; nothing is stored or changed."""

    async def step(update: Update, context: BotContext) -> State:
        await expect_buttons(update, context)
        return state

    return MessageHandler(NOT_A_COMMAND, stops(step))


def section_handler(
    name: str,
    *,
    entry_points: list[BaseHandler[Update, Any, Any]],
    states: dict[object, list[BaseHandler[Update, Any, Any]]],
) -> ConversationHandler[Any]:
    """A re-enterable section whose state is the person's stored place (bot/places.py)."""
    return PlaceHandler(
        entry_points=entry_points,
        states=states,
        fallbacks=[],
        name=name,
        allow_reentry=True,
    )


def callback_query(update: Update) -> CallbackQuery:
    """The update's callback query (for handlers registered only for buttons)."""
    assert update.callback_query is not None
    return update.callback_query


def bold(text: str) -> Html:
    """Bold HTML around already-safe text."""
    return Html(f"<b>{text}</b>")
