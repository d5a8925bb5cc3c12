"""Section 2, "Are you holding back?": eight statements to check off, stored as they are tapped.

The statements are one message whose buttons toggle them; each tap is saved at once and the same
message's keyboard is redrawn with check marks. A later visit shows the stored choices checked.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler

from bot.context import BotContext
from conversations.kit.steps import (
    END,
    NEW_NOT_TEXT,
    NEW_TEXT,
    Button,
    State,
    acknowledge,
    callback_query,
    data,
    expect_buttons,
    keyboard,
    later_row,
    position_data,
    quietly,
    save,
    section_handler,
    send,
    stops,
)
from conversations.worksheet.content import Html, items, t
from storage.repository import Unit

SECTION = "checklist"
CHOOSE = "checklist.choose"
SELECTED = "checklist.selected"
DONE = "checklist.done"
TOGGLE = "toggle"


# The selection as stored ---------------------------------------------------------------------


def statement_count() -> int:
    """How many statements the checklist has."""
    return len(items("checklist.statements"))


def parse_selection(text: str | None, count: int) -> list[int]:
    """The statement numbers in a stored selection ("1,4"), sorted, unknown ones left out."""
    numbers = {int(part) for part in (text or "").split(",") if part.strip().isdecimal()}
    return sorted(n for n in numbers if 1 <= n <= count)


def format_selection(numbers: Iterable[int]) -> str:
    """A selection as it is stored: numbers in order, comma-separated ("" for none)."""
    return ",".join(str(n) for n in sorted(set(numbers)))


def toggled(numbers: Iterable[int], number: int) -> list[int]:
    """The selection with one statement switched on or off."""
    chosen = set(numbers)
    chosen.symmetric_difference_update({number})
    return sorted(chosen)


async def stored_selection(context: BotContext, telegram_id: int) -> list[int] | None:
    """The saved selection (None if nothing was saved yet)."""
    answers = await context.store.answers(telegram_id, SELECTED)
    value = answers.get(SELECTED)
    return None if value is None else parse_selection(value.text, statement_count())


# What the person sees ------------------------------------------------------------------------


def statements_text() -> Html:
    """The one message listing every statement, title in bold."""
    lines = [t("checklist.how")]
    for number, item in enumerate(items("checklist.statements"), start=1):
        lines.append(
            t(
                "checklist.statement",
                number=number,
                title=Html(item["title"]),
                text=Html(item["text"]),
            )
        )
    return Html("\n\n".join(lines))


def statements_keyboard(selected: Iterable[int]) -> InlineKeyboardMarkup:
    """A toggle per statement (checked when chosen), then Done and Not now."""
    chosen = set(selected)
    rows: list[list[Button]] = []
    for number, item in enumerate(items("checklist.statements"), start=1):
        key = "checklist.chosen" if number in chosen else "checklist.button"
        rows.append(
            [(t(key, number=number, label=Html(item["label"])), data(SECTION, TOGGLE, number))]
        )
    rows.append([(t("common.done"), data(SECTION, "done"))])
    rows.append(later_row(SECTION))
    return keyboard(*rows)


def _user_id(update: Update) -> int:
    user = update.effective_user
    assert user is not None
    return user.id


async def _on_current_list(update: Update, context: BotContext) -> bool:
    """Whether a button comes from the statements message this visit showed."""
    expected = (await position_data(update, context, SECTION)).get("message_id")
    message = callback_query(update).message
    return expected is None or (message is not None and message.message_id == expected)


# Steps ---------------------------------------------------------------------------------------


async def enter(update: Update, context: BotContext) -> State:
    """Shows the intro and the statements, with earlier choices checked."""
    await acknowledge(update)
    answers = await context.store.answers(_user_id(update), f"{SECTION}.")
    earlier = answers.get(SELECTED)
    selected = parse_selection(earlier.text if earlier else None, statement_count())
    await send(update, t("checklist.again") if answers else t("checklist.intro"))
    message: Message | None = await send(update, statements_text(), statements_keyboard(selected))
    position = {"message_id": message.message_id} if message is not None else None
    return await save(update, context, SECTION, CHOOSE, data_=position)


async def toggle(update: Update, context: BotContext) -> State:
    """Checks or unchecks one statement, saves it, and redraws the check marks."""
    query = callback_query(update)
    if not await _on_current_list(update, context):
        await acknowledge(update, t("errors.stale_button"), close=False)
        return CHOOSE
    await acknowledge(update, close=False)
    number = int((query.data or "").rsplit(":", 1)[1])
    telegram_id = _user_id(update)

    async def write(unit: Unit) -> None:
        # Read inside the transaction: on SQLite it holds the only write lock, so no other write
        # lands in between; a person's updates are also handled one at a time (bot/processor.py).
        current = await stored_selection(context, telegram_id) or []
        await unit.save_answer(SELECTED, format_selection(toggled(current, number)))

    position = await position_data(update, context, SECTION)
    state = await save(update, context, SECTION, CHOOSE, write, data_=position)
    if state == CHOOSE:
        selected = await stored_selection(context, telegram_id) or []
        await quietly(query.edit_message_reply_markup(statements_keyboard(selected)))
    return state


async def done(update: Update, context: BotContext) -> State:
    """Saves that the checklist was done, then the follow-up (or a kind word if none apply)."""
    if not await _on_current_list(update, context):
        await acknowledge(update, t("errors.stale_button"), close=False)
        return CHOOSE
    await acknowledge(update)
    telegram_id = _user_id(update)

    async def write(unit: Unit) -> None:
        if await stored_selection(context, telegram_id) is None:
            await unit.save_answer(SELECTED, format_selection([]))
        await unit.save_answer(DONE, "1")

    state = await save(update, context, SECTION, END, write)
    if await stored_selection(context, telegram_id):
        for paragraph in items("checklist.followup"):
            await send(update, Html(paragraph))
    else:
        await send(update, t("checklist.none"))
    await send(
        update,
        t("checklist.next"),
        keyboard(
            [(t("checklist.tips_button"), data("menu", "tips"))],
            [(t("common.menu"), data("menu", "menu"))],
        ),
    )
    return state


async def later(update: Update, context: BotContext) -> State:
    """Leaves the checklist; every check mark so far stays saved."""
    await acknowledge(update)
    state = await save(update, context, SECTION, END)
    await send(update, t("common.later"))
    return state


async def use_buttons(update: Update, context: BotContext) -> State:
    """Asks for the buttons when something is typed or sent instead."""
    await expect_buttons(update, context)
    return CHOOSE


def build_handler() -> Any:
    """The /checklist conversation."""
    numbers = "|".join(str(n) for n in range(1, statement_count() + 1))
    return section_handler(
        SECTION,
        entry_points=[
            CommandHandler("checklist", stops(enter)),
            CallbackQueryHandler(stops(enter), pattern=f"^menu:{SECTION}$"),
        ],
        states={
            CHOOSE: [
                CallbackQueryHandler(stops(toggle), pattern=f"^{SECTION}:{TOGGLE}:({numbers})$"),
                CallbackQueryHandler(stops(done), pattern=f"^{SECTION}:done$"),
                CallbackQueryHandler(stops(later), pattern=f"^{SECTION}:later$"),
                MessageHandler(NEW_TEXT | NEW_NOT_TEXT, stops(use_buttons)),
            ],
        },
    )
