"""Session reminders (/schedule): the time zone, when sessions happen, and pausing timeplan.

Every change is saved with the conversation state and with every schedule's next reminder
recomputed, in one transaction; queued reminder jobs are dropped after the commit, so the engine
plans them again from the database. The time-zone step is shared with /settings (and, for a
person without a zone, with /log's first date): a person with sessions who changes zone is asked
once whether they keep their time of day or their moment.
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
from conversations.kit.prompting import ask_once, leaving, on_live, retire
from conversations.kit.steps import (
    END,
    NEW_NOT_TEXT,
    NEW_TEXT,
    NOT_A_COMMAND,
    Button,
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
    twelve_hour,
    zone_city,
    zone_confirmation,
    zone_label,
)
from conversations.worksheet.timeplan import Keep
from conversations.worksheet.timezones import parse_timezone, timezone_at
from storage.models import ScheduleKind, utcnow
from storage.repository import PersonInfo, ScheduleInfo, Unit

SECTION = "schedule"
CB = Callbacks(SECTION)
ZONE = "schedule.zone"
ZONE_CHOICE = "schedule.zone_choice"
LIST = "schedule.list"
WEEKDAY = "schedule.weekday"
DATE = "schedule.date"
TIME = "schedule.time"
KINDS = timeplan.SESSION_KINDS  # the schedules a person made: weekly, two-weekly, once
SUMMARY = ScheduleKind.SUMMARY  # the weekly summary rides on the same engine; it is not a session
# A list longer than this no longer fits on a phone screen, and nobody has more sessions.
MAX_SCHEDULES = 10
REMOVE_PER_ROW = 3
# The mark of a person who skipped the time zone where /log asked for it (asked once).
ZONE_SKIPPED = "zone.skipped"

Write = Callable[[Unit], Awaitable[None]]
Screen = Callable[[Update, BotContext, Html | None], Awaitable[None]]


# Showing times and schedules -----------------------------------------------------------------


def visible(schedules: list[ScheduleInfo]) -> list[ScheduleInfo]:
    """The schedules a person made (a snoozed reminder is not one of them)."""
    return [info for info in schedules if info.kind in KINDS]


def describe(info: ScheduleInfo, timezone: str | None, now: dt.datetime | None = None) -> Html:
    """One schedule in words: "Every Tuesday at 17:00"."""
    at = clock(info.at_time, timezone)
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
    if upcoming is None:
        return None
    return t("schedule.next_reminder", when=show_when(upcoming, person.timezone))


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


# The time zone (shared with /settings, and with /log for a person without one) ---------------


async def ask_zone(
    update: Update,
    context: BotContext,
    section: str,
    *,
    why: str | None = None,
    skip: bool | None = None,
) -> None:
    """Asks for the time zone, after the words `why` (a content key) if given. Skip keeps a
    zone already set, or (`skip=True`) leaves it unset."""
    if skip is None:
        person = await person_of(update, context)
        skip = person is not None and person.timezone is not None
    prompt = t("schedule.zone_prompt")
    text = Html(f"{t(why)}\n\n{prompt}") if why else prompt
    await send(update, text, keyboard(later_row(section, "zone" if skip else None)))


def zone_step(
    section: str,
    state: str,
    after: str,
    show: Screen,
    *,
    choice: str | None = None,
    why: str | None = None,
    skip: Write | None = None,
    skipped: str | None = None,
) -> list[BaseHandler[Update, Any, Any]]:
    """The handlers of the time-zone prompt: a typed zone, a shared location, Skip, Not now.

    A person with sessions whose new zone keeps another time is asked (in state `choice`)
    whether their sessions keep their time of day or their moment; without `choice` (or with
    nothing to ask) the new zone is shown on the `after` screen at once. Skip keeps the zone
    as it was, writing `skip` (if given) and showing `skipped` (else a short "nothing changed").
    """

    async def store(update: Update, context: BotContext, name: str | None, retry: str) -> State:
        if name is None:
            await send(update, t(retry))
            await ask_zone(update, context, section, skip=True if skip else None)
            return state
        return await change_zone(update, context, section, name, after, show, choice)

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
        await acknowledge(update, None if skipped else t("schedule.kept"))
        saved = await save(update, context, section, after, skip, data_={})
        if saved == after:
            await show(update, context, t(skipped) if skipped else None)
        return saved

    async def wrong_kind(update: Update, context: BotContext) -> State:
        """A photo, sticker or file: says what is expected and asks again."""
        await expect_text(update, context)
        await ask_zone(update, context, section, skip=True if skip else None)
        return state

    return [
        MessageHandler(NEW_TEXT, stops(typed)),
        MessageHandler(filters.LOCATION & filters.UpdateType.MESSAGE, stops(shared)),
        CallbackQueryHandler(stops(keep), pattern=Callbacks(section).pattern("skip", "zone")),
        MessageHandler(NEW_NOT_TEXT, stops(wrong_kind)),
    ]


def rezone(
    old: str, new: str, now: dt.datetime, keep: Keep, kept: dict[str, Any], moved: list[Html]
) -> Write:
    """A change of time zone from `old` to `new` (or, with `kept` holding an earlier change's
    "moved", the answer to its question): every schedule as `keep` says, a snoozed reminder
    and a one-off session that would otherwise pass at their moment (see timeplan.rezoned).
    Fills `kept` with the ids moved to their moment, and `moved` with the one-off sessions
    kept at their moment though their time of day was asked for."""

    async def write(unit: Unit) -> None:
        answered = set(kept.get("moved", ()))
        if keep == Keep.LOCAL:
            await unit.set_timezone(new)
        before, after = timeplan.zone(old), timeplan.zone(new)
        ids: list[int] = []
        delay = unit.person.reminder_delay_min
        for info in await unit.schedules():
            if info.id in answered or (keep == Keep.MOMENT and info.kind not in KINDS):
                continue
            target = timeplan.rezoned(info, before, after, delay, now, keep)
            if target == info:
                continue
            await unit.reschedule(
                info.id, weekday=target.weekday, at_time=target.at_time, anchor=target.anchor
            )
            ids.append(info.id)
            if keep == Keep.LOCAL and info.kind == ScheduleKind.ONCE:
                moved.append(
                    t(
                        "schedule.once_kept",
                        text=describe(target, new, now),
                        was=clock(info.at_time, new),
                        old_zone=zone_city(old),
                        zone=zone_city(new),
                    )
                )
        kept["moved"] = sorted(answered | set(ids))

    return write


async def change_zone(
    update: Update,
    context: BotContext,
    section: str,
    name: str,
    after: str,
    show: Screen,
    choice: str | None,
) -> State:
    """Stores a new zone; asks what the person's sessions keep if that matters (see zone_step)."""
    person = await person_of(update, context)
    user = update.effective_user
    old = None if person is None else person.timezone
    if person is None or user is None or old is None or old == name:
        saved = await apply(update, context, section, after, set_zone(name), data_={})
        if saved == after:
            await show(update, context, zone_confirmation(name))
        return saved
    now = utcnow()
    schedules = await context.store.schedules(user.id)
    delay = person.reminder_delay_min
    pairs = timeplan.moves(schedules, timeplan.zone(old), timeplan.zone(name), delay, now)
    asking = choice if pairs and choice is not None else after
    kept: dict[str, Any] = {"from": old, "to": name}
    moved: list[Html] = []
    write = rezone(old, name, now, Keep.LOCAL, kept, moved)
    # apply() writes the state after `write`, so the moved ids are in `kept` by then.
    saved = await apply(
        update, context, section, asking, write, data_=kept if asking != after else {}
    )
    if saved != asking:
        return saved
    notes = [zone_confirmation(name), *moved]
    if asking == after:
        await show(update, context, Html("\n\n".join(notes)))
        return saved
    await ask_choice(update, context, section, old, name, pairs, notes)
    return saved


def choice_buttons(
    section: str, name: str, pairs: list[tuple[ScheduleInfo, ScheduleInfo]]
) -> list[list[Button]]:
    """Keep the time of day, or the moment (the times themselves when there is one session)."""
    cb = Callbacks(section)
    city = zone_city(name)
    if len(pairs) == 1:
        local, moment = pairs[0]
        labels = (
            t("schedule.keep_local_one", time=clock(local.at_time, name), zone=city),
            t("schedule.keep_moment_one", time=clock(moment.at_time, name), zone=city),
        )
    else:
        labels = (t("schedule.keep_local", zone=city), t("schedule.keep_moment"))
    return [
        [(labels[0], cb("keep", Keep.LOCAL))],
        [(labels[1], cb("keep", Keep.MOMENT))],
        [(t("common.not_now"), cb("later"))],
    ]


def choice_text(
    old: str,
    name: str,
    pairs: list[tuple[ScheduleInfo, ScheduleInfo]],
    notes: list[Html],
    now: dt.datetime,
) -> Html:
    """The question, with both outcomes for every session in the new zone's words."""
    city, was = zone_city(name), zone_city(old)
    before, after = timeplan.zone(old), timeplan.zone(name)
    local = [
        t("schedule.choice_local_line", text=describe(info, name, now), zone=city)
        for info, _ in pairs
    ]
    moment: list[Html] = []
    for info, moved in pairs:
        line_ = t(
            "schedule.choice_moment_line",
            text=describe(moved, name, now),
            zone=city,
            was=was_when(info, moved, name),
            old_zone=was,
        )
        moment.append(line_)
        changes = timeplan.drift(info, moved, before, after, now)
        if changes is not None:
            moment.append(
                t("schedule.choice_drift", date=show_day(changes), zone=city, old_zone=was)
            )
    parts = [
        *notes,
        t("schedule.choice_question", old_zone=was),
        Html("\n".join([t("schedule.choice_local", zone=city), *local])),
        Html("\n".join([t("schedule.choice_moment"), *moment])),
        t("schedule.choice_until", zone=city),
    ]
    return Html("\n\n".join(parts))


def was_when(info: ScheduleInfo, moved: ScheduleInfo, name: str) -> Html:
    """When a session was, in its old zone: "18:30", or "Thursday at 18:30" where its day
    moved too (on the clock of `name`, the person's zone now)."""
    at = clock(info.at_time, name)
    if info.kind == ScheduleKind.ONCE and info.anchor is not None and info.anchor != moved.anchor:
        return t("schedule.when", date=show_day(info.anchor), time=at)
    if info.weekday is not None and info.weekday != moved.weekday:
        return t("schedule.when", date=items("schedule.weekdays")[info.weekday], time=at)
    return Html(at)


async def ask_choice(
    update: Update,
    context: BotContext,
    section: str,
    old: str,
    name: str,
    pairs: list[tuple[ScheduleInfo, ScheduleInfo]],
    notes: list[Html],
) -> None:
    """Sends the question (its one live copy)."""
    text = choice_text(old, name, pairs, notes, utcnow())
    await ask_once(update, context, section, text, keyboard(*choice_buttons(section, name, pairs)))


def choice_step(
    section: str, state: str, after: str, show: Screen
) -> list[BaseHandler[Update, Any, Any]]:
    """The handlers of the question after a change of zone: keep the time of day, keep the
    moment, Not now; anything typed meanwhile gets a kind word and changes nothing."""

    async def pending(update: Update, context: BotContext) -> dict[str, Any] | None:
        """The change being asked about, if the person's zone is still the one it set."""
        saved = await position_data(update, context, section)
        person = await person_of(update, context)
        old, new, moved = saved.get("from"), saved.get("to"), saved.get("moved")
        if not (isinstance(old, str) and isinstance(new, str) and isinstance(moved, list)):
            return None
        if person is None or person.timezone != new:
            return None
        return saved

    async def answer(update: Update, context: BotContext) -> State:
        await acknowledge(update)
        saved = await pending(update, context)
        if saved is None:
            done = await save(update, context, section, after, data_={})
            await retire(update, context, section)
            if done == after:
                await show(update, context, None)
            return done
        keep = Keep(str(callback_query(update).data).rsplit(":", 1)[1])
        old, new = saved["from"], saved["to"]
        if keep == Keep.LOCAL:
            done = await save(update, context, section, after, data_={})
            note = t("schedule.kept_local", zone=zone_city(new))
        else:
            write = rezone(old, new, utcnow(), Keep.MOMENT, dict(saved), [])
            done = await apply(update, context, section, after, write, data_={})
            note = await kept_moment(update, context, new)
        await retire(update, context, section)
        if done == after:
            await show(update, context, note)
        return done

    async def later(update: Update, context: BotContext) -> State:
        """Not now: the new zone stays, and the sessions keep their time of day."""
        await acknowledge(update)
        person = await person_of(update, context)
        zone_name = None if person is None else person.timezone
        done = await save(update, context, section, END)
        await retire(update, context, section)
        city = zone_city(zone_name) if zone_name else ""
        await send(update, t("schedule.choice_later", zone=city), keyboard(help_row()))
        return done

    async def typed(update: Update, context: BotContext) -> State:
        """A message while the question waits: it is still there, and nothing is lost."""
        person = await person_of(update, context)
        zone_name = None if person is None else person.timezone
        city = zone_city(zone_name) if zone_name else ""
        await send(update, t("schedule.choice_buttons", zone=city))
        return state

    cb = Callbacks(section)
    return [
        CallbackQueryHandler(
            stops(on_live(section, state, answer)), pattern=cb.pattern("keep", "(local|moment)")
        ),
        CallbackQueryHandler(stops(on_live(section, state, later)), pattern=cb.pattern("later")),
        MessageHandler(NOT_A_COMMAND, stops(typed)),
    ]


async def kept_moment(update: Update, context: BotContext, name: str) -> Html:
    """What the sessions are now, kept at their moment, in the new zone's time."""
    user = update.effective_user
    schedules = [] if user is None else visible(await context.store.schedules(user.id))
    now = utcnow()
    lines = [
        t("schedule.line", number=n, text=describe(info, name, now))
        for n, info in enumerate(schedules, start=1)
    ]
    return Html("\n".join([t("schedule.kept_moment", zone=zone_city(name)), *lines]))


# For /log: the zone before the first date of a person without one ---------------------------


async def zone_unasked(update: Update, context: BotContext) -> bool:
    """Whether a person has no time zone and was never asked for one where /log asks it (their
    "today" would be UTC's)."""
    person, user = await person_of(update, context), update.effective_user
    if person is None or user is None or person.timezone is not None:
        return False
    return ZONE_SKIPPED not in await context.store.marks(user.id, ZONE_SKIPPED)


async def ask_today_zone(update: Update, context: BotContext, section: str) -> None:
    """Asks for the zone so that "today" is the person's own; Skip keeps UTC's, and is kept."""
    await ask_zone(update, context, section, why="schedule.zone_why_today", skip=True)


async def skip_zone(unit: Unit) -> None:
    """Skip, where /log asks for the zone: remembered, so it is asked once."""
    await unit.mark(ZONE_SKIPPED)


def today_zone_step(
    section: str, state: str, after: str, show: Screen
) -> list[BaseHandler[Update, Any, Any]]:
    """The handlers of /log's time-zone prompt (see zone_step): a zone, or Skip, remembered."""
    return zone_step(
        section,
        state,
        after,
        show,
        why="schedule.zone_why_today",
        skip=skip_zone,
        skipped="schedule.zone_skipped",
    )


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
            await ask_zone(update, context, SECTION, why="schedule.zone_why")
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
    person = await person_of(update, context)
    zone_name = None if person is None else person.timezone
    times = [
        (clock(dt.time.fromisoformat(label), zone_name), CB("at", label.replace(":", "")))
        for label in items("schedule.common_times")
    ]
    text = Html(f"{heading(saved)}\n\n{time_words(zone_name, 'prompt')}")
    await send(update, text, keyboard(times[:4], times[4:], later_buttons))


def time_words(timezone: str | None, which: str) -> Html:
    """The time prompt ("prompt") or its retry ("invalid"), with examples on the person's clock."""
    twelve = twelve_hour(timezone)
    if which == "prompt":
        return t("schedule.time_prompt_12h" if twelve else "schedule.time_prompt")
    return t("schedule.time_invalid_12h" if twelve else "schedule.time_invalid")


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
        person = await person_of(update, context)
        await send(update, time_words(None if person is None else person.timezone, "invalid"))
        await ask(update, context, TIME, saved)
        return TIME
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
        when = clock(at, person.timezone)
        return await retry(update, context, TIME, saved, "schedule.once_past", time=when)
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
        note.append(t("schedule.first_reminder", when=show_when(due, person.timezone)))
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
            ZONE: [*zone_step(SECTION, ZONE, LIST, show_list, choice=ZONE_CHOICE), later_button],
            ZONE_CHOICE: choice_step(SECTION, ZONE_CHOICE, LIST, show_list),
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
