"""Section 5, the session chart: one entry per therapy session, each step stored as it is given.

An entry is a SessionEntry row, a draft until its last step is answered or skipped. The row is
created with the first step (the date); its id and date travel with the person's place, so a
step reads nothing before it writes (a row deleted meanwhile shows when the write finds no row).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from telegram import Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.context import BotContext
from conversations.engines.prompts import maybe_offer
from conversations.kit.callbacks import DAY, MENU, RATING, Callbacks
from conversations.kit.prompting import ask_once, leaving, on_live, retire
from conversations.kit.steps import (
    END,
    NEW_NOT_TEXT,
    NEW_TEXT,
    State,
    Step,
    acknowledge,
    callback_query,
    expect_text,
    help_row,
    keyboard,
    later_row,
    person_of,
    position_data,
    rating_rows,
    save,
    section_handler,
    send,
    stops,
    text_of,
    wait_for_buttons,
)
from conversations.sections import schedule
from conversations.worksheet.care import care_for
from conversations.worksheet.content import Html, t
from conversations.worksheet.dates import local_today, session_date_problem, show_date
from conversations.worksheet.parsing import parse_date, parse_rating, rating_problem
from conversations.worksheet.words import prompt_text
from storage.repository import SessionRow, Unit

SECTION = "log"
CHOOSE = "log.choose"
ZONE = "log.zone"  # the time zone, asked before the first date of a person without one
DATE = "log.date"
TOPIC = "log.topic"
TRUST = "log.trust"
SAFETY = "log.safety"
ROLE = "log.role"
STEPS = (DATE, TOPIC, TRUST, SAFETY, ROLE)
FIELDS = {TOPIC: "topic", TRUST: "trust", SAFETY: "safety", ROLE: "role"}
CB = Callbacks(SECTION)


def name(step: str) -> str:
    """The short name of a step, as used in callback data ("topic")."""
    return step.removeprefix(f"{SECTION}.")


# Dates ---------------------------------------------------------------------------------------


async def today_for(update: Update, context: BotContext) -> dt.date:
    """Today in the person's time zone."""
    person = await person_of(update, context)
    return local_today(None if person is None else person.timezone)


# Entries -------------------------------------------------------------------------------------


def is_empty(row: SessionRow) -> bool:
    """Whether a draft holds nothing at all."""
    values = (row.session_date, row.topic, row.trust, row.safety, row.role)
    return all(value is None for value in values)


def resume_step(row: SessionRow) -> str:
    """The step after the last one answered (skipped steps before it stay skipped)."""
    values = (row.session_date, row.topic, row.trust, row.safety, row.role)
    answered = [index for index, value in enumerate(values) if value is not None]
    return STEPS[min(answered[-1] + 1 if answered else 0, len(STEPS) - 1)]


async def unfinished(update: Update, context: BotContext) -> tuple[list[SessionRow], bool]:
    """The person's drafts, and whether their chart has any row at all."""
    user = update.effective_user
    assert user is not None
    rows = await context.store.sessions(user.id, drafts=True)
    return [row for row in rows if not row.complete], bool(rows)


@dataclass(frozen=True, slots=True)
class Draft:
    """The entry being filled in, as the person's place keeps it: its row's id and date."""

    uid: str
    session_date: dt.date | None

    def kept(self, **more: Any) -> dict[str, Any]:
        """The place data that keeps this draft."""
        day = None if self.session_date is None else self.session_date.isoformat()
        return {"entry": self.uid, "day": day, **more}


async def current_entry(update: Update, context: BotContext) -> Draft | None:
    """The entry being filled in, from the person's place (no read of the row)."""
    saved = await position_data(update, context, SECTION)
    uid, day = saved.get("entry"), saved.get("day")
    if not isinstance(uid, str):
        return None
    return Draft(uid, dt.date.fromisoformat(day) if isinstance(day, str) else None)


def preset_of(saved: dict[str, Any]) -> dt.date | None:
    """The date a reminder filled in, kept in the state while the person chooses."""
    value = saved.get("date")
    return dt.date.fromisoformat(value) if isinstance(value, str) else None


# Asking --------------------------------------------------------------------------------------


async def ask(update: Update, context: BotContext, step: str, day: dt.date | None = None) -> None:
    """Sends the prompt of one step with its buttons, Skip and Not now (its one live copy)."""
    later = later_row(SECTION, name(step))
    if step == DATE:
        when = [
            (t("log.today_button"), CB("today")),
            (t("log.yesterday_button"), CB("yesterday")),
        ]
        await ask_once(update, context, SECTION, prompt_text(DATE), keyboard(when, later))
        return
    heading = t("log.heading", date=show_date(day)) if day else t("log.heading_undated")
    ratings = rating_rows(SECTION, name(step)) if step in (TRUST, SAFETY) else []
    text = Html(f"{heading}\n\n{prompt_text(step)}")
    await ask_once(update, context, SECTION, text, keyboard(*ratings, later))


async def retry(
    update: Update, context: BotContext, key: str, step: str, day: dt.date | None = None
) -> State:
    """Says kindly what was expected and asks the same step again; nothing is stored."""
    await send(update, t(key, date=show_date(day)))
    await ask(update, context, step, day)
    return step


# Starting ------------------------------------------------------------------------------------


async def enter(update: Update, context: BotContext) -> State:
    """Starts an entry (with the chart's introduction the first time), or offers the draft."""
    await acknowledge(update)
    return await begin(update, context, None)


async def enter_from_reminder(update: Update, context: BotContext) -> State:
    """A reminder's "Log now": a new entry with the session's date already filled in."""
    await acknowledge(update)
    try:
        preset: dt.date | None = dt.date.fromisoformat(str(callback_query(update).data)[-10:])
    except ValueError:
        preset = None
    return await begin(update, context, preset)


async def begin(update: Update, context: BotContext, preset: dt.date | None) -> State:
    """Continues a draft of the same date, offers a draft with something in it, or starts."""
    drafts, any_rows = await unfinished(update, context)
    kept = [row for row in drafts if not is_empty(row)]
    same_day = next((row for row in kept if preset and row.session_date == preset), None)
    if same_day is not None:
        return await resume(update, context, same_day)
    if kept:
        return await offer_draft(update, context, kept[-1], preset)
    if not any_rows:
        await send(update, t("log.intro"))
    if preset is None and await schedule.zone_unasked(update, context):
        return await ask_zone_first(update, context, drafts)
    return await start_new(update, context, drafts, preset)


async def ask_zone_first(update: Update, context: BotContext, drafts: list[SessionRow]) -> State:
    """Before the first date of a person without a time zone: asks for it, so that "today" is
    theirs (empty drafts go, as when an entry starts; the date prompt follows the answer)."""

    async def write(unit: Unit) -> None:
        for row in drafts:
            if is_empty(row):
                await unit.delete_session_entry(row.uid)

    state = await save(update, context, SECTION, ZONE, write, data_={})
    if state == ZONE:
        await schedule.ask_today_zone(update, context, SECTION)
    return state


async def date_after_zone(update: Update, context: BotContext, note: Html | None) -> None:
    """After the time zone (or Skip): what became of it, then the date prompt."""
    if note is not None:
        await send(update, note)
    await ask(update, context, DATE)


async def offer_draft(
    update: Update, context: BotContext, draft: SessionRow, preset: dt.date | None
) -> State:
    """Asks whether to continue an unfinished entry or start a new one."""
    saved = Draft(draft.uid, draft.session_date).kept()
    if preset is not None:
        saved["date"] = preset.isoformat()
    state = await save(update, context, SECTION, CHOOSE, data_=saved)
    if state != CHOOSE:
        return state
    if draft.session_date is None:
        text, label = t("log.resume_undated"), t("log.continue_undated_button")
    else:
        day = show_date(draft.session_date)
        text, label = t("log.resume", date=day), t("log.continue_button", date=day)
    choice = keyboard(
        [(label, CB("continue"))],
        [(t("log.new_button"), CB("start"))],
        later_row(SECTION),
    )
    await send(update, text, choice)
    return state


async def start_new(
    update: Update, context: BotContext, drafts: list[SessionRow], preset: dt.date | None
) -> State:
    """Settles earlier drafts and asks the first step (the topic when the date is known).

    An empty draft is deleted; one with anything in it goes into the chart as it is, because
    a person who wrote something for a session expects to find it there, not to lose it.
    """
    created: dict[str, Any] = {}

    async def write(unit: Unit) -> None:
        for row in drafts:
            if is_empty(row):
                await unit.delete_session_entry(row.uid)
            else:
                await unit.update_session_entry(row.uid, complete=True)
        if preset is not None:
            created.update(Draft(await unit.new_session_entry(preset), preset).kept())

    step = DATE if preset is None else TOPIC
    # save() writes the state after `write`, so the new row's id is in `created` by then.
    state = await save(update, context, SECTION, step, write, data_=created)
    if state == step:
        await ask(update, context, step, preset)
    return state


async def resume(update: Update, context: BotContext, row: SessionRow) -> State:
    """Asks the step after the last one answered in a draft."""
    step = resume_step(row)
    state = await save(
        update, context, SECTION, step, data_=Draft(row.uid, row.session_date).kept()
    )
    if state == step:
        await ask(update, context, step, row.session_date)
    return state


async def continue_draft(update: Update, context: BotContext) -> State:
    """Continues the unfinished entry."""
    await acknowledge(update)
    draft, user = await current_entry(update, context), update.effective_user
    row = None
    if draft is not None and user is not None:
        row = await context.store.session_entry(user.id, draft.uid)
    if row is None or row.complete:
        return await begin(update, context, None)
    return await resume(update, context, row)


async def start_instead(update: Update, context: BotContext) -> State:
    """Starts a new entry; the unfinished one is settled (see start_new)."""
    await acknowledge(update)
    preset = preset_of(await position_data(update, context, SECTION))
    drafts, _ = await unfinished(update, context)
    return await start_new(update, context, drafts, preset)


# Steps ---------------------------------------------------------------------------------------


async def advance(
    update: Update, context: BotContext, row: Draft, step: str, **fields: Any
) -> State:
    """Stores one step's answer with the next step's state, then asks the next step."""
    if step == ROLE:
        return await complete(update, context, row, fields)

    async def write(unit: Unit) -> None:
        if fields:
            await unit.update_session_entry(row.uid, **fields)

    following = STEPS[STEPS.index(step) + 1]
    day = fields.get("session_date", row.session_date)
    kept = Draft(row.uid, day).kept()
    try:
        state = await save(update, context, SECTION, following, write, data_=kept)
    except LookupError:  # the row was deleted meanwhile (nothing of this update was stored)
        return await lost(update, context)
    if state == following:
        await ask(update, context, following, day)
    return state


async def store_date(update: Update, context: BotContext, day: dt.date | None) -> State:
    """Stores the date, creating the draft row with it, and asks for the topic."""
    row = await current_entry(update, context)
    if row is not None:
        fields = {} if day is None else {"session_date": day}
        return await advance(update, context, row, DATE, **fields)
    created: dict[str, Any] = {}

    async def write(unit: Unit) -> None:
        created.update(Draft(await unit.new_session_entry(day), day).kept())

    # save() writes the state after `write`, so the new row's id is in `created` by then.
    state = await save(update, context, SECTION, TOPIC, write, data_=created)
    if state == TOPIC:
        await ask(update, context, TOPIC, day)
    return state


async def date_button(update: Update, context: BotContext) -> State:
    """Stores today's or yesterday's date (in the person's time zone)."""
    await acknowledge(update)
    today = await today_for(update, context)
    back = 1 if callback_query(update).data == CB("yesterday") else 0
    return await store_date(update, context, today - dt.timedelta(days=back))


async def date_text(update: Update, context: BotContext) -> State:
    """Stores a typed date, or says kindly what works."""
    today = await today_for(update, context)
    day = parse_date(text_of(update), today)
    if day is None:
        return await retry(update, context, "log.date_invalid", DATE)
    problem = session_date_problem(day, today)
    if problem is not None:
        return await retry(update, context, problem, DATE, day)
    return await store_date(update, context, day)


async def lost(update: Update, context: BotContext) -> State:
    """The entry vanished (deleted elsewhere): says so and starts a new one."""
    await send(update, t("log.gone"))
    drafts, _ = await unfinished(update, context)
    return await start_new(update, context, drafts, None)


def written(step: str) -> Step:
    """The handler for a written answer (topic, therapist role)."""

    async def answer(update: Update, context: BotContext) -> State:
        row = await current_entry(update, context)
        if row is None:
            return await lost(update, context)
        text = text_of(update)
        if not text:
            return await retry(update, context, "common.empty", step, row.session_date)
        # The message is kept with the field, so that editing it later updates the entry.
        message_id = update.message.message_id if update.message else None
        fields = {FIELDS[step]: text, "message_id": message_id}
        return await advance(update, context, row, step, **fields)

    return stops(answer)


def rated(step: str, *, button: bool) -> Step:
    """The handler for a rating, tapped or typed (trust, safety)."""

    async def answer(update: Update, context: BotContext) -> State:
        if button:
            await acknowledge(update)
            value = parse_rating(str(callback_query(update).data).rsplit(":", 1)[-1])
        else:
            value = parse_rating(text_of(update))
        row = await current_entry(update, context)
        if row is None:
            return await lost(update, context)
        if value is None:
            # "11" hears that it is above 10, "7.5" that it needs a whole number.
            problem = rating_problem(text_of(update)) or "input.rating_unreadable"
            return await retry(update, context, problem, step, row.session_date)
        return await advance(update, context, row, step, **{FIELDS[step]: value})

    return stops(on_live(SECTION, step, answer) if button else answer)


def skipped(step: str) -> Step:
    """The handler for Skip: the step stays empty in the chart."""

    async def skip(update: Update, context: BotContext) -> State:
        await acknowledge(update, t("log.skipped"))
        row = await current_entry(update, context)
        if row is None and step == DATE:
            return await store_date(update, context, None)
        if row is None:
            return await lost(update, context)
        return await advance(update, context, row, step)

    return stops(on_live(SECTION, step, skip))


def wrong_kind(step: str) -> Step:
    """The handler for a photo, sticker or file: says what is expected and asks again."""

    async def answer(update: Update, context: BotContext) -> State:
        row = await current_entry(update, context)
        day = None if row is None else row.session_date
        if step in (TRUST, SAFETY):
            return await retry(update, context, "log.rating_invalid", step, day)
        await expect_text(update, context)
        await ask(update, context, step, day)
        return step

    return stops(answer)


async def complete(
    update: Update, context: BotContext, row: Draft, fields: dict[str, Any]
) -> State:
    """Stores the last step, marks the entry complete and confirms it."""
    completed: list[SessionRow] = []

    async def write(unit: Unit) -> None:
        completed.append(await unit.update_session_entry(row.uid, **fields, complete=True))

    try:
        state = await save(update, context, SECTION, END, write)
    except LookupError:  # the row was deleted meanwhile (nothing of this update was stored)
        return await lost(update, context)
    await retire(update, context, SECTION)
    if not completed or state != END:
        return state
    entry = completed[-1]
    buttons = [(t("log.another_button"), CB("another")), (t("common.menu"), MENU("menu"))]
    care = await care_of(update, context, entry)
    if care is None:
        await send(update, confirmation(entry), keyboard(buttons))
    else:
        text = Html(f"{confirmation(entry)}\n\n{care}")
        await send(update, text, keyboard(buttons, help_row()[:1]))
    await offer_finish(update, context)
    return state


async def care_of(update: Update, context: BotContext, entry: SessionRow) -> Html | None:
    """A word of care for a very low rating or a fall in safety (the chart is read only when
    the entry's own ratings are not low)."""
    found = care_for(entry, [])
    if found is None and entry.safety is not None and entry.session_date is not None:
        user = update.effective_user
        chart = [] if user is None else await context.store.sessions(user.id)
        found = care_for(entry, chart)
    if found is None:
        return None
    why, before = found
    return t(f"log.care_{why}", before=before, after=entry.safety)


def confirmation(entry: SessionRow) -> Html:
    """The saved entry, as a short summary (what the person wrote is escaped)."""
    blank = t("log.blank")

    def rating(value: int | None) -> Html:
        return blank if value is None else t("log.rating_value", value=value)

    return t(
        "log.saved",
        date=blank if entry.session_date is None else show_date(entry.session_date),
        topic=blank if entry.topic is None else entry.topic,
        trust=rating(entry.trust),
        safety=rating(entry.safety),
        role=blank if entry.role is None else entry.role,
    )


async def offer_finish(update: Update, context: BotContext) -> None:
    """Lets the closing section offer itself when the chart has run its course."""
    await maybe_offer(update, context)


# Not now: leaves the section; the draft stays for /log to continue.
leave_for_now = leaving(SECTION, "log.later")


# Wiring --------------------------------------------------------------------------------------


# Today / Yesterday act only on the live date prompt.
live_date = on_live(SECTION, DATE, date_button)


def build_handler() -> ConversationHandler[Any]:
    """The /log conversation."""
    later = CallbackQueryHandler(stops(leave_for_now), pattern=CB.pattern("later"))

    def skip(step: str) -> BaseHandler[Update, Any, Any]:
        return CallbackQueryHandler(skipped(step), pattern=CB.pattern("skip", name(step)))

    states: dict[object, list[BaseHandler[Update, Any, Any]]] = {
        CHOOSE: [
            CallbackQueryHandler(stops(continue_draft), pattern=CB.pattern("continue")),
            CallbackQueryHandler(stops(start_instead), pattern=CB.pattern("start")),
            later,
            wait_for_buttons(CHOOSE),
        ],
        ZONE: [*schedule.today_zone_step(SECTION, ZONE, DATE, date_after_zone), later],
        DATE: [
            CallbackQueryHandler(stops(live_date), pattern=CB.pattern("today")),
            CallbackQueryHandler(stops(live_date), pattern=CB.pattern("yesterday")),
            MessageHandler(NEW_TEXT, stops(date_text)),
            skip(DATE),
            later,
            MessageHandler(NEW_NOT_TEXT, wrong_kind(DATE)),
        ],
    }
    for step in (TOPIC, ROLE):
        states[step] = [
            MessageHandler(NEW_TEXT, written(step)),
            skip(step),
            later,
            MessageHandler(NEW_NOT_TEXT, wrong_kind(step)),
        ]
    for step in (TRUST, SAFETY):
        states[step] = [
            CallbackQueryHandler(rated(step, button=True), pattern=CB.pattern(name(step), RATING)),
            MessageHandler(NEW_TEXT, rated(step, button=False)),
            skip(step),
            later,
            MessageHandler(NEW_NOT_TEXT, wrong_kind(step)),
        ]
    return section_handler(
        SECTION,
        entry_points=[
            CommandHandler(SECTION, stops(enter), filters=filters.UpdateType.MESSAGE),
            CallbackQueryHandler(stops(enter), pattern=MENU.pattern(SECTION)),
            CallbackQueryHandler(stops(enter), pattern=CB.pattern("another")),
            CallbackQueryHandler(stops(enter_from_reminder), pattern=CB.pattern("new", DAY)),
        ],
        states=states,
    )
