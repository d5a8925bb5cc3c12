"""Reminders in the fault tests: many people agree through the chat, their one-off sessions are
written straight into the store while the bot is stopped (planning 50 sessions through /schedule
would take minutes), and what became of each reminder is read back from the store."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from conversations.worksheet.content import t
from storage import Store
from tests.e2e.helpers import query, with_store
from tests.fake_telegram import BotMessage, FakeUser

T = TypeVar("T")
WAIT = 60.0


def begin_all(people: Sequence[FakeUser]) -> None:
    """/start and "I agree" for everyone at once (each waits only for their own replies)."""
    marks = {person.user_id: person.mark() for person in people}
    for person in people:
        person.command("start")
    for person in people:
        agree = person.wait_for(
            lambda m: m.has_button(t("start.agree_button")), after=marks[person.user_id]
        )
        person.press(t("start.agree_button"), agree)
    for person in people:
        person.wait_for(lambda m: m.html == t("start.agreed"), after=marks[person.user_id])


def this_minute() -> dt.datetime:
    """The start of the current minute (UTC, naive: a session's wall-clock start in UTC)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, second=0, microsecond=0)


def seed_once(
    data_dir: Path,
    plan: Sequence[tuple[FakeUser, dt.datetime]],
    session: dt.datetime | None = None,
) -> None:
    """Each person (who agreed) gets zone UTC and a one-off session (by default one that
    started this minute), whose reminder is due at the given instant."""
    session = session or this_minute()

    async def seed(store: Store) -> None:
        for person, due in plan:
            async with store.unit(person.user_id) as unit:
                await unit.set_timezone("UTC")
                await unit.set_reminder_delay(0)
                sid = await unit.add_schedule(
                    kind="once", at_time=session.time(), anchor=session.date()
                )
                await unit.set_next(sid, session, due)

    with_store(data_dir, seed)


def reminders_in(user: FakeUser) -> list[BotMessage]:
    """The reminders in a person's chat."""
    return [m for m in user.messages() if m.html == t("reminders.text")]


def ledger_statuses(data_dir: Path) -> dict[int, list[str]]:
    """What became of every claimed reminder, by person (Telegram id), oldest claim first."""
    rows = query(
        data_dir,
        "SELECT person.telegram_id, reminder_ledger.status FROM reminder_ledger"
        " JOIN person ON person.id = reminder_ledger.person_id ORDER BY reminder_ledger.id",
    )
    found: dict[int, list[str]] = {}
    for telegram_id, status in rows:
        found.setdefault(int(str(telegram_id)), []).append(str(status))
    return found


def settled(data_dir: Path) -> dict[int, list[str]] | None:
    """Every claimed reminder's status by person, once there are some and none is claimed and
    still unsent."""
    statuses = ledger_statuses(data_dir)
    unsent = any("claimed" in found for found in statuses.values())
    return None if unsent or not statuses else statuses


def eventually(probe: Callable[[], T | None], timeout: float = WAIT) -> T:
    """Poll something outside the fake (the store) until it is there; fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found is not None:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"still not so after {timeout} s")
        time.sleep(0.25)


def scheduled(data_dir: Path) -> set[int]:
    """People (Telegram ids) who still have a schedule, i.e. a reminder not claimed yet."""
    rows = query(
        data_dir,
        "SELECT person.telegram_id FROM schedule JOIN person ON person.id = schedule.person_id",
    )
    return {int(str(row[0])) for row in rows}
