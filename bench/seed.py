"""Filling a migrated database quickly: many registered people, their sessions and schedules.

Rows go in with SQLAlchemy Core `executemany` on a synchronous engine (the bot's own tables and
column types, so values are stored exactly as the bot stores them). Written text (session topics
and therapist notes) is really encrypted with the bench key, bound to its owner and field, so a
seeded person can open /review or /summary like anyone else.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, create_engine, insert, select

from bench.common import KEY
from conversations.worksheet import timeplan
from storage import Cipher, Database
from storage.crypto import decode_key, session_binding
from storage.models import (
    AuditEvent,
    AuditKind,
    Person,
    Place,
    Schedule,
    ScheduleKind,
    SessionEntry,
)
from storage.repository import ScheduleInfo

CHUNK = 20_000
ZONES = ("Europe/Berlin", "America/New_York", "Asia/Tokyo", "UTC", "Australia/Sydney")
TOPICS = ("Work and sleep", "My mother's visit", "Boundaries", "Feeling unheard", "A good week")
ROLES = ("Ask before moving on", "Slow down", "Nothing, it felt right", "Check in at the end")


def database_url(data_dir: Path) -> str:
    """The bot's SQLite file in a data folder (as Settings.effective_database_url)."""
    return f"sqlite+aiosqlite:///{(data_dir / 'bot.sqlite3').resolve()}"


def migrate(data_dir: Path) -> None:
    """Create the schema with the bot's migrations (outside an event loop)."""
    asyncio.run(migrate_async(data_dir))


async def migrate_async(data_dir: Path) -> None:
    """Create the schema with the bot's migrations (from inside an event loop)."""
    await asyncio.to_thread(data_dir.mkdir, parents=True, exist_ok=True)
    db = Database(database_url(data_dir))
    try:
        await db.migrate()
    finally:
        await db.dispose()


def sync_engine(data_dir: Path) -> Engine:
    """A plain synchronous engine on the bot's file, WAL as the bot uses it."""
    engine = create_engine(f"sqlite:///{(data_dir / 'bot.sqlite3').resolve()}")
    with engine.begin() as conn:
        conn.exec_driver_sql("PRAGMA journal_mode=WAL")
    return engine


def _chunks(rows: Iterable[dict[str, Any]], size: int = CHUNK) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _insert(engine: Engine, table: Any, rows: Iterable[dict[str, Any]]) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql("PRAGMA synchronous=OFF")
        for batch in _chunks(rows):
            conn.execute(insert(table), batch)


def people(
    engine: Engine,
    telegram_ids: list[int],
    *,
    timezone: str | None = None,
    delay_min: int = 60,
) -> dict[int, int]:
    """Consented people (with their consent audit event); returns person id by Telegram id."""
    now = dt.datetime.now(dt.UTC)
    rng = random.Random(1)
    _insert(
        engine,
        Person.__table__,
        (
            {
                "telegram_id": tid,
                "created_at": now,
                "consent_version": "1",
                "consented_at": now,
                "timezone": timezone or rng.choice(ZONES),
                "reminder_delay_min": delay_min,
                "reminders_paused": False,
                "blocked": False,
            }
            for tid in telegram_ids
        ),
    )
    with engine.connect() as conn:
        found = conn.execute(
            select(Person.telegram_id, Person.id).where(
                Person.telegram_id.between(min(telegram_ids), max(telegram_ids))
            )
        )
        ids = {int(tid): int(pid) for tid, pid in found}
    _insert(
        engine,
        AuditEvent.__table__,
        ({"at": now, "person_id": pid, "kind": AuditKind.CONSENTED} for pid in ids.values()),
    )
    return ids


def sessions(engine: Engine, person_ids: Iterable[int], *, weeks: int = 12) -> int:
    """`weeks` completed session entries per person, one a week up to today; returns rows."""
    cipher = Cipher(decode_key(KEY))
    today = dt.datetime.now(dt.UTC).date()
    now = dt.datetime.now(dt.UTC)
    rng = random.Random(2)
    count = 0

    def rows() -> Iterator[dict[str, Any]]:
        nonlocal count
        for pid in person_ids:
            owner = str(pid)
            for week in range(weeks):
                uid = uuid.uuid4().hex
                count += 1
                yield {
                    "uid": uid,
                    "person_id": pid,
                    "session_date": today - dt.timedelta(days=7 * (weeks - 1 - week)),
                    "topic_enc": cipher.encrypt(
                        rng.choice(TOPICS), owner=owner, field=session_binding(uid, "topic")
                    ),
                    "trust": rng.randint(3, 10),
                    "safety": rng.randint(3, 10),
                    "role_enc": cipher.encrypt(
                        rng.choice(ROLES), owner=owner, field=session_binding(uid, "role")
                    ),
                    "complete": True,
                    "created_at": now,
                    "updated_at": now,
                }

    _insert(engine, SessionEntry.__table__, rows())
    return count


def weekly_schedules(
    engine: Engine, persons: dict[int, int], zones: dict[int, str] | None = None
) -> None:
    """A weekly session per person at a random weekday and hour, with its next reminder planned
    by the bot's own arithmetic (conversations.worksheet.timeplan.first_due)."""
    now = dt.datetime.now(dt.UTC)
    rng = random.Random(3)
    tz_cache: dict[str, ZoneInfo] = {}

    def rows() -> Iterator[dict[str, Any]]:
        for pid in persons.values():
            weekday, hour = rng.randrange(7), rng.randrange(8, 20)
            at = dt.time(hour, rng.choice((0, 15, 30, 45)))
            name = (zones or {}).get(pid, "UTC")
            tz = tz_cache.setdefault(name, ZoneInfo(name))
            info = ScheduleInfo(0, pid, ScheduleKind.WEEKLY, weekday, at, None, None, None, None)
            occurrence, due = timeplan.first_due(info, tz, 60, now)
            yield {
                "person_id": pid,
                "kind": ScheduleKind.WEEKLY,
                "weekday": weekday,
                "at_time": at,
                "anchor": None,
                "session_date": None,
                "next_occurrence": occurrence,
                "next_due_at": due,
                "created_at": now,
            }

    _insert(engine, Schedule.__table__, rows())


def zones_of(engine: Engine) -> dict[int, str]:
    """Each person's time zone, by person id."""
    with engine.connect() as conn:
        return {int(pid): str(tz) for pid, tz in conn.execute(select(Person.id, Person.timezone))}


def open_places(engine: Engine, person_ids: list[int], share: float) -> int:
    """A share of people left a section half-way (/reflect at question 3): a stored place."""
    now = dt.datetime.now(dt.UTC)
    chosen = person_ids[: int(len(person_ids) * share)]
    _insert(
        engine,
        Place.__table__,
        (
            {
                "person_id": pid,
                "section": "reflect",
                "state": "reflect.ask.q3",
                "data": None,
                "updated_at": now,
            }
            for pid in chosen
        ),
    )
    return len(chosen)


def due_burst(
    engine: Engine, persons: dict[int, int], due_at: dt.datetime, *, delay_min: int = 60
) -> None:
    """One weekly schedule per person whose reminder is due at the same instant `due_at`.

    The session starts `delay_min` minutes earlier (to the minute, in UTC); `next_due_at` is set
    to the shared instant itself, to the second, so the burst does not wait for a minute boundary.
    """
    start = (due_at - dt.timedelta(minutes=delay_min)).replace(second=0, microsecond=0)
    local = start.replace(tzinfo=None)
    now = dt.datetime.now(dt.UTC)
    _insert(
        engine,
        Schedule.__table__,
        (
            {
                "person_id": pid,
                "kind": ScheduleKind.WEEKLY,
                "weekday": local.weekday(),
                "at_time": local.time(),
                "anchor": None,
                "session_date": None,
                "next_occurrence": local,
                "next_due_at": due_at,
                "created_at": now,
            }
            for pid in persons.values()
        ),
    )
