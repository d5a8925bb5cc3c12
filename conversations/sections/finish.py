"""Sections 6 and 7, "After completing this activity" and "Reflections on This Exercise".

Three parts, one prompt at a time: a written answer on trust and safety, whether anything was
surprising (Yes / No, then "If so, describe."), and how helpful the exercise was (1-10). After
twelve logged sessions, or twelve weeks of them, the bot offers this section once on its own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler

from bot.context import BotContext
from conversations.kit.steps import (
    END,
    NEW_NOT_TEXT,
    NEW_TEXT,
    Button,
    State,
    Step,
    acknowledge,
    callback_query,
    data,
    expect_buttons,
    expect_text,
    keyboard,
    later_row,
    rating_rows,
    save,
    section_handler,
    send,
    stops,
    text_of,
)
from conversations.worksheet.content import t
from conversations.worksheet.dates import local_today
from conversations.worksheet.parsing import parse_rating
from storage.repository import PersonMissing, Unit

SECTION = "finish"
# Answer keys, which are also the states of the prompts waiting for them.
TRUST = "finish.trust"
SURPRISE = "finish.surprise"
DETAIL = "finish.surprise_detail"
HELPFUL = "finish.helpful"
OFFERED = "finish.offered"
CHOOSE = "finish.choose"
ORDER = (TRUST, SURPRISE, DETAIL, HELPFUL)

OFFER_AFTER_SESSIONS = 12
OFFER_AFTER_TIME = dt.timedelta(weeks=12)

# Stored answers in short: key -> text, None when skipped; a key that is missing is unreached.
Answers = Mapping[str, str | None]
Write = Callable[[Unit], Awaitable[None]]


# Where to go ---------------------------------------------------------------------------------


def applies(key: str, answers: Answers) -> bool:
    """Whether a prompt is asked at all ("If so, describe." only after a Yes)."""
    return key != DETAIL or answers.get(SURPRISE) == "yes"


def first_unreached(answers: Answers) -> str | None:
    """The first prompt neither answered nor skipped."""
    return next((k for k in ORDER if applies(k, answers) and k not in answers), None)


def first_skipped(answers: Answers) -> str | None:
    """The first prompt that was skipped."""
    return next(
        (k for k in ORDER if applies(k, answers) and k in answers and answers[k] is None), None
    )


def next_open(answers: Answers, after: str) -> str | None:
    """The next prompt after one that is still open (unreached or skipped)."""
    later = ORDER[ORDER.index(after) + 1 :]
    return next((k for k in later if applies(k, answers) and answers.get(k) is None), None)


def finish_due(completed: int, earliest: dt.date | None, today: dt.date) -> bool:
    """Whether the chart has been kept long enough to look back: 12 sessions or 12 weeks."""
    if completed >= OFFER_AFTER_SESSIONS:
        return True
    return earliest is not None and today - earliest >= OFFER_AFTER_TIME


async def _answers(update: Update, context: BotContext) -> dict[str, str | None]:
    """This section's prompt answers (the offer mark left out)."""
    user = update.effective_user
    assert user is not None
    stored = await context.store.answers(user.id, f"{SECTION}.")
    return {key: value.text for key, value in stored.items() if key in ORDER}


# How one arrives -----------------------------------------------------------------------------


async def maybe_offer_finish(update: Update, context: BotContext) -> None:
    """Offers /finish once, after 12 logged sessions or 12 weeks since the first one."""
    user = update.effective_user
    if user is None:
        return
    stored = await context.store.answers(user.id, f"{SECTION}.")
    if OFFERED in stored or any(key in stored for key in ORDER):
        return
    person = await context.store.get_person(user.id)
    if person is None:
        return
    sessions = await context.store.sessions(user.id)
    dates = [s.session_date for s in sessions if s.session_date is not None]
    if not finish_due(len(sessions), min(dates, default=None), local_today(person.timezone)):
        return
    try:
        async with context.store.unit(user.id) as unit:
            await unit.save_answer(OFFERED, "1")
    except PersonMissing:
        return
    await send(
        update, t("finish.offer"), keyboard([(t("finish.offer_button"), data("menu", SECTION))])
    )


async def enter(update: Update, context: BotContext) -> State:
    """Starts the section, or offers to continue, revisit skipped prompts or start over."""
    await acknowledge(update)
    answers = await _answers(update, context)
    if not answers:
        await send(update, t("finish.intro"))
        return await _move(update, context, TRUST)
    if first_unreached(answers) is not None:
        text, first = t("finish.resume"), (t("common.continue"), data(SECTION, "continue"))
    elif first_skipped(answers) is not None:
        text, first = t("finish.revisit"), (t("finish.revisit_button"), data(SECTION, "revisit"))
    else:
        text, first = t("finish.complete"), None
    over = (t("common.start_over"), data(SECTION, "over"))
    choice = [first, over] if first is not None else [over]
    await send(update, text, keyboard(choice, later_row(SECTION)))
    return await save(update, context, SECTION, CHOOSE)


async def resume(update: Update, context: BotContext) -> State:
    """Continues at the first prompt not yet reached."""
    await acknowledge(update)
    return await _move(update, context, first_unreached(await _answers(update, context)))


async def revisit(update: Update, context: BotContext) -> State:
    """Goes back to the first skipped prompt."""
    await acknowledge(update)
    return await _move(update, context, first_skipped(await _answers(update, context)))


async def start_over(update: Update, context: BotContext) -> State:
    """Clears the answers of this section (not the offer mark) and asks from the beginning."""
    await acknowledge(update)

    async def clear(unit: Unit) -> None:
        for key in ORDER:
            await unit.clear_answer(key)

    return await _move(update, context, TRUST, clear)


# Asking --------------------------------------------------------------------------------------


def _skip_key(key: str) -> str:
    return key.removeprefix(f"{SECTION}.")


async def ask(update: Update, key: str) -> None:
    """Sends one prompt with its buttons, Skip and Not now."""
    later = later_row(SECTION, _skip_key(key))
    if key == TRUST:
        await send(update, t("finish.trust_prompt"), keyboard(later))
    elif key == SURPRISE:
        choice: list[Button] = [
            (t("finish.yes"), data(SECTION, "surprise", "yes")),
            (t("finish.no"), data(SECTION, "surprise", "no")),
        ]
        await send(update, t("finish.surprise_prompt"), keyboard(choice, later))
    elif key == DETAIL:
        await send(update, t("finish.detail_prompt"), keyboard(later))
    else:
        await send(
            update, t("finish.helpful_prompt"), keyboard(*rating_rows(SECTION, "rate"), later)
        )


async def _move(
    update: Update, context: BotContext, key: str | None, write: Write | None = None
) -> State:
    """Saves `write` with the state of the next prompt (or the end), then asks it."""
    if key is None:
        state = await save(update, context, SECTION, END, write)
        skipped = sum(1 for value in (await _answers(update, context)).values() if value is None)
        if skipped:
            await send(update, t("finish.done_with_skips", count=skipped))
        else:
            await send(update, t("finish.done"))
        return state
    state = await save(update, context, SECTION, key, write)
    if state != END:
        await ask(update, key)
    return state


async def _answered(
    update: Update, context: BotContext, key: str, value: str | None, write: Write
) -> State:
    """Stores an answer (None: skipped) and moves to the next open prompt."""
    answers = await _answers(update, context)
    answers[key] = value if value is not None else answers.get(key)
    return await _move(update, context, next_open(answers, key), write)


def written(key: str) -> Step:
    """The handler for a written answer (trust and safety; what surprised)."""

    async def step(update: Update, context: BotContext) -> State:
        text = text_of(update)
        if not text:
            await send(update, t("common.empty"))
            await ask(update, key)
            return key
        message = update.message
        assert message is not None

        async def write(unit: Unit) -> None:
            await unit.save_answer(key, text, message_id=message.message_id)

        return await _answered(update, context, key, text, write)

    return step


async def surprised(update: Update, context: BotContext) -> State:
    """Stores Yes or No; a Yes asks what surprised."""
    await acknowledge(update)
    value = (callback_query(update).data or "").rsplit(":", 1)[1]

    async def write(unit: Unit) -> None:
        await unit.save_answer(SURPRISE, value)

    return await _answered(update, context, SURPRISE, value, write)


async def _rated(update: Update, context: BotContext, rating: int) -> State:
    async def write(unit: Unit) -> None:
        # No message id: editing "7" into something else must not change a stored number.
        await unit.save_answer(HELPFUL, str(rating))

    return await _answered(update, context, HELPFUL, str(rating), write)


async def rate_button(update: Update, context: BotContext) -> State:
    """Stores the helpfulness rating from a button."""
    await acknowledge(update)
    return await _rated(update, context, int((callback_query(update).data or "").rsplit(":", 1)[1]))


async def rate_typed(update: Update, context: BotContext) -> State:
    """Stores a typed rating, or says kindly what is expected."""
    rating = parse_rating(text_of(update))
    if rating is None:
        await send(update, t("finish.bad_rating"))
        await ask(update, HELPFUL)
        return HELPFUL
    return await _rated(update, context, rating)


async def not_a_rating(update: Update, context: BotContext) -> State:
    """A photo, sticker or file where a rating is expected."""
    await send(update, t("finish.bad_rating"))
    await ask(update, HELPFUL)
    return HELPFUL


def skip(key: str) -> Step:
    """The handler for Skip on one prompt."""

    async def step(update: Update, context: BotContext) -> State:
        await acknowledge(update, t("common.skipped"))

        async def write(unit: Unit) -> None:
            await unit.skip_answer(key)

        return await _answered(update, context, key, None, write)

    return step


def wrong_kind(key: str) -> Step:
    """The handler for a photo, sticker or file where text is expected."""

    async def step(update: Update, context: BotContext) -> State:
        await expect_text(update, context)
        await ask(update, key)
        return key

    return step


async def use_buttons(update: Update, context: BotContext) -> State:
    """Asks for Yes or No with the buttons."""
    await expect_buttons(update, context)
    return SURPRISE


async def later(update: Update, context: BotContext) -> State:
    """Leaves the section; everything answered stays."""
    await acknowledge(update)
    state = await save(update, context, SECTION, END)
    await send(update, t("common.later"))
    return state


# Wiring --------------------------------------------------------------------------------------


def _button(step: Step, *parts: str) -> Any:
    return CallbackQueryHandler(stops(step), pattern="^" + ":".join([SECTION, *parts]) + "$")


def build_handler() -> Any:
    """The /finish conversation."""
    not_now = _button(later, "later")

    def skip_button(key: str) -> Any:
        return _button(skip(key), "skip", _skip_key(key))

    states: dict[object, list[BaseHandler[Update, Any, Any]]] = {
        CHOOSE: [
            _button(resume, "continue"),
            _button(revisit, "revisit"),
            _button(start_over, "over"),
            not_now,
        ],
        SURPRISE: [
            _button(surprised, "surprise", "(yes|no)"),
            skip_button(SURPRISE),
            not_now,
            MessageHandler(NEW_TEXT | NEW_NOT_TEXT, stops(use_buttons)),
        ],
        HELPFUL: [
            _button(rate_button, "rate", "([1-9]|10)"),
            skip_button(HELPFUL),
            not_now,
            MessageHandler(NEW_TEXT, stops(rate_typed)),
            MessageHandler(NEW_NOT_TEXT, stops(not_a_rating)),
        ],
    }
    for key in (TRUST, DETAIL):
        states[key] = [
            MessageHandler(NEW_TEXT, stops(written(key))),
            skip_button(key),
            not_now,
            MessageHandler(NEW_NOT_TEXT, stops(wrong_kind(key))),
        ]
    return section_handler(
        SECTION,
        entry_points=[
            CommandHandler("finish", stops(enter)),
            CallbackQueryHandler(stops(enter), pattern=f"^menu:{SECTION}$"),
        ],
        states=states,
    )
