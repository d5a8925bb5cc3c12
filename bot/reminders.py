"""Post-session reminders: planned from the database, timed by the JobQueue, claimed before sent.

The database is the source of truth: each schedule row carries its next occurrence and when its
reminder is due (indexed). A short interval job reads what falls due in the next minute and
puts exactly those on the JobQueue at their exact time, so start-up and memory don't grow with
the number of people. Sending first claims (person, schedule, occurrence) in the ledger in the
same transaction that moves the schedule on, so a reminder is never sent twice; one claimed by a
process that died before sending it is sent on the next start.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Message, Update
from telegram.error import Forbidden, TelegramError
from telegram.ext import ContextTypes, ExtBot, Job, JobQueue

from bot.context import BotContext, job_name
from bot.pacing import BULK
from bot.settings import Settings
from conversations.kit.callbacks import Callbacks
from conversations.kit.steps import acknowledge, keyboard
from conversations.sections import log
from conversations.worksheet import timeplan
from conversations.worksheet.content import ENGLISH, set_language, speaking, t
from conversations.worksheet.timeplan import following, zone
from storage import Store
from storage.models import LedgerStatus, ScheduleKind, utcnow
from storage.repository import DueSchedule, is_summary_key

logger = logging.getLogger(__name__)

TICK = dt.timedelta(seconds=20)
REMINDER = Callbacks("rem")  # a reminder's Snooze and No session buttons
LOOKAHEAD = dt.timedelta(seconds=60)
TOO_LATE = dt.timedelta(hours=12)
SNOOZE = dt.timedelta(hours=1)


JobCallback = Callable[[ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]


def finishes_on_stop(callback: JobCallback) -> JobCallback:
    """A job that is let finish when the bot stops, instead of being cancelled half-way.

    APScheduler cancels running coroutine jobs when the JobQueue stops; PTB's Application.stop
    waits for tasks made with Application.create_task. So the work runs as such a task, shielded
    from the job's cancellation (its errors go to the error handler from there).
    """

    @functools.wraps(callback)
    async def job(context: ContextTypes.DEFAULT_TYPE) -> None:
        task = context.application.create_task(callback(context), name=callback.__name__)
        try:
            await asyncio.shield(task)
        except Exception:  # already reported by create_task to the error handler
            return

    return job


# Timing --------------------------------------------------------------------------------------


async def tick(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Put every reminder due within the next minute on the JobQueue, at its exact time."""
    store: Store = context.bot_data["store"]
    job_queue = context.job_queue
    assert job_queue is not None
    now = utcnow()
    # People who agreed to an older privacy notice are asked again first; until then, nothing.
    settings: Settings = context.bot_data["settings"]
    for due in await store.due_schedules(now + LOOKAHEAD, consent_version=settings.consent_version):
        info = due.schedule
        assert info.next_occurrence is not None and info.next_due_at is not None
        name = job_name(info.id, info.next_occurrence)
        # The job's name is also its APScheduler id: looking it up is a dict lookup, where
        # get_jobs_by_name would match every queued job against the name.
        if job_queue.scheduler.get_job(name) is not None:
            continue
        job_queue.run_once(
            fire, when=max(info.next_due_at, now), data=due, name=name, job_kwargs={"id": name}
        )
        logger.debug("Queued the reminder of schedule %s", info.id)  # no time: that is private


@finishes_on_stop
async def fire(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Claim one occurrence's reminder, move its schedule on, and send it (unless too late)."""
    store: Store = context.bot_data["store"]
    settings: Settings = context.bot_data["settings"]
    job = context.job
    assert isinstance(job, Job) and isinstance(job.data, DueSchedule)
    due: DueSchedule = job.data
    set_language(due.language or ENGLISH)  # this job's own task: its words are the person's
    info = due.schedule
    assert info.next_occurrence is not None
    tz = zone(due.timezone)
    occurrence = info.next_occurrence
    start = timeplan.occurrence_at(occurrence, tz).start_utc
    late = utcnow() - start > TOO_LATE
    following_start, following_due = following(info, tz, due.delay_min, occurrence)
    assert info.next_due_at is not None
    entry_id = await store.claim_reminder(
        info.id,
        occurrence,
        due_at=info.next_due_at,
        status=LedgerStatus.SKIPPED if late else LedgerStatus.CLAIMED,
        next_occurrence=following_start,
        next_due_at=following_due,
        consent_version=settings.consent_version,
    )
    if entry_id is None or late:
        if late:
            logger.info("Skipped a reminder more than 12 hours late (schedule %s)", info.id)
        return
    if info.kind == ScheduleKind.SUMMARY:
        await deliver_summary(_ext(context), store, due.telegram_id, entry_id)
        return
    session_day = info.session_date or occurrence.date()
    await deliver(_ext(context), store, due.telegram_id, entry_id, session_day)


async def deliver(
    bot: ExtBot[Any], store: Store, telegram_id: int, entry_id: int, day: dt.date
) -> None:
    """Send a claimed reminder, paced; record how it went."""
    buttons = keyboard(
        [(t("reminders.log_now"), log.CB("new", day.isoformat()))],
        [
            (t("reminders.snooze"), REMINDER("snooze", entry_id)),
            (t("reminders.no_session"), REMINDER("none", entry_id)),
        ],
    )

    async def send() -> Message:
        # The one kind of message that notifies: discreet, nothing of the person's in it.
        return await bot.send_message(
            telegram_id,
            t("reminders.text"),
            reply_markup=buttons,
            disable_notification=False,
            rate_limit_args=BULK,
        )

    await _send_claimed(store, telegram_id, entry_id, "A reminder", send)


async def _send_claimed(
    store: Store,
    telegram_id: int,
    entry_id: int,
    what: str,
    send: Callable[[], Coroutine[Any, Any, Message]],
) -> None:
    """Send a claimed ledger entry and record how it went (a block pauses the person)."""
    try:
        message = await send()
    except Forbidden:
        logger.info("A person blocked the bot; their reminders are paused")
        await store.set_blocked(telegram_id, True)
        await store.finish_reminder(entry_id, LedgerStatus.BLOCKED)
        return
    except TelegramError as error:
        logger.warning("%s could not be sent: %s", what, type(error).__name__)
        await store.finish_reminder(entry_id, LedgerStatus.FAILED)
        return
    await store.finish_reminder(entry_id, LedgerStatus.SENT, message_id=message.message_id)


async def deliver_summary(bot: ExtBot[Any], store: Store, telegram_id: int, entry_id: int) -> None:
    """Send a claimed weekly summary, paced; skipped (not sent empty) when the week had nothing.

    Only the first line notifies, and it names nothing of the person's: what a locked phone
    shows. Everything with ratings, topics, notes, and the chart, follows silently and, as the
    person chose in /settings, protected (conversations.sections.summary.send_composed).
    """
    from conversations.sections.summary import compose, send_composed

    person = await store.get_person(telegram_id)
    protect = person is None or person.protect_messages
    composed = await compose(store, telegram_id)
    if composed.empty:
        await store.finish_reminder(entry_id, LedgerStatus.EMPTY)
        return

    async def send() -> Message:
        first = await bot.send_message(
            telegram_id,
            t("summary.weekly_first_line"),
            disable_notification=False,  # the one that notifies (whatever the defaults say)
            protect_content=protect,
            rate_limit_args=BULK,
        )
        await send_composed(bot, telegram_id, composed, protect=protect, rate_limit_args=BULK)
        return first

    await _send_claimed(store, telegram_id, entry_id, "A weekly summary", send)


def _ext(context: ContextTypes.DEFAULT_TYPE) -> ExtBot[Any]:
    bot = context.bot
    assert isinstance(bot, ExtBot)
    return bot


@finishes_on_stop
async def resend_unsent(context: ContextTypes.DEFAULT_TYPE) -> None:
    """At start: send reminders a previous process claimed but died before sending."""
    store: Store = context.bot_data["store"]
    for entry in await store.unsent_reminders():
        person = await store.get_person(entry.telegram_id)
        if person is None or person.blocked or person.reminders_paused:
            await store.finish_reminder(entry.id, LedgerStatus.SKIPPED)
            continue
        start = timeplan.occurrence_at(entry.occurrence, zone(person.timezone)).start_utc
        if utcnow() - start > TOO_LATE:
            await store.finish_reminder(entry.id, LedgerStatus.SKIPPED)
            continue
        with speaking(person.language or ENGLISH):
            if is_summary_key(entry.schedule_key):
                await deliver_summary(_ext(context), store, entry.telegram_id, entry.id)
            else:
                day = entry.occurrence.date()
                await deliver(_ext(context), store, entry.telegram_id, entry.id, day)


def start_jobs(job_queue: JobQueue[Any]) -> None:
    """The only standing jobs: the resend at start and the tick (first one at once)."""
    job_queue.run_once(resend_unsent, when=0, name="reminders:resend")
    job_queue.run_repeating(tick, interval=TICK, first=0.5, name="reminders:tick")


# The reminder's own buttons ---------------------------------------------------------------


async def snooze(update: Update, context: BotContext) -> None:
    """ "Remind me in an hour": a one-off reminder an hour from now for the same session."""
    user, query = update.effective_user, update.callback_query
    assert user is not None and query is not None and query.data is not None
    entry_id = int(query.data.rsplit(":", 1)[1])
    now = utcnow()
    async with context.store.unit(user.id) as unit:
        entry = await unit.ledger_entry(entry_id)
        if entry is None or entry.status != LedgerStatus.SENT:
            stale = True
        else:
            stale = False
            tz = zone(unit.person.timezone)
            local = (now + SNOOZE).astimezone(tz).replace(tzinfo=None, second=0, microsecond=0)
            sid = await unit.add_schedule(
                kind=ScheduleKind.SNOOZE,
                at_time=local.time(),
                anchor=local.date(),
                session_date=entry.occurrence.date(),
            )
            await unit.set_next(sid, local, timeplan.occurrence_at(local, tz).start_utc)
            await unit.set_ledger_status(entry_id, LedgerStatus.SNOOZED)
    if stale:
        await acknowledge(update, t("errors.stale_button"), close=False)
        return
    await acknowledge(update, t("reminders.snoozed"))


async def no_session(update: Update, context: BotContext) -> None:
    """ "No session this time": noted, nothing else asked."""
    user, query = update.effective_user, update.callback_query
    assert user is not None and query is not None and query.data is not None
    entry_id = int(query.data.rsplit(":", 1)[1])
    async with context.store.unit(user.id) as unit:
        entry = await unit.ledger_entry(entry_id)
        stale = entry is None or entry.status not in (LedgerStatus.SENT, LedgerStatus.SNOOZED)
        if not stale:
            await unit.set_ledger_status(entry_id, LedgerStatus.NO_SESSION)
    if stale:
        await acknowledge(update, t("errors.stale_button"), close=False)
        return
    await acknowledge(update, t("reminders.noted"))
