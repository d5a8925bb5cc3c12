"""Settings (/settings): time zone, when reminders come after a session, pausing them, the weekly
summary, the language (also /language), and whether summaries and /review can be forwarded
("Protect my messages").

Every change recomputes the person's next reminders in the same transaction and drops their
queued reminder jobs afterwards (see schedule.apply), whose time-zone step (with its question
of what sessions keep when the zone changes) this section shares.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.context import BotContext
from conversations.kit.callbacks import MENU, Callbacks
from conversations.kit.prompting import leaving
from conversations.kit.steps import (
    NEW_NOT_TEXT,
    NEW_TEXT,
    Button,
    State,
    Step,
    acknowledge,
    callback_query,
    expect_text,
    keyboard,
    later_row,
    person_of,
    position_data,
    save,
    section_handler,
    send,
    stops,
    text_of,
    wait_for_buttons,
)
from conversations.sections import schedule
from conversations.sections.schedule import (
    apply,
    ask_zone,
    choice_step,
    next_reminder_line,
    set_delay,
    time_words,
    zone_step,
)
from conversations.worksheet.content import (
    Html,
    items,
    language,
    languages,
    set_language,
    t,
)
from conversations.worksheet.dates import clock, local_now, parse_time, twelve_hour, zone_label
from conversations.worksheet.parsing import parse_rating
from storage.models import ScheduleKind
from storage.repository import Unit

SECTION = "settings"
CB = Callbacks(SECTION)
OVERVIEW = "settings.overview"
ZONE = "settings.zone"
ZONE_CHOICE = "settings.zone_choice"
DELAY = "settings.delay"
SUMMARY_DAY = "settings.summary_day"
SUMMARY_TIME = "settings.summary_time"
LANGUAGE = "settings.language"
# Each language by its own name, so a person finds theirs whatever the bot speaks now.
LANGUAGE_NAMES = {
    "en": "English",
    "de": "Deutsch",
    "es": "Español",
    "pt_BR": "Português (Brasil)",
    "ru": "Русский",
    "uk": "Українська",
}
SUMMARY_TIMES = (dt.time(8, 0), dt.time(12, 0), dt.time(18, 0), dt.time(20, 0))
SUMMARY_DEFAULT = (6, dt.time(18, 0))  # Sundays at 18:00
WEEKLY = ScheduleKind.SUMMARY
DELAYS = (0, 30, 60, 90, 120, 180, 240)
MAX_DELAY = 240


def delay_text(minutes: int) -> Html:
    """ "60 minutes after a session starts"."""
    if minutes == 0:
        return t("settings.delay_at_start")
    return t("settings.delay_after", minutes=minutes)


# The overview --------------------------------------------------------------------------------


async def show_overview(update: Update, context: BotContext, note: Html | None = None) -> None:
    """The current settings, with a button to change each."""
    user = update.effective_user
    person = await person_of(update, context)
    if user is None or person is None:
        return
    parts = [note] if note else []
    if person.timezone is None:
        zone = t("settings.zone_unset")
    else:
        now = clock(local_now(person.timezone), person.timezone)
        zone = t("settings.zone_line", zone=zone_label(person.timezone), time=now)
    state = t("settings.paused_line" if person.reminders_paused else "settings.on_line")
    delay = t("settings.delay_line", delay=delay_text(person.reminder_delay_min))
    protect = t(
        "settings.protect_on_line" if person.protect_messages else "settings.protect_off_line"
    )
    speaks = t("settings.language_line", language=language_name(language()))
    lines = [t("settings.title"), "", zone, delay, state, speaks, protect]
    parts.append(Html("\n".join(lines)))
    upcoming = next_reminder_line(person, await context.store.schedules(user.id))
    if upcoming is not None and not person.reminders_paused:
        parts.append(upcoming)
    pause: Button = (
        (t("settings.resume_button"), CB("resume"))
        if person.reminders_paused
        else (t("settings.pause_button"), CB("pause"))
    )
    protect_button: Button = (
        (t("settings.protect_off_button"), CB("protect", "off"))
        if person.protect_messages
        else (t("settings.protect_on_button"), CB("protect", "on"))
    )
    summary = next((i for i in await context.store.schedules(user.id) if i.kind == WEEKLY), None)
    if summary is None or summary.weekday is None:
        parts[-1] = Html(f"{parts[-1]}\n{t('settings.summary_off')}")
    else:
        day = items("schedule.weekdays")[summary.weekday]
        at = clock(summary.at_time, person.timezone)
        line = t("settings.summary_on", weekday=day, time=at)
        parts[-1] = Html(f"{parts[-1]}\n{line}")
    rows: list[list[Button]] = [
        [(t("settings.zone_button"), CB("zone"))],
        [(t("settings.timing_button"), CB("timing"))],
        [pause],
        [(t("settings.summary_button"), CB("summary"))],
        [(t("settings.language_button"), CB("language"))],
        [protect_button],
        [(t("common.done"), CB("done"))],
    ]
    await send(update, Html("\n\n".join(parts)), keyboard(*rows))


async def to_overview(update: Update, context: BotContext, note: Html | None = None) -> State:
    """Records that the person is at the overview and shows it."""
    state = await save(update, context, SECTION, OVERVIEW, data_={})
    if state == OVERVIEW:
        await show_overview(update, context, note)
    return state


async def enter(update: Update, context: BotContext) -> State:
    """Shows the settings."""
    await acknowledge(update)
    return await to_overview(update, context)


async def change_zone(update: Update, context: BotContext) -> State:
    """Asks for the time zone (the prompt of /schedule)."""
    await acknowledge(update)
    state = await save(update, context, SECTION, ZONE)
    if state == ZONE:
        await ask_zone(update, context, SECTION)
    return state


def pausing(paused: bool) -> Step:
    """The handler for Pause reminders, or Resume: as in /schedule, back to the overview."""
    return schedule.pausing(paused, SECTION, OVERVIEW, show_overview)


def protecting(protect: bool) -> Step:
    """Protect my messages on or off: saved at once, back to the overview with a word on it."""

    async def write(unit: Unit) -> None:
        await unit.set_protect_messages(protect)

    async def step(update: Update, context: BotContext) -> State:
        await acknowledge(update)
        state = await save(update, context, SECTION, OVERVIEW, write, data_={})
        if state == OVERVIEW:
            note = t("settings.protect_on" if protect else "settings.protect_off")
            await show_overview(update, context, note)
        return state

    return step


# The language -------------------------------------------------------------------------------


def language_name(code: str) -> str:
    return LANGUAGE_NAMES.get(code, code)


async def ask_language(update: Update, context: BotContext) -> State:
    """Offers every language the bot speaks, each by its own name."""
    await acknowledge(update)
    state = await save(update, context, SECTION, LANGUAGE)
    if state == LANGUAGE:
        choices = [(language_name(code), CB("lang", code)) for code in languages()]
        rows = [choices[i : i + 2] for i in range(0, len(choices), 2)]
        await send(update, t("settings.language_prompt"), keyboard(*rows, later_row(SECTION)))
    return state


async def choose_language(update: Update, context: BotContext) -> State:
    """Stores the language and speaks it from this reply on."""
    await acknowledge(update)
    code = str(callback_query(update).data).rsplit(":", 1)[1]
    if code not in languages():
        return LANGUAGE

    async def write(unit: Unit) -> None:
        await unit.set_language(code)

    state = await save(update, context, SECTION, OVERVIEW, write, data_={})
    if state == OVERVIEW:
        set_language(code)
        await show_overview(update, context, t("settings.language_saved"))
    return state


# Not now at the language question: nothing changes.
language_later = leaving(SECTION, "settings.language_later")


# Done, or Not now: leaves the settings; whatever was saved stays.
done = leaving(SECTION, "settings.done")
later = leaving(SECTION, "settings.later")


# The reminder's timing -----------------------------------------------------------------------


async def ask_delay(update: Update, context: BotContext) -> None:
    """Asks how long after a session starts its reminder should come."""
    person = await person_of(update, context)
    current = 60 if person is None else person.reminder_delay_min
    choices = [(t("settings.minutes_button", minutes=n), CB("min", n)) for n in DELAYS]
    await send(
        update,
        t("settings.delay_prompt", delay=delay_text(current)),
        keyboard(choices[:4], choices[4:], later_row(SECTION, "delay")),
    )


async def change_delay(update: Update, context: BotContext) -> State:
    """Moves to the timing prompt."""
    await acknowledge(update)
    state = await save(update, context, SECTION, DELAY)
    if state == DELAY:
        await ask_delay(update, context)
    return state


async def store_delay(update: Update, context: BotContext, minutes: int) -> State:
    """Stores the delay, recomputing every next reminder, and shows the overview."""
    state = await apply(update, context, SECTION, OVERVIEW, set_delay(minutes), data_={})
    if state == OVERVIEW:
        await show_overview(update, context, t("settings.delay_saved", delay=delay_text(minutes)))
    return state


async def delay_button(update: Update, context: BotContext) -> State:
    """One of the offered delays."""
    await acknowledge(update)
    minutes = parse_rating(str(callback_query(update).data).rsplit(":", 1)[1], 0, MAX_DELAY)
    if minutes is None:
        return DELAY
    return await store_delay(update, context, minutes)


async def delay_text_typed(update: Update, context: BotContext) -> State:
    """A typed number of minutes, or a kind word about what works."""
    minutes = parse_rating(text_of(update), 0, MAX_DELAY)
    if minutes is None:
        await send(update, t("settings.delay_invalid"))
        await ask_delay(update, context)
        return DELAY
    return await store_delay(update, context, minutes)


async def keep_delay(update: Update, context: BotContext) -> State:
    """Skip: the timing stays as it was."""
    await acknowledge(update, t("schedule.kept"))
    return await to_overview(update, context)


async def delay_wrong_kind(update: Update, context: BotContext) -> State:
    """A photo, sticker or file where a number is expected."""
    await expect_text(update, context)
    await ask_delay(update, context)
    return DELAY


# The weekly summary ----------------------------------------------------------------------------


async def ask_summary(update: Update, context: BotContext) -> State:
    """Offers the weekly summary: Sunday 18:00, another day, or off."""
    await acknowledge(update)
    person = await person_of(update, context)
    if person is not None and person.timezone is None:
        return await change_zone(update, context)
    state = await save(update, context, SECTION, SUMMARY_DAY)
    if state == SUMMARY_DAY:
        days = [(label, CB("sday", n)) for n, label in enumerate(items("schedule.weekdays_short"))]
        zone_name = None if person is None else person.timezone
        default = t("settings.summary_default", time=clock(SUMMARY_DEFAULT[1], zone_name))
        await send(
            update,
            t("settings.summary_prompt"),
            keyboard(
                [(default, CB("sdefault"))],
                days[:4],
                days[4:],
                [(t("settings.summary_off_button"), CB("soff"))],
                later_row(SECTION),
            ),
        )
    return state


def weekly_summary(weekday: int | None, at: dt.time | None) -> Any:
    """A change to the weekly summary: at most one, or none (off)."""

    async def write(unit: Unit) -> None:
        for info in await unit.schedules():
            if info.kind == WEEKLY:
                await unit.remove_schedule(info.id)
        if weekday is not None and at is not None:
            await unit.add_schedule(kind=WEEKLY, weekday=weekday, at_time=at)

    return write


async def summary_default(update: Update, context: BotContext) -> State:
    """Sunday at 18:00."""
    await acknowledge(update)
    return await store_summary(update, context, *SUMMARY_DEFAULT)


async def summary_off(update: Update, context: BotContext) -> State:
    """No weekly summary."""
    await acknowledge(update)
    return await store_summary(update, context, None, None)


async def summary_day(update: Update, context: BotContext) -> State:
    """A day chosen: asks the time."""
    await acknowledge(update)
    weekday = int(str(callback_query(update).data).rsplit(":", 1)[1])
    state = await save(update, context, SECTION, SUMMARY_TIME, data_={"weekday": weekday})
    if state == SUMMARY_TIME:
        await ask_summary_time(update, context)
    return state


async def ask_summary_time(update: Update, context: BotContext) -> None:
    """Asks at what time the summary should come (on the person's clock)."""
    person = await person_of(update, context)
    zone_name = None if person is None else person.timezone
    times = [(clock(at, zone_name), CB("stime", f"{at:%H%M}")) for at in SUMMARY_TIMES]
    key = (
        "settings.summary_time_prompt_12h"
        if twelve_hour(zone_name)
        else "settings.summary_time_prompt"
    )
    await send(update, t(key), keyboard(times, later_row(SECTION)))


async def summary_time_button(update: Update, context: BotContext) -> State:
    """A time button."""
    await acknowledge(update)
    value = str(callback_query(update).data).rsplit(":", 1)[1]
    return await summary_at(update, context, dt.time(int(value[:2]), int(value[2:])))


async def summary_time_typed(update: Update, context: BotContext) -> State:
    """A typed time."""
    at = parse_time(text_of(update))
    if at is None:
        person = await person_of(update, context)
        await send(update, time_words(None if person is None else person.timezone, "invalid"))
        await ask_summary_time(update, context)
        return SUMMARY_TIME
    return await summary_at(update, context, at)


async def summary_at(update: Update, context: BotContext, at: dt.time) -> State:
    """Stores the day saved with the step and this time."""
    weekday = (await position_data(update, context, SECTION)).get("weekday")
    if not isinstance(weekday, int):
        return await to_overview(update, context)
    return await store_summary(update, context, weekday, at)


async def store_summary(
    update: Update, context: BotContext, weekday: int | None, at: dt.time | None
) -> State:
    """Saves the weekly summary choice and shows the settings again."""
    state = await apply(update, context, SECTION, OVERVIEW, weekly_summary(weekday, at), data_={})
    if state == OVERVIEW:
        note = t("settings.summary_saved_off" if weekday is None else "settings.summary_saved")
        await show_overview(update, context, note)
    return state


# Wiring --------------------------------------------------------------------------------------


def button(step: Step, action: str, *parts: str) -> BaseHandler[Update, Any, Any]:
    """A handler for the buttons of one action whose parts match `parts` (regexes) exactly."""
    return CallbackQueryHandler(stops(step), pattern=CB.pattern(action, *parts))


def build_handler() -> Any:
    """The /settings conversation."""
    later_button = button(later, "later")
    delays = "(" + "|".join(map(str, DELAYS)) + ")"
    return section_handler(
        SECTION,
        entry_points=[
            CommandHandler(SECTION, stops(enter), filters=filters.UpdateType.MESSAGE),
            CallbackQueryHandler(stops(enter), pattern=MENU.pattern(SECTION)),
            CommandHandler("language", stops(ask_language), filters=filters.UpdateType.MESSAGE),
        ],
        states={
            OVERVIEW: [
                button(change_zone, "zone"),
                button(change_delay, "timing"),
                button(pausing(True), "pause"),
                button(pausing(False), "resume"),
                button(ask_summary, "summary"),
                button(ask_language, "language"),
                button(protecting(True), "protect", "on"),
                button(protecting(False), "protect", "off"),
                button(done, "done"),
                wait_for_buttons(OVERVIEW),
            ],
            LANGUAGE: [
                button(choose_language, "lang", "[A-Za-z_]{2,8}"),
                button(language_later, "later"),
                wait_for_buttons(LANGUAGE),
            ],
            SUMMARY_DAY: [
                button(summary_default, "sdefault"),
                button(summary_day, "sday", "[0-6]"),
                button(summary_off, "soff"),
                later_button,
                wait_for_buttons(SUMMARY_DAY),
            ],
            SUMMARY_TIME: [
                MessageHandler(NEW_TEXT, stops(summary_time_typed)),
                button(summary_time_button, "stime", "[0-9]{4}"),
                later_button,
                MessageHandler(NEW_NOT_TEXT, stops(delay_wrong_kind)),
            ],
            ZONE: [
                *zone_step(SECTION, ZONE, OVERVIEW, show_overview, choice=ZONE_CHOICE),
                later_button,
            ],
            ZONE_CHOICE: choice_step(SECTION, ZONE_CHOICE, OVERVIEW, show_overview),
            DELAY: [
                MessageHandler(NEW_TEXT, stops(delay_text_typed)),
                button(delay_button, "min", delays),
                button(keep_delay, "skip", "delay"),
                later_button,
                MessageHandler(NEW_NOT_TEXT, stops(delay_wrong_kind)),
            ],
        },
    )
