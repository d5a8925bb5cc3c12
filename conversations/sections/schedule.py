"""Session reminders (/schedule): the time zone, when sessions happen, and pausing timeplan.

Every change is saved with the conversation state and with every schedule's next reminder
recomputed, in one transaction; queued reminder jobs are dropped after the commit, so the engine
plans them again from the database. The time-zone step is shared with /settings.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

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
from conversations.worksheet import timeplan
from conversations.worksheet.content import Html, items, t
from conversations.worksheet.dates import (
    clock,
    local_now,
    parse_coming_date,
    parse_time,
    plan_date_problem,
    show_day,
    show_when,
    zone_confirmation,
    zone_label,
)
from conversations.worksheet.timezones import parse_timezone, timezone_at
from storage.models import ScheduleKind
from storage.repository import PersonInfo, ScheduleInfo, Unit

SECTION = "schedule"
CB = Callbacks(SECTION)
ZONE = "schedule.zone"
LIST = "schedule.list"
WEEKDAY = "schedule.weekday"
DATE = "schedule.date"
TIME = "schedule.time"
KINDS = (ScheduleKind.WEEKLY, ScheduleKind.BIWEEKLY, ScheduleKind.ONCE)
SUMMARY = ScheduleKind.SUMMARY  # the weekly summary rides on the same engine; it is not a session
# A list longer than this no longer fits on a phone screen, and nobody has more sessions.
MAX_SCHEDULES = 10
# "About a year": a date further ahead is most likely a typo in the year.
REMOVE_PER_ROW = 3

Write = Callable[[Unit], Awaitable[None]]
Screen = Callable[[Update, BotContext, Html | None], Awaitable[None]]


# Reading what people type --------------------------------------------------------------------

# [0-9] rather than \d: \d also matches other scripts' digits, which int() would then accept.


# Showing times and schedules -----------------------------------------------------------------


def visible(schedules: list[ScheduleInfo]) -> list[ScheduleInfo]:
    """The schedules a person made (a snoozed reminder is not one of them)."""
    return [info for info in schedules if info.kind in KINDS]


def describe(info: ScheduleInfo, timezone: str | None, now: dt.datetime | None = None) -> Html:
    """One schedule in words: "Every Tuesday at 17:00"."""
    at = clock(info.at_time)
    now_local = local_now(timezone, now)
    if info.kind == ScheduleKind.WEEKLY and info.weekday is not None:
        return t("schedule.weekly", weekday=items("schedule.weekdays")[info.weekday], time=at)
    assert info.anchor is not None
    if info.kind == ScheduleKind.BIWEEKLY:
        plan = timeplan.plan_of(info)
        zone = timeplan.zone(timezone)
        following = next(timeplan.occurrences_after(plan, zone, now_local), None)
        upcoming = info.anchor if following is None else following.date()
        day = t(
            "schedule.day_month",
            day=upcoming.day,
            month=items("schedule.months")[upcoming.month - 1],
        )
        weekday = items("schedule.weekdays")[info.anchor.weekday()]
        return t("schedule.biweekly", weekday=weekday, time=at, next=day)
    text = t("schedule.once", date=show_day(info.anchor), time=at)
    if dt.datetime.combine(info.anchor, info.at_time) <= now_local:
        return t("schedule.passed", text=text)
    return text


def next_due(schedules: list[ScheduleInfo], timezone: str | None) -> dt.datetime | None:
    """When the next session reminder (or snooze) comes, in the person's wall-clock time."""
    due = [i.next_due_at for i in schedules if i.next_due_at is not None and i.kind != SUMMARY]
    if not due:
        return None
    return min(due).astimezone(timeplan.zone(timezone)).replace(tzinfo=None)


def next_reminder_line(person: PersonInfo, schedules: list[ScheduleInfo]) -> Html | None:
    """ "Your next reminder: ...", or that reminders are paused (None if nothing is planned)."""
    if person.reminders_paused:
        return t("schedule.paused_note")
    upcoming = next_due(schedules, person.timezone)
    return None if upcoming is None else t("schedule.next_reminder", when=show_when(upcoming))


# Changing what reminders depend on -----------------------------------------------------------


def set_zone(name: str) -> Write:
    """A change of time zone."""

    async def write(unit: Unit) -> None:
        await unit.set_timezone(name)

    return write


def set_delay(minutes: int) -> Write:
    """A change of how long after a session's start its reminder comes."""

    async def write(unit: Unit) -> None:
        await unit.set_reminder_delay(minutes)

    return write


def set_paused(paused: bool) -> Write:
    """Pausing or resuming every reminder."""

    async def write(unit: Unit) -> None:
        await unit.set_reminders_paused(paused)

    return write


async def apply(
    update: Update,
    context: BotContext,
    section: str,
    state: State,
    write: Write,
    *,
    data_: dict[str, Any] | None = None,
) -> State:
    """Saves a change with the next state, every next reminder recomputed in the same
    transaction; then drops the person's queued reminder jobs (the engine plans them again)."""
    ids: set[int] = set()

    async def change(unit: Unit) -> None:
        ids.update(info.id for info in await unit.schedules())
        await write(unit)
        await timeplan.replan(unit)
        ids.update(info.id for info in await unit.schedules())

    result = await save(update, context, section, state, change, data_=data_)
    context.forget_reminders(sorted(ids))
    return result


# The time zone (shared with /settings) --------------------------------------------------------


async def ask_zone(update: Update, context: BotContext, section: str, *, why: bool) -> None:
    """Asks for the time zone; Skip keeps one already set."""
    person = await person_of(update, context)
    keep = person is not None and person.timezone is not None
    prompt = t("schedule.zone_prompt")
    text = Html(f"{t('schedule.zone_why')}\n\n{prompt}") if why else prompt
    await send(update, text, keyboard(later_row(section, "zone" if keep else None)))


def zone_step(
    section: str, state: str, after: str, show: Screen
) -> list[BaseHandler[Update, Any, Any]]:
    """The handlers of the time-zone prompt: a typed zone, a shared location, Skip, Not now."""

    async def store(update: Update, context: BotContext, name: str | None, retry: str) -> State:
        if name is None:
            await send(update, t(retry))
            await ask_zone(update, context, section, why=False)
            return state
        saved = await apply(update, context, section, after, set_zone(name), data_={})
        if saved == after:
            await show(update, context, zone_confirmation(name))
        return saved

    async def typed(update: Update, context: BotContext) -> State:
        """Stores a typed city, zone or offset, or says kindly what works."""
        name = await asyncio.to_thread(parse_timezone, text_of(update))
        return await store(update, context, name, "schedule.zone_invalid")

    async def shared(update: Update, context: BotContext) -> State:
        """Stores the zone at a shared location."""
        message = update.message
        assert message is not None and message.location is not None
        spot = message.location
        name = await asyncio.to_thread(timezone_at, spot.latitude, spot.longitude)
        return await store(update, context, name, "schedule.location_invalid")

    async def keep(update: Update, context: BotContext) -> State:
        """Skip: the zone stays as it was."""
        await acknowledge(update, t("schedule.kept"))
        saved = await save(update, context, section, after, data_={})
        if saved == after:
            await show(update, context, None)
        return saved

    async def wrong_kind(update: Update, context: BotContext) -> State:
        """A photo, sticker or file: says what is expected and asks again."""
        await expect_text(update, context)
        await ask_zone(update, context, section, why=False)
        return state

    return [
        MessageHandler(NEW_TEXT, stops(typed)),
        MessageHandler(filters.LOCATION & filters.UpdateType.MESSAGE, stops(shared)),
        CallbackQueryHandler(stops(keep), pattern=Callbacks(section).pattern("skip", "zone")),
        MessageHandler(NEW_NOT_TEXT, stops(wrong_kind)),
    ]


# The list -------------------------------------------------------------------------------------


# Shows a section's overview again, with a note on what just changed.
Show = Callable[[Update, BotContext, Html | None], Awaitable[None]]


async def show_list(update: Update, context: BotContext, note: Html | None = None) -> None:
    """The person's sessions, each with a Remove button, and what can be done."""
    user = update.effective_user
    person = await person_of(update, context)
    if user is None or person is None:
        return
    schedules = await context.store.schedules(user.id)
    mine = visible(schedules)
    parts = [note] if note else []
    parts.append(t("schedule.title"))
    if mine:
        lines = [
            t("schedule.line", number=n, text=describe(info, person.timezone))
            for n, info in enumerate(mine, start=1)
        ]
        parts.append(Html("\n".join([t("schedule.sessions"), *lines])))
    else:
        parts.append(t("schedule.empty"))
    upcoming = next_reminder_line(person, schedules)
    if upcoming is not None:
        parts.append(upcoming)
    if person.timezone is not None:
        parts.append(t("schedule.zone_line", zone=zone_label(person.timezone)))
    removes = [
        (t("schedule.remove_button", number=n), CB("remove", info.id))
        for n, info in enumerate(mine, start=1)
    ]
    remove_rows = [removes[i : i + REMOVE_PER_ROW] for i in range(0, len(removes), REMOVE_PER_ROW)]
    pause: Button = (
        (t("schedule.resume_button"), CB("resume"))
        if person.reminders_paused
        else (t("schedule.pause_button"), CB("pause"))
    )
    await send(
        update,
        Html("\n\n".join(parts)),
        keyboard(
            *remove_rows,
            [
                (t("schedule.add_weekly"), CB("add", ScheduleKind.WEEKLY)),
                (t("schedule.add_biweekly"), CB("add", ScheduleKind.BIWEEKLY)),
            ],
            [(t("schedule.add_once"), CB("add", ScheduleKind.ONCE))],
            [pause],
            [(t("common.done"), CB("done"))],
        ),
    )


async def enter(update: Update, context: BotContext) -> State:
    """Asks for the time zone the first time; otherwise shows the list."""
    await acknowledge(update)
    person = await person_of(update, context)
    if person is not None and person.timezone is None:
        state = await save(update, context, SECTION, ZONE, data_={})
        if state == ZONE:
            await ask_zone(update, context, SECTION, why=True)
        return state
    return await to_list(update, context)


async def to_list(update: Update, context: BotContext, note: Html | None = None) -> State:
    """Records that the person is at the list and shows it."""
    state = await save(update, context, SECTION, LIST, data_={})
    if state == LIST:
        await show_list(update, context, note)
    return state


async def back(update: Update, context: BotContext) -> State:
    """Back to the list; nothing is added."""
    await acknowledge(update)
    return await to_list(update, context)


async def remove(update: Update, context: BotContext) -> State:
    """Removes one schedule (its reminders go with it) and shows the list."""
    await acknowledge(update)
    schedule_id = int(str(callback_query(update).data).rsplit(":", 1)[1])
    removed: list[Html] = []

    async def write(unit: Unit) -> None:
        info = next((s for s in await unit.schedules() if s.id == schedule_id), None)
        if info is not None and info.kind in KINDS and await unit.remove_schedule(schedule_id):
            removed.append(describe(info, unit.person.timezone))

    state = await apply(update, context, SECTION, LIST, write, data_={})
    if state == LIST:
        note = t("schedule.removed", text=removed[0]) if removed else t("schedule.gone")
        await show_list(update, context, note)
    return state


def pausing(
    paused: bool, section: str = SECTION, state: str = LIST, show: Show = show_list
) -> Step:
    """The handler for Pause all reminders, or Resume (in this list, or /settings' overview)."""

    async def press(update: Update, context: BotContext) -> State:
        await acknowledge(update)
        saved = await apply(update, context, section, state, set_paused(paused), data_={})
        if saved == state:
            await show(update, context, t("schedule.paused" if paused else "schedule.resumed"))
        return saved

    return press


# Done, or Not now: leaves the section; whatever was saved stays.
done = leaving(SECTION, "schedule.done")
later = leaving(SECTION, "schedule.later")


# Adding a schedule ---------------------------------------------------------------------------


async def add(update: Update, context: BotContext) -> State:
    """Starts adding a weekly, two-weekly or one-off session."""
    user = update.effective_user
    assert user is not None
    kind = str(callback_query(update).data).rsplit(":", 1)[1]
    if len(visible(await context.store.schedules(user.id))) >= MAX_SCHEDULES:
        await acknowledge(update, t("schedule.too_many"), close=False)
        return LIST
    await acknowledge(update)
    step = WEEKDAY if kind == ScheduleKind.WEEKLY else DATE
    state = await save(update, context, SECTION, step, data_={"kind": kind})
    if state == step:
        await ask(update, context, step, {"kind": kind})
    return state


async def ask(update: Update, context: BotContext, step: str, saved: dict[str, Any]) -> None:
    """Sends the prompt of one step of adding, with Back and Not now."""
    later_buttons: list[Button] = [(t("schedule.back"), CB("back", step.split(".")[1]))]
    later_buttons += later_row(SECTION)
    if step == WEEKDAY:
        days = [(label, CB("day", n)) for n, label in enumerate(items("schedule.weekdays_short"))]
        await send(
            update, t("schedule.weekday_prompt"), keyboard(days[:4], days[4:], later_buttons)
        )
        return
    if step == DATE:
        once = saved.get("kind") == ScheduleKind.ONCE
        key = "schedule.once_date_prompt" if once else "schedule.biweekly_date_prompt"
        days = [
            (t("schedule.today_button"), CB("on", "today")),
            (t("schedule.tomorrow_button"), CB("on", "tomorrow")),
        ]
        await send(update, t(key), keyboard(days, later_buttons))
        return
    times = [(label, CB("at", label.replace(":", ""))) for label in items("schedule.common_times")]
    text = Html(f"{heading(saved)}\n\n{t('schedule.time_prompt')}")
    await send(update, text, keyboard(times[:4], times[4:], later_buttons))


def heading(saved: dict[str, Any]) -> Html:
    """What is being added, above the time prompt: "Every Tuesday"."""
    kind = saved.get("kind")
    if kind == ScheduleKind.WEEKLY:
        return t("schedule.weekly_heading", weekday=items("schedule.weekdays")[saved["weekday"]])
    day = show_day(dt.date.fromisoformat(saved["date"]))
    return t(
        "schedule.biweekly_heading" if kind == ScheduleKind.BIWEEKLY else "schedule.once_heading",
        date=day,
    )


def valid(saved: dict[str, Any], step: str) -> bool:
    """Whether the saved state holds what a step needs (it always does, unless tampered)."""
    if saved.get("kind") not in KINDS:
        return False
    if step != TIME:
        return True
    if saved["kind"] == ScheduleKind.WEEKLY:
        return saved.get("weekday") in range(7)
    return isinstance(saved.get("date"), str)


async def retry(
    update: Update, context: BotContext, step: str, saved: dict[str, Any], key: str, **values: Any
) -> State:
    """Says kindly what was expected and asks the same step again; nothing is stored."""
    await send(update, t(key, **values))
    await ask(update, context, step, saved)
    return step


async def weekday(update: Update, context: BotContext) -> State:
    """Keeps the weekday in the state and asks for the time."""
    await acknowledge(update)
    saved = {
        "kind": ScheduleKind.WEEKLY.value,
        "weekday": int(str(callback_query(update).data).rsplit(":", 1)[1]),
    }
    state = await save(update, context, SECTION, TIME, data_=saved)
    if state == TIME:
        await ask(update, context, TIME, saved)
    return state


async def today_for(update: Update, context: BotContext) -> dt.date:
    """Today where the person lives."""
    person = await person_of(update, context)
    return local_now(None if person is None else person.timezone).date()


async def store_date(update: Update, context: BotContext, day: dt.date) -> State:
    """Keeps the date in the state and asks for the time."""
    saved = await position_data(update, context, SECTION)
    if not valid(saved, DATE):
        return await to_list(update, context)
    saved = {"kind": saved["kind"], "date": day.isoformat()}
    state = await save(update, context, SECTION, TIME, data_=saved)
    if state == TIME:
        await ask(update, context, TIME, saved)
    return state


async def date_button(update: Update, context: BotContext) -> State:
    """Today or tomorrow, where the person lives."""
    await acknowledge(update)
    ahead = 1 if str(callback_query(update).data).endswith(":tomorrow") else 0
    return await store_date(
        update, context, await today_for(update, context) + dt.timedelta(days=ahead)
    )


async def date_text(update: Update, context: BotContext) -> State:
    """A typed date of a session still to come, or a kind word about what works."""
    saved = await position_data(update, context, SECTION)
    today = await today_for(update, context)
    day = parse_coming_date(text_of(update), today)
    if day is None:
        return await retry(update, context, DATE, saved, "schedule.date_invalid")
    problem = plan_date_problem(day, today)
    if problem is not None:
        return await retry(update, context, DATE, saved, problem, date=show_day(day))
    return await store_date(update, context, day)


async def time_button(update: Update, context: BotContext) -> State:
    """One of the common times."""
    await acknowledge(update)
    value = str(callback_query(update).data).rsplit(":", 1)[1]
    return await store_schedule(update, context, dt.time(int(value[:2]), int(value[2:])))


async def time_text(update: Update, context: BotContext) -> State:
    """A typed time, or a kind word about what works."""
    at = parse_time(text_of(update))
    if at is None:
        saved = await position_data(update, context, SECTION)
        if not valid(saved, TIME):
            return await to_list(update, context)
        return await retry(update, context, TIME, saved, "schedule.time_invalid")
    return await store_schedule(update, context, at)


async def store_schedule(update: Update, context: BotContext, at: dt.time) -> State:
    """Adds the schedule, its first reminder planned in the same transaction; shows the list."""
    saved = await position_data(update, context, SECTION)
    person = await person_of(update, context)
    if not valid(saved, TIME) or person is None:
        return await to_list(update, context)
    kind = ScheduleKind(saved["kind"])
    weekday_ = saved.get("weekday")
    anchor = None if kind == ScheduleKind.WEEKLY else dt.date.fromisoformat(saved["date"])
    now = local_now(person.timezone)
    if kind == ScheduleKind.ONCE and anchor is not None and dt.datetime.combine(anchor, at) <= now:
        return await retry(update, context, TIME, saved, "schedule.once_past", time=clock(at))
    added: list[int] = []

    async def write(unit: Unit) -> None:
        day = anchor.weekday() if anchor is not None else weekday_
        added.append(await unit.add_schedule(kind=kind, at_time=at, weekday=day, anchor=anchor))

    state = await apply(update, context, SECTION, LIST, write, data_={})
    if state != LIST:
        return state
    user = update.effective_user
    assert user is not None
    info = next((s for s in await context.store.schedules(user.id) if s.id in added), None)
    if info is None:  # a redelivered update: the schedule was added the first time
        await show_list(update, context)
        return state
    note = [t("schedule.added", text=describe(info, person.timezone))]
    if info.next_due_at is not None:
        due = info.next_due_at.astimezone(timeplan.zone(person.timezone)).replace(tzinfo=None)
        note.append(t("schedule.first_reminder", when=show_when(due)))
    await show_list(update, context, Html(" ".join(note)))
    return state


def wrong_kind(step: str) -> Step:
    """The handler for a photo, sticker or file where a date or time is expected."""

    async def answer(update: Update, context: BotContext) -> State:
        saved = await position_data(update, context, SECTION)
        if not valid(saved, step):
            return await to_list(update, context)
        await expect_text(update, context)
        await ask(update, context, step, saved)
        return step

    return answer


# Wiring --------------------------------------------------------------------------------------


def button(step: Step, action: str, *parts: str) -> Any:
    """A handler for the buttons of one action whose parts match `parts` (regexes) exactly."""
    return CallbackQueryHandler(stops(step), pattern=CB.pattern(action, *parts))


def build_handler() -> Any:
    """The /schedule conversation."""
    later_button = button(later, "later")
    return section_handler(
        SECTION,
        entry_points=[
            CommandHandler(SECTION, stops(enter), filters=filters.UpdateType.MESSAGE),
            CallbackQueryHandler(stops(enter), pattern=MENU.pattern(SECTION)),
        ],
        states={
            ZONE: [*zone_step(SECTION, ZONE, LIST, show_list), later_button],
            LIST: [
                button(add, "add", "(weekly|biweekly|once)"),
                button(remove, "remove", "[0-9]{1,12}"),
                button(pausing(True), "pause"),
                button(pausing(False), "resume"),
                button(done, "done"),
                later_button,
                wait_for_buttons(LIST),
            ],
            WEEKDAY: [
                button(weekday, "day", "[0-6]"),
                button(back, "back", "weekday"),
                later_button,
                wait_for_buttons(WEEKDAY),
            ],
            DATE: [
                MessageHandler(NEW_TEXT, stops(date_text)),
                button(date_button, "on", "(today|tomorrow)"),
                button(back, "back", "date"),
                later_button,
                MessageHandler(NEW_NOT_TEXT, stops(wrong_kind(DATE))),
            ],
            TIME: [
                MessageHandler(NEW_TEXT, stops(time_text)),
                button(time_button, "at", "([01][0-9]|2[0-3])[0-5][0-9]"),
                button(back, "back", "time"),
                later_button,
                MessageHandler(NEW_NOT_TEXT, stops(wrong_kind(TIME))),
            ],
        },
    )
