"""Everything stored about one person, decrypted, in the versioned shape of docs/export-format.md.

The shape (version 1):

    {"format": "trust-safety-bot/export", "version": 1, "exported_at": "<ISO 8601, UTC>",
     "person": {...}, "answers": [...], "progress": [...], "sessions": [...], "positions": [...],
     "schedules": [...], "reminders": [...], "events": [...]}

Times are ISO 8601 strings in UTC, dates are "YYYY-MM-DD"; a value never given is null. Adding a
field keeps the version; renaming, removing or changing the meaning of one raises it.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.crypto import answer_binding, session_binding
from storage.models import (
    Answer,
    AuditEvent,
    Person,
    Place,
    Progress,
    ReminderLedger,
    Schedule,
    SessionEntry,
    utcnow,
)
from storage.repository import PersonMissing, Store

FORMAT = "trust-safety-bot/export"
VERSION = 1

Record = dict[str, Any]


def when(value: dt.datetime | None) -> str | None:
    """A stored time as ISO 8601 in UTC (SQLite hands back naive datetimes that were UTC)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat()


def day(value: dt.date | None) -> str | None:
    """A date as YYYY-MM-DD."""
    return None if value is None else value.isoformat()


def wall_clock(value: dt.time | dt.datetime | None) -> str | None:
    """A local wall-clock time as "HH:MM", or a local start as "YYYY-MM-DDTHH:MM:SS" (no zone:
    these are times in the person's own zone, as stored)."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="seconds")
    return value.isoformat(timespec="minutes")


class _Reader:
    """Reads one person's rows in one read transaction, so the export is one consistent view."""

    def __init__(self, store: Store, session: AsyncSession, person: Person) -> None:
        self._store = store
        self._session = session
        self._person = person

    def _open(self, blob: bytes | None, field: str) -> str | None:
        # The same owner and field the repository binds each ciphertext to.
        if blob is None:
            return None
        return self._store.cipher.decrypt(blob, owner=str(self._person.id), field=field)

    def person(self) -> Record:
        """The person's settings and consent."""
        row = self._person
        return {
            "telegram_id": row.telegram_id,
            "created_at": when(row.created_at),
            "consent_version": row.consent_version,
            "consented_at": when(row.consented_at),
            "timezone": row.timezone,
            "reminder_delay_minutes": row.reminder_delay_min,
            "reminders_paused": row.reminders_paused,
            "protect_messages": row.protect_messages,
            "language": row.language,
            "blocked": row.blocked,
        }

    async def answers(self) -> list[Record]:
        """Every answer, by key."""
        rows = await self._session.scalars(
            select(Answer).where(Answer.person_id == self._person.id).order_by(Answer.key)
        )
        return [
            {
                "key": row.key,
                "text": self._open(row.value_enc, answer_binding(row.key)),
                "skipped": row.skipped,
                "updated_at": when(row.updated_at),
            }
            for row in rows
        ]

    async def progress(self) -> list[str]:
        """The keys of the person's progress marks, sorted."""
        keys = await self._session.scalars(
            select(Progress.key).where(Progress.person_id == self._person.id).order_by(Progress.key)
        )
        return list(keys)

    async def sessions(self) -> list[Record]:
        """Every session chart row, drafts included, oldest first."""
        rows = await self._session.scalars(
            select(SessionEntry)
            .where(SessionEntry.person_id == self._person.id)
            .order_by(SessionEntry.session_date, SessionEntry.id)
        )
        return [
            {
                "uid": row.uid,
                "session_date": day(row.session_date),
                "topic": self._open(row.topic_enc, session_binding(row.uid, "topic")),
                "trust": row.trust,
                "safety": row.safety,
                "therapist_role": self._open(row.role_enc, session_binding(row.uid, "role")),
                "complete": row.complete,
                "created_at": when(row.created_at),
                "updated_at": when(row.updated_at),
            }
            for row in rows
        ]

    async def positions(self) -> list[Record]:
        """Where the person is (one section at most, left halfway)."""
        rows = await self._session.scalars(select(Place).where(Place.person_id == self._person.id))
        return [
            {
                "section": row.section,
                "state": row.state,
                "data": json.loads(row.data) if row.data else {},
                "updated_at": when(row.updated_at),
            }
            for row in rows
        ]

    async def schedules(self) -> list[Record]:
        """Therapy session schedules and snoozed reminders."""
        rows = await self._session.scalars(
            select(Schedule).where(Schedule.person_id == self._person.id).order_by(Schedule.id)
        )
        return [
            {
                "id": row.id,
                "kind": row.kind.value,
                "weekday": row.weekday,
                "at_time": wall_clock(row.at_time),
                "anchor": day(row.anchor),
                "session_date": day(row.session_date),
                "next_occurrence": wall_clock(row.next_occurrence),
                "next_due_at": when(row.next_due_at),
                "created_at": when(row.created_at),
            }
            for row in rows
        ]

    async def reminders(self) -> list[Record]:
        """Every reminder claimed for the person, and what became of it."""
        rows = await self._session.scalars(
            select(ReminderLedger)
            .where(ReminderLedger.person_id == self._person.id)
            .order_by(ReminderLedger.id)
        )
        return [
            {
                "schedule_key": row.schedule_key,
                "occurrence": wall_clock(row.occurrence),
                "status": row.status.value,
                "claimed_at": when(row.claimed_at),
                "sent_at": when(row.sent_at),
                "message_id": row.message_id,
            }
            for row in rows
        ]

    async def events(self) -> list[Record]:
        """The audit events of the person (what happened, never what was said)."""
        rows = await self._session.scalars(
            select(AuditEvent)
            .where(AuditEvent.person_id == self._person.id)
            .order_by(AuditEvent.at, AuditEvent.id)
        )
        return [{"kind": row.kind.value, "at": when(row.at)} for row in rows]


async def gather(store: Store, telegram_id: int, *, now: dt.datetime | None = None) -> Record:
    """Everything stored about a person, decrypted (raises PersonMissing if there is nobody)."""
    async with store.db.read() as session:
        person = await session.scalar(select(Person).where(Person.telegram_id == telegram_id))
        if person is None:
            raise PersonMissing(telegram_id)
        reader = _Reader(store, session, person)
        return {
            "format": FORMAT,
            "version": VERSION,
            "exported_at": when(now or utcnow()),
            "person": reader.person(),
            "answers": await reader.answers(),
            "progress": await reader.progress(),
            "sessions": await reader.sessions(),
            "positions": await reader.positions(),
            "schedules": await reader.schedules(),
            "reminders": await reader.reminders(),
            "events": await reader.events(),
        }
