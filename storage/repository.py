"""The repository: small async methods in the words of the domain, plain values in and out."""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Executable, Select, case, delete, func, literal, outerjoin, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.crypto import Cipher, answer_binding, session_binding
from storage.database import Database
from storage.models import (
    Answer,
    AuditEvent,
    AuditKind,
    LedgerStatus,
    Person,
    Place,
    ProcessedUpdate,
    Progress,
    ReminderLedger,
    Schedule,
    ScheduleKind,
    SessionEntry,
    utcnow,
)


class PersonMissing(Exception):
    """The person has not consented (or has deleted their data)."""


class DuplicateUpdate(Exception):
    """This Telegram update was already handled."""


logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PersonInfo:
    """A person's settings, without anything they wrote."""

    id: int
    telegram_id: int
    consent_version: str
    timezone: str | None
    reminder_delay_min: int
    reminders_paused: bool
    blocked: bool
    protect_messages: bool = True
    language: str | None = None


@dataclass(frozen=True, slots=True)
class AnswerValue:
    """One stored answer; `text` is None when skipped."""

    key: str
    text: str | None
    skipped: bool
    updated_at: dt.datetime


@dataclass(frozen=True, slots=True)
class SessionRow:
    """One session chart row, decrypted."""

    uid: str
    session_date: dt.date | None
    topic: str | None
    trust: int | None
    safety: int | None
    role: str | None
    complete: bool


@dataclass(frozen=True, slots=True)
class Standing:
    """How far a person has come, for an offer rule: whether they answered anything under a
    prefix or carry a mark, and their completed chart rows (how many; the first date)."""

    answered: bool
    marked: bool
    entries: int
    first_date: dt.date | None


@dataclass(frozen=True, slots=True)
class ConversationPosition:
    """Where a person is in a section, plus small non-personal data (ids, indexes)."""

    state: str
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class PlaceInfo:
    """Where a person is: one section, its state, and small non-personal data (ids, targets)."""

    section: str
    state: str
    data: dict[str, Any]


@dataclass(slots=True)
class Visit:
    """What handling one update needs first, read in one statement: who (None before consent),
    where they are, and whether this update was handled already (a redelivery). `place` follows
    what the update's own writes change."""

    telegram_id: int
    person: PersonInfo | None
    place: PlaceInfo | None
    handled: bool


@dataclass(frozen=True, slots=True)
class ScheduleInfo:
    """One schedule of therapy sessions (or a snoozed reminder) and its next occurrence."""

    id: int
    person_id: int
    kind: ScheduleKind
    weekday: int | None
    at_time: dt.time
    anchor: dt.date | None
    session_date: dt.date | None
    next_occurrence: dt.datetime | None
    next_due_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class DueSchedule:
    """A schedule whose reminder is due soon, with what sending it needs."""

    schedule: ScheduleInfo
    telegram_id: int
    timezone: str
    delay_min: int
    language: str | None = None


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """A reminder claimed for one occurrence."""

    id: int
    person_id: int
    telegram_id: int
    schedule_key: str
    occurrence: dt.datetime
    status: LedgerStatus


# The kinds a claimed occurrence removes its schedule with (there is no next one).
ONE_OFF_KINDS = frozenset({ScheduleKind.ONCE, ScheduleKind.SNOOZE})


def ledger_key(kind: ScheduleKind, schedule_id: int) -> str:
    """The ledger's name for a schedule: its id, or "summary:<id>" for the weekly summary."""
    summary = ScheduleKind.SUMMARY
    return f"{summary.value}:{schedule_id}" if kind == summary else str(schedule_id)


def is_summary_key(schedule_key: str) -> bool:
    """Whether a ledger entry's schedule key names a weekly summary."""
    return schedule_key.startswith(f"{ScheduleKind.SUMMARY.value}:")


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    # SQLite gives naive datetimes back even for timezone=True columns; they were stored as UTC.
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt.UTC)


def _schedule_info(row: Schedule) -> ScheduleInfo:
    return ScheduleInfo(
        id=row.id,
        person_id=row.person_id,
        kind=row.kind,
        weekday=row.weekday,
        at_time=row.at_time,
        anchor=row.anchor,
        session_date=row.session_date,
        next_occurrence=row.next_occurrence,
        next_due_at=_aware(row.next_due_at),
    )


async def _still_planned(
    session: AsyncSession, schedule_id: int, occurrence: dt.datetime, due_at: dt.datetime
) -> tuple[Schedule, Person | None] | None:
    """The schedule and its person, locked (the person first, as their own units do), if the
    schedule is still planned for this occurrence at this time; None if it changed."""
    row = await session.get(Schedule, schedule_id)
    if row is None:
        return None
    person = await session.get(Person, row.person_id, with_for_update=True)
    row = await session.get(Schedule, schedule_id, with_for_update=True, populate_existing=True)
    if row is None or row.next_occurrence != occurrence or _aware(row.next_due_at) != due_at:
        return None
    return row, person


async def _move_on(
    session: AsyncSession,
    row: Schedule,
    next_occurrence: dt.datetime | None,
    next_due_at: dt.datetime | None,
) -> None:
    """A schedule on to its next occurrence; a one-off with none is done with."""
    if next_occurrence is None and row.kind in ONE_OFF_KINDS:
        await session.delete(row)
    else:
        row.next_occurrence = next_occurrence
        row.next_due_at = next_due_at


def _person_for_update(telegram_id: int) -> Select[Person]:
    """The person's row, locked until the transaction ends (PostgreSQL; SQLite has one writer
    at a time anyway), so one person's writes, reminder claims and deletion take turns."""
    return select(Person).where(Person.telegram_id == telegram_id).with_for_update()


def _insert(dialect: str, model: Any) -> Any:
    """INSERT ... ON CONFLICT, which SQLite and PostgreSQL say alike (SQLAlchemy's own insert
    per dialect), so a write is one statement whether the row is there or not."""
    if dialect == "postgresql":
        return postgresql.insert(model)
    if dialect == "sqlite":
        return sqlite.insert(model)
    raise NotImplementedError(f"upserts need SQLite or PostgreSQL, not {dialect}")


def _insert_mark(dialect: str, person_id: int, key: str, value: str | None) -> Executable:
    """A progress mark, once: marking again keeps when it was first set (and updates a value)."""
    statement = _insert(dialect, Progress).values(
        person_id=person_id, key=key, value=value, set_at=utcnow()
    )
    conflict = [Progress.person_id, Progress.key]
    if value is None:
        return statement.on_conflict_do_nothing(index_elements=conflict)  # type: ignore[no-any-return]
    return statement.on_conflict_do_update(  # type: ignore[no-any-return]
        index_elements=conflict, set_={"value": statement.excluded.value}
    )


def _ledger_entry(row: ReminderLedger, telegram_id: int) -> LedgerEntry:
    return LedgerEntry(
        id=row.id,
        person_id=row.person_id,
        telegram_id=telegram_id,
        schedule_key=row.schedule_key,
        occurrence=row.occurrence,
        status=row.status,
    )


def _person_info(row: Person) -> PersonInfo:
    return PersonInfo(
        id=row.id,
        telegram_id=row.telegram_id,
        consent_version=row.consent_version,
        timezone=row.timezone,
        reminder_delay_min=row.reminder_delay_min,
        reminders_paused=row.reminders_paused,
        blocked=row.blocked,
        protect_messages=row.protect_messages,
        language=row.language,
    )


def _session_row(cipher: Cipher, row: SessionEntry) -> SessionRow:
    """A session chart row as the sections see it, its text fields decrypted."""

    def opened(blob: bytes | None, name: str) -> str | None:
        if blob is None:
            return None
        return cipher.decrypt(blob, owner=str(row.person_id), field=session_binding(row.uid, name))

    return SessionRow(
        uid=row.uid,
        session_date=row.session_date,
        topic=opened(row.topic_enc, "topic"),
        trust=row.trust,
        safety=row.safety,
        role=opened(row.role_enc, "role"),
        complete=row.complete,
    )


class Unit:
    """One unit of work for one person: everything in it commits together, or nothing does."""

    def __init__(
        self,
        session: AsyncSession,
        cipher: Cipher,
        person: PersonInfo,
        place: PlaceInfo | None = None,
    ) -> None:
        self._session = session
        self._cipher = cipher
        self.person = person
        # The person's place as this unit leaves it (read with the visit, kept up to date here).
        self.place = place

    def _seal(self, text: str, field: str) -> bytes:
        return self._cipher.encrypt(text, owner=str(self.person.id), field=field)

    async def _answer_row(self, key: str) -> Answer:
        row = await self._session.scalar(
            select(Answer).where(Answer.person_id == self.person.id, Answer.key == key)
        )
        if row is None:
            row = Answer(person_id=self.person.id, key=key)
            self._session.add(row)
        return row

    @property
    def _dialect(self) -> str:
        return self._session.get_bind().dialect.name

    async def answer_text(self, key: str) -> str | None:
        """One stored answer's text, read in this unit's transaction (None if there is none
        or it was skipped), for a write that depends on it (a toggled selection)."""
        sealed = await self._session.scalar(
            select(Answer.value_enc).where(Answer.person_id == self.person.id, Answer.key == key)
        )
        if sealed is None:
            return None
        return self._cipher.decrypt(sealed, owner=str(self.person.id), field=answer_binding(key))

    async def save_answer(self, key: str, text: str, *, message_id: int | None = None) -> None:
        """Store (or replace) the answer to one prompt: one INSERT ... ON CONFLICT DO UPDATE."""
        values = {
            "value_enc": self._seal(text, answer_binding(key)),
            "skipped": False,
            "source_message_id": message_id,
            "updated_at": utcnow(),
        }
        statement = _insert(self._dialect, Answer).values(
            person_id=self.person.id, key=key, **values
        )
        await self._session.execute(
            statement.on_conflict_do_update(
                index_elements=[Answer.person_id, Answer.key], set_=values
            )
        )

    async def skip_answer(self, key: str) -> None:
        """Mark a prompt as skipped, unless it already has an answer."""
        row = await self._answer_row(key)
        if row.value_enc is None:
            row.skipped = True
            row.updated_at = utcnow()

    async def clear_answer(self, key: str) -> None:
        """Forget the answer to one prompt."""
        await self._session.execute(
            delete(Answer).where(Answer.person_id == self.person.id, Answer.key == key)
        )

    async def clear_answers(self, prefix: str) -> None:
        """Forget every answer whose key starts with a prefix (to start a section over)."""
        await self._session.execute(
            delete(Answer).where(
                Answer.person_id == self.person.id, Answer.key.startswith(prefix, autoescape=True)
            )
        )

    async def set_state(
        self, name: str, state: str | None, data: dict[str, Any] | None = None
    ) -> None:
        """Record where the person is: section `name` in `state` (one place per person: any
        other section's place is left); None leaves the section if the person is in it. Data
        None keeps the data already saved with the place in the same section. One statement."""
        if state is None:
            await self._session.execute(
                delete(Place).where(Place.person_id == self.person.id, Place.section == name)
            )
            self.place = None if self.place and self.place.section == name else self.place
            return
        payload = json.dumps(data) if data else None
        statement = _insert(self._dialect, Place).values(
            person_id=self.person.id, section=name, state=state, data=payload, updated_at=utcnow()
        )
        excluded = statement.excluded
        kept = (
            case((Place.section == excluded.section, Place.data), else_=None)
            if data is None
            else excluded.data
        )
        await self._session.execute(
            statement.on_conflict_do_update(
                index_elements=[Place.person_id],
                set_={
                    "section": excluded.section,
                    "state": excluded.state,
                    "data": kept,
                    "updated_at": excluded.updated_at,
                },
            )
        )
        same = self.place is not None and self.place.section == name
        saved = data if data is not None else (self.place.data if same and self.place else {})
        self.place = PlaceInfo(name, state, dict(saved or {}))

    async def new_session_entry(self, session_date: dt.date | None = None) -> str:
        """Start a session chart row (a draft until completed); returns its id."""
        uid = uuid.uuid4().hex
        self._session.add(
            SessionEntry(uid=uid, person_id=self.person.id, session_date=session_date)
        )
        return uid

    async def _entry(self, uid: str) -> SessionEntry:
        row = await self._session.scalar(
            select(SessionEntry).where(
                SessionEntry.uid == uid, SessionEntry.person_id == self.person.id
            )
        )
        if row is None:
            raise LookupError("no such session entry")
        return row

    async def update_session_entry(
        self, uid: str, *, message_id: int | None = None, **fields: Any
    ) -> SessionRow:
        """Set some fields of a session chart row: session_date, topic, trust, safety, role,
        complete. Text fields may be None to clear them; `message_id` is the message a text
        field was typed in (its edits then update it). Returns the row as it is now; raises
        LookupError if the person has no such row (deleted meanwhile). One UPDATE ... RETURNING."""
        values: dict[str, Any] = {"updated_at": utcnow()}
        for name, value in fields.items():
            if name in ("topic", "role"):
                sealed = None if value is None else self._seal(value, session_binding(uid, name))
                values[f"{name}_enc"] = sealed
                values[f"{name}_message_id"] = message_id
            elif name in ("session_date", "trust", "safety", "complete"):
                values[name] = value
            else:
                raise ValueError(f"unknown session field {name}")
        statement = (
            update(SessionEntry)
            .where(SessionEntry.uid == uid, SessionEntry.person_id == self.person.id)
            .values(**values)
            .returning(SessionEntry)
            .execution_options(populate_existing=True)
        )
        row = (await self._session.execute(statement)).scalar_one_or_none()
        if row is None:
            raise LookupError("no such session entry")
        return _session_row(self._cipher, row)

    async def delete_session_entry(self, uid: str) -> None:
        """Remove one session chart row."""
        await self._session.delete(await self._entry(uid))

    async def audit(self, kind: AuditKind | str) -> None:
        """Record an event, without content (a bare string must be one of AuditKind's values)."""
        self._session.add(AuditEvent(person_id=self.person.id, kind=AuditKind(kind)))

    async def mark(self, key: str, value: str | None = None) -> None:
        """Note that the person got somewhere ("learn.done"); marking again changes nothing but
        the value (a bookmark's page)."""
        await self._session.execute(_insert_mark(self._dialect, self.person.id, key, value))

    async def unmark(self, key: str) -> None:
        """Take a mark back (nothing happens if it was not set)."""
        await self._session.execute(
            delete(Progress).where(Progress.person_id == self.person.id, Progress.key == key)
        )

    async def _person_row(self) -> Person:
        row = await self._session.get(Person, self.person.id)
        assert row is not None
        return row

    async def set_timezone(self, timezone: str) -> None:
        """Set the person's time zone (an IANA name)."""
        (await self._person_row()).timezone = timezone
        self.person = replace(self.person, timezone=timezone)

    async def set_reminder_delay(self, minutes: int) -> None:
        """Set how long after a session's start its reminder comes."""
        (await self._person_row()).reminder_delay_min = minutes
        self.person = replace(self.person, reminder_delay_min=minutes)

    async def set_language(self, language: str | None) -> None:
        """The language the bot speaks with the person (None: their Telegram's)."""
        (await self._person_row()).language = language
        self.person = replace(self.person, language=language)

    async def set_protect_messages(self, protect: bool) -> None:
        """Whether summaries and /review are sent protected (no forwarding or saving)."""
        (await self._person_row()).protect_messages = protect
        self.person = replace(self.person, protect_messages=protect)

    async def set_reminders_paused(self, paused: bool) -> None:
        """Pause or resume all of the person's reminders."""
        (await self._person_row()).reminders_paused = paused
        self.person = replace(self.person, reminders_paused=paused)

    async def add_schedule(
        self,
        *,
        kind: ScheduleKind,
        at_time: dt.time,
        weekday: int | None = None,
        anchor: dt.date | None = None,
        session_date: dt.date | None = None,
    ) -> int:
        """Add a schedule (its next occurrence is set with `set_next`); returns its id."""
        row = Schedule(
            person_id=self.person.id,
            kind=kind,
            weekday=weekday,
            at_time=at_time,
            anchor=anchor,
            session_date=session_date,
        )
        self._session.add(row)
        await self._session.flush()
        return row.id

    async def schedules(self) -> list[ScheduleInfo]:
        """The person's schedules, snoozes included, oldest first."""
        rows = await self._session.scalars(
            select(Schedule).where(Schedule.person_id == self.person.id).order_by(Schedule.id)
        )
        return [_schedule_info(r) for r in rows]

    async def set_next(
        self, schedule_id: int, occurrence: dt.datetime | None, due_at: dt.datetime | None
    ) -> None:
        """Set a schedule's next occurrence (local wall-clock start) and when it is due."""
        row = await self._session.get(Schedule, schedule_id)
        if row is None or row.person_id != self.person.id:
            raise LookupError("no such schedule")
        row.next_occurrence = occurrence
        row.next_due_at = due_at

    async def reschedule(
        self,
        schedule_id: int,
        *,
        weekday: int | None,
        at_time: dt.time,
        anchor: dt.date | None,
    ) -> None:
        """Move one of the person's schedules to another weekday, time or date (a change of
        time zone); its next occurrence is set again with `set_next`."""
        await self._session.execute(
            update(Schedule)
            .where(Schedule.id == schedule_id, Schedule.person_id == self.person.id)
            .values(weekday=weekday, at_time=at_time, anchor=anchor)
        )

    async def reminded_since(self, since: dt.datetime) -> set[tuple[str, dt.datetime]]:
        """(schedule key, occurrence) of the person's reminders claimed for occurrences that
        start at `since` (a naive wall-clock datetime) or later, whatever became of them."""
        rows = await self._session.execute(
            select(ReminderLedger.schedule_key, ReminderLedger.occurrence).where(
                ReminderLedger.person_id == self.person.id, ReminderLedger.occurrence >= since
            )
        )
        return {(str(key), occurrence) for key, occurrence in rows}

    async def remove_schedule(self, schedule_id: int) -> bool:
        """Remove one of the person's schedules; False if it was not theirs."""
        result = await self._session.execute(
            delete(Schedule).where(Schedule.id == schedule_id, Schedule.person_id == self.person.id)
        )
        return bool(getattr(result, "rowcount", 0))

    async def ledger_entry(self, entry_id: int) -> LedgerEntry | None:
        """One of the person's reminders."""
        row = await self._session.get(ReminderLedger, entry_id)
        if row is None or row.person_id != self.person.id:
            return None
        return _ledger_entry(row, self.person.telegram_id)

    async def set_ledger_status(self, entry_id: int, status: LedgerStatus) -> None:
        """Record what became of one of the person's reminders (e.g. no session this time)."""
        row = await self._session.get(ReminderLedger, entry_id)
        if row is not None and row.person_id == self.person.id:
            row.status = status


class Store:
    """Everything the bot keeps, behind methods named for what they mean."""

    def __init__(self, db: Database, cipher: Cipher) -> None:
        self.db = db
        self.cipher = cipher

    def _open(self, person_id: int, blob: bytes | None, field: str) -> str | None:
        if blob is None:
            return None
        return self.cipher.decrypt(blob, owner=str(person_id), field=field)

    # People -------------------------------------------------------------------------------

    async def get_person(self, telegram_id: int) -> PersonInfo | None:
        """The person with this Telegram id, if they have consented."""
        async with self.db.read() as session:
            row = await session.scalar(select(Person).where(Person.telegram_id == telegram_id))
            return None if row is None else _person_info(row)

    async def consent(
        self,
        telegram_id: int,
        version: str,
        *,
        update_id: int | None = None,
        language: str | None = None,
    ) -> PersonInfo:
        """Record consent (creating the person, who is spoken to in `language`); returns them."""
        async with self.db.write() as session, session.begin():
            if update_id is not None:
                await self._claim_update(session, update_id, telegram_id)
            row = await session.scalar(_person_for_update(telegram_id))
            if row is None:
                row = Person(telegram_id=telegram_id, consent_version=version, language=language)
                session.add(row)
                await session.flush()
                session.add(AuditEvent(person_id=row.id, kind=AuditKind.CONSENTED))
            else:
                row.consent_version, row.consented_at = version, utcnow()
                row.blocked = False
            await session.flush()
            return _person_info(row)

    async def set_blocked(self, telegram_id: int, blocked: bool) -> None:
        """Remember that a person blocked (or unblocked) the bot."""
        async with self.db.write() as session, session.begin():
            await session.execute(
                update(Person).where(Person.telegram_id == telegram_id).values(blocked=blocked)
            )

    # Updates ------------------------------------------------------------------------------

    @staticmethod
    async def _claim_update(session: AsyncSession, update_id: int, telegram_id: int) -> None:
        # The claim is the insert itself: nothing inserted means it was handled already.
        dialect = session.get_bind().dialect.name
        statement = (
            _insert(dialect, ProcessedUpdate)
            .values(update_id=update_id, telegram_id=telegram_id, processed_at=utcnow())
            .on_conflict_do_nothing(index_elements=[ProcessedUpdate.update_id])
        )
        result = await session.execute(statement)
        if getattr(result, "rowcount", 1) == 0:
            raise DuplicateUpdate(update_id)

    async def update_processed(self, update_id: int) -> bool:
        """Whether an update's writes were already committed."""
        async with self.db.read() as session:
            return await session.get(ProcessedUpdate, update_id) is not None

    async def prune_processed_updates(self, older_than: dt.timedelta) -> int:
        """Forget old update ids (Telegram keeps undelivered updates for 24 hours)."""
        async with self.db.write() as session, session.begin():
            result = await session.execute(
                delete(ProcessedUpdate).where(ProcessedUpdate.processed_at < utcnow() - older_than)
            )
            return int(getattr(result, "rowcount", 0) or 0)

    # Units of work ------------------------------------------------------------------------

    @asynccontextmanager
    async def unit(
        self, telegram_id: int, *, update_id: int | None = None, visit: Visit | None = None
    ) -> AsyncIterator[Unit]:
        """A transaction for one person; with an update id, it also marks the update handled
        (raising DuplicateUpdate if it already was).

        Given the update's visit (the person read at its start), the person's row is not read
        again: a person's updates are handled one at a time, so the visit is still true, and the
        write is the claim plus the writes themselves. Without one, the row is read and locked
        (PostgreSQL), so one person's writes, reminder claims and deletion take turns.
        """
        async with self.db.write() as session, session.begin():
            if visit is not None and visit.person is not None:
                person, place = visit.person, visit.place
            else:
                row = await session.scalar(_person_for_update(telegram_id))
                if row is None:
                    raise PersonMissing(telegram_id)
                person, place = _person_info(row), None
            if update_id is not None:
                await self._claim_update(session, update_id, telegram_id)
            yield Unit(session, self.cipher, person, place)

    async def visit(self, telegram_id: int, update_id: int | None) -> Visit:
        """The person, their place and whether the update was handled: one SELECT (a one-row
        query joined outward to the person and their place, the handled update as a subquery)."""
        handled = (
            select(ProcessedUpdate.update_id)
            .where(ProcessedUpdate.update_id == (update_id if update_id is not None else -1))
            .exists()
        )
        anchor = select(literal(telegram_id).label("telegram_id")).subquery()
        joined = outerjoin(anchor, Person, Person.telegram_id == anchor.c.telegram_id).outerjoin(
            Place, Place.person_id == Person.id
        )
        statement = select(
            Person.id,
            Person.consent_version,
            Person.timezone,
            Person.reminder_delay_min,
            Person.reminders_paused,
            Person.blocked,
            Person.protect_messages,
            Person.language,
            Place.section,
            Place.state,
            Place.data,
            handled.label("handled"),
        ).select_from(joined)
        async with self.db.read() as session:
            row = (await session.execute(statement)).one()
        person = (
            None
            if row.id is None
            else PersonInfo(
                id=row.id,
                telegram_id=telegram_id,
                consent_version=row.consent_version,
                timezone=row.timezone,
                reminder_delay_min=row.reminder_delay_min,
                reminders_paused=row.reminders_paused,
                blocked=row.blocked,
                protect_messages=row.protect_messages,
                language=row.language,
            )
        )
        place = (
            None
            if row.section is None
            else PlaceInfo(row.section, row.state, json.loads(row.data) if row.data else {})
        )
        return Visit(telegram_id, person, place, bool(row.handled))

    async def mark_value(self, telegram_id: int, key: str) -> str | None:
        """The value of one progress mark (a bookmark's page), if the person has it."""
        async with self.db.read() as session:
            return await session.scalar(
                select(Progress.value)
                .join(Person, Person.id == Progress.person_id)
                .where(Person.telegram_id == telegram_id, Progress.key == key)
            )

    # Reads --------------------------------------------------------------------------------

    async def answers(self, telegram_id: int, prefix: str = "") -> dict[str, AnswerValue]:
        """A person's answers whose keys start with a prefix, by key."""
        async with self.db.read() as session:
            rows = await session.execute(
                select(Answer)
                .join(Person, Person.id == Answer.person_id)
                .where(
                    Person.telegram_id == telegram_id,
                    Answer.key.startswith(prefix, autoescape=True),
                )
            )
            return {
                a.key: AnswerValue(
                    key=a.key,
                    text=self._open(a.person_id, a.value_enc, answer_binding(a.key)),
                    skipped=a.skipped,
                    updated_at=a.updated_at,
                )
                for a in rows.scalars()
            }

    async def marks(self, telegram_id: int, prefix: str = "") -> set[str]:
        """The keys of a person's progress marks that start with a prefix."""
        async with self.db.read() as session:
            keys = await session.scalars(
                select(Progress.key)
                .join(Person, Person.id == Progress.person_id)
                .where(
                    Person.telegram_id == telegram_id,
                    Progress.key.startswith(prefix, autoescape=True),
                )
            )
            return set(keys)

    async def entry_field_for_message(
        self, telegram_id: int, message_id: int
    ) -> tuple[str, str] | None:
        """The chart entry (its uid) and field ("topic", "role") typed in one message, if any."""
        async with self.db.read() as session:
            row = (
                await session.execute(
                    select(
                        SessionEntry.uid,
                        SessionEntry.topic_message_id == message_id,
                    )
                    .join(Person, Person.id == SessionEntry.person_id)
                    .where(
                        Person.telegram_id == telegram_id,
                        (SessionEntry.topic_message_id == message_id)
                        | (SessionEntry.role_message_id == message_id),
                    )
                    .limit(1)
                )
            ).first()
        if row is None:
            return None
        return str(row[0]), "topic" if row[1] else "role"

    async def answer_for_message(self, telegram_id: int, message_id: int) -> str | None:
        """The key of the answer given by one Telegram message, if any."""
        async with self.db.read() as session:
            return await session.scalar(
                select(Answer.key)
                .join(Person, Person.id == Answer.person_id)
                .where(Person.telegram_id == telegram_id, Answer.source_message_id == message_id)
            )

    def _session_row(self, row: SessionEntry) -> SessionRow:
        return _session_row(self.cipher, row)

    async def sessions(self, telegram_id: int, *, drafts: bool = False) -> list[SessionRow]:
        """A person's session chart, oldest first."""
        async with self.db.read() as session:
            query = (
                select(SessionEntry)
                .join(Person, Person.id == SessionEntry.person_id)
                .where(Person.telegram_id == telegram_id)
                .order_by(SessionEntry.session_date, SessionEntry.id)
            )
            if not drafts:
                query = query.where(SessionEntry.complete.is_(True))
            rows = await session.scalars(query)
            return [self._session_row(r) for r in rows]

    async def session_entry(self, telegram_id: int, uid: str) -> SessionRow | None:
        """One session chart row of a person (None if it is not theirs)."""
        async with self.db.read() as session:
            row = await session.scalar(
                select(SessionEntry)
                .join(Person, Person.id == SessionEntry.person_id)
                .where(Person.telegram_id == telegram_id, SessionEntry.uid == uid)
            )
            return None if row is None else self._session_row(row)

    async def standing(self, telegram_id: int, prefix: str, mark: str) -> Standing | None:
        """Answers under `prefix`, the mark `mark` and the completed chart, in one statement
        (None if the person does not exist)."""
        complete = (SessionEntry.person_id == Person.id) & SessionEntry.complete.is_(True)
        query = select(
            select(Answer.id)
            .where(Answer.person_id == Person.id, Answer.key.startswith(prefix, autoescape=True))
            .exists(),
            select(Progress.key)
            .where(Progress.person_id == Person.id, Progress.key == mark)
            .exists(),
            select(func.count()).select_from(SessionEntry).where(complete).scalar_subquery(),
            select(func.min(SessionEntry.session_date)).where(complete).scalar_subquery(),
        ).where(Person.telegram_id == telegram_id)
        async with self.db.read() as session:
            row = (await session.execute(query)).first()
        if row is None:
            return None
        first = row[3]
        if isinstance(first, str):  # SQLite returns min() of a date column as text
            first = dt.date.fromisoformat(first)
        return Standing(bool(row[0]), bool(row[1]), int(row[2] or 0), first)

    async def count_sessions(self, telegram_id: int) -> int:
        """How many completed session chart rows a person has."""
        async with self.db.read() as session:
            value = await session.scalar(
                select(func.count())
                .select_from(SessionEntry)
                .join(Person, Person.id == SessionEntry.person_id)
                .where(Person.telegram_id == telegram_id, SessionEntry.complete.is_(True))
            )
            return int(value or 0)

    async def position(self, telegram_id: int, name: str) -> ConversationPosition | None:
        """Where a person is in one section, if that is where they are."""
        async with self.db.read() as session:
            row = await session.scalar(
                select(Place)
                .join(Person, Person.id == Place.person_id)
                .where(Person.telegram_id == telegram_id, Place.section == name)
            )
            if row is None:
                return None
            return ConversationPosition(row.state, json.loads(row.data) if row.data else {})

    # Reminders ----------------------------------------------------------------------------

    async def schedules(self, telegram_id: int) -> list[ScheduleInfo]:
        """A person's schedules (snoozes included), oldest first."""
        async with self.db.read() as session:
            rows = await session.scalars(
                select(Schedule)
                .join(Person, Person.id == Schedule.person_id)
                .where(Person.telegram_id == telegram_id)
                .order_by(Schedule.id)
            )
            return [_schedule_info(r) for r in rows]

    async def due_schedules(
        self, before: dt.datetime, limit: int = 5000, *, consent_version: str | None = None
    ) -> list[DueSchedule]:
        """Schedules whose reminder is due before a time, of people who want reminders (and,
        given the notice's current version, who agreed to that one: the others are asked
        again first)."""
        agreed = () if consent_version is None else (Person.consent_version == consent_version,)
        async with self.db.read() as session:
            rows = await session.execute(
                select(
                    Schedule,
                    Person.telegram_id,
                    Person.timezone,
                    Person.reminder_delay_min,
                    Person.language,
                )
                .join(Person, Person.id == Schedule.person_id)
                .where(
                    Schedule.next_due_at.is_not(None),
                    Schedule.next_due_at <= before,
                    Person.reminders_paused.is_(False),
                    Person.blocked.is_(False),
                    Person.timezone.is_not(None),
                    *agreed,
                )
                .order_by(Schedule.next_due_at)
                .limit(limit)
            )
            return [
                DueSchedule(_schedule_info(row), int(tid), str(tz), int(delay), language)
                for row, tid, tz, delay, language in rows
            ]

    async def claim_reminder(
        self,
        schedule_id: int,
        occurrence: dt.datetime,
        *,
        due_at: dt.datetime,
        status: LedgerStatus,
        next_occurrence: dt.datetime | None,
        next_due_at: dt.datetime | None,
        consent_version: str | None = None,
    ) -> int | None:
        """Claim one occurrence's reminder and move its schedule on, in one transaction.

        Returns the ledger id, or None if this occurrence was claimed before, or the schedule
        or the person's settings changed (removed, re-timed, paused, blocked) since the
        reminder was planned for `due_at`, or (given the notice's current version) the person
        has not agreed to that version.
        """
        try:
            async with self.db.write() as session, session.begin():
                planned = await _still_planned(session, schedule_id, occurrence, due_at)
                if planned is None:
                    return None
                row, person = planned
                if person is None or person.reminders_paused or person.blocked:
                    return None
                if consent_version is not None and person.consent_version != consent_version:
                    return None
                entry = ReminderLedger(
                    person_id=row.person_id,
                    schedule_key=ledger_key(row.kind, schedule_id),
                    occurrence=occurrence,
                    status=status,
                )
                session.add(entry)
                await _move_on(session, row, next_occurrence, next_due_at)
                await session.flush()
                return entry.id
        except IntegrityError:
            # This occurrence's reminder was claimed before (re-planned onto an occurrence the
            # ledger already holds): the schedule moves on, or it would be offered forever.
            moved = await self._move_past(
                schedule_id, occurrence, due_at, next_occurrence, next_due_at
            )
            if moved:
                logger.warning(
                    "A reminder was planned again for an occurrence already claimed; "
                    "schedule %s moved on to the next one",
                    schedule_id,
                )
            return None

    async def _move_past(
        self,
        schedule_id: int,
        occurrence: dt.datetime,
        due_at: dt.datetime,
        next_occurrence: dt.datetime | None,
        next_due_at: dt.datetime | None,
    ) -> bool:
        """Move a schedule still planned for an already claimed occurrence on to the next."""
        async with self.db.write() as session, session.begin():
            planned = await _still_planned(session, schedule_id, occurrence, due_at)
            if planned is None:
                return False  # changed meanwhile: the new plan stands
            await _move_on(session, planned[0], next_occurrence, next_due_at)
            return True

    async def finish_reminder(
        self, entry_id: int, status: LedgerStatus, *, message_id: int | None = None
    ) -> None:
        """Record how sending a claimed reminder ended."""
        async with self.db.write() as session, session.begin():
            row = await session.get(ReminderLedger, entry_id)
            if row is not None:
                row.status = status
                row.message_id = message_id
                if status == LedgerStatus.SENT:
                    row.sent_at = utcnow()
                    session.add(AuditEvent(person_id=row.person_id, kind=AuditKind.REMINDER_SENT))
                elif status == LedgerStatus.BLOCKED:
                    session.add(AuditEvent(person_id=row.person_id, kind=AuditKind.BLOCKED))

    async def unsent_reminders(self) -> list[LedgerEntry]:
        """Reminders claimed but never sent (the process died while sending them)."""
        async with self.db.read() as session:
            rows = await session.execute(
                select(ReminderLedger, Person.telegram_id)
                .join(Person, Person.id == ReminderLedger.person_id)
                .where(ReminderLedger.status == LedgerStatus.CLAIMED)
                .order_by(ReminderLedger.id)
            )
            return [_ledger_entry(row, int(tid)) for row, tid in rows]

    # Deletion -----------------------------------------------------------------------------

    async def delete_person(self, telegram_id: int) -> bool:
        """Remove every row of a person in one transaction; True if there was anything."""
        async with self.db.write() as session, session.begin():
            row = await session.scalar(_person_for_update(telegram_id))
            if row is None:
                return False
            person_id = row.id
            for model in (
                Answer,
                Progress,
                SessionEntry,
                Place,
                ReminderLedger,
                Schedule,
            ):
                await session.execute(delete(model).where(model.person_id == person_id))
            await session.execute(
                delete(ProcessedUpdate).where(ProcessedUpdate.telegram_id == telegram_id)
            )
            # Their events go too: what is left is that a deletion happened, of nobody.
            await session.execute(delete(AuditEvent).where(AuditEvent.person_id == person_id))
            await session.delete(row)
            session.add(AuditEvent(person_id=None, kind=AuditKind.DELETED))
        await self.db.scrub()
        return True
