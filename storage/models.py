"""Typed SQLAlchemy models. Free text is stored only as ciphertext (`*_enc` columns)."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.ext.asyncio import AsyncAttrs
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from storage.types import WallClockDateTime, WallClockTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    """Now, as an aware UTC datetime."""
    return dt.datetime.now(dt.UTC)


class ScheduleKind(enum.StrEnum):
    """What a schedule row is: therapy sessions, a snoozed reminder, or the weekly summary."""

    WEEKLY = "weekly"
    BIWEEKLY = "biweekly"
    ONCE = "once"
    SNOOZE = "snooze"
    SUMMARY = "summary"


class LedgerStatus(enum.StrEnum):
    """What became of one claimed reminder (or weekly summary)."""

    CLAIMED = "claimed"  # being sent (or the process died while sending it)
    SENT = "sent"
    SKIPPED = "skipped"  # too late to send, or the person paused, blocked or left
    BLOCKED = "blocked"  # the person had blocked the bot
    FAILED = "failed"  # Telegram refused it
    EMPTY = "empty"  # a weekly summary of a week with nothing in it, not sent
    SNOOZED = "snoozed"  # "remind me in an hour"
    NO_SESSION = "no_session"  # "no session this time"


class AuditKind(enum.StrEnum):
    """What an audit event records (what happened, never what was said)."""

    CONSENTED = "consented"
    EXPORTED = "exported"
    REMINDER_SENT = "reminder_sent"
    BLOCKED = "blocked"
    DELETED = "deleted"


def _stored_as_text(kind: type[enum.StrEnum], length: int) -> Enum:
    """An enum column stored as its values in a plain VARCHAR of `length` (no native enum, no
    CHECK constraint: the schema is what it was with bare strings); unknown values are refused
    before they reach the database."""
    return Enum(
        kind,
        native_enum=False,
        create_constraint=False,
        length=length,
        validate_strings=True,
        values_callable=lambda members: [m.value for m in members],
    )


class Base(AsyncAttrs, DeclarativeBase):
    """Base of every model."""

    metadata = MetaData(naming_convention=NAMING)


class Person(Base):
    """Someone who talks to the bot; created when they give consent."""

    __tablename__ = "person"
    # On SQLite an id is never given again once its person is deleted (PostgreSQL's sequences
    # never go back anyway).
    __table_args__ = {"sqlite_autoincrement": True}  # noqa: RUF012 (SQLAlchemy reads it)

    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    consent_version: Mapped[str] = mapped_column(String(16))
    consented_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    timezone: Mapped[str | None] = mapped_column(String(64), default=None)
    reminder_delay_min: Mapped[int] = mapped_column(SmallInteger, default=60)
    reminders_paused: Mapped[bool] = mapped_column(Boolean, default=False)
    blocked: Mapped[bool] = mapped_column(Boolean, default=False)
    # Summaries and /review go out with protect_content (no forwarding or saving) unless the
    # person turns this off in /settings; their export documents are always forwardable.
    protect_messages: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    # The language the bot speaks with them ("de", "pt_BR"): Telegram's when they agreed, or
    # what they chose in /settings; None: whatever their Telegram is set to.
    language: Mapped[str | None] = mapped_column(String(16), default=None)


class Answer(Base):
    """One answer to one worksheet prompt; `value_enc` is NULL when the prompt was skipped."""

    __tablename__ = "answer"
    __table_args__ = (UniqueConstraint("person_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64))
    value_enc: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    skipped: Mapped[bool] = mapped_column(Boolean, default=False)
    source_message_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SessionEntry(Base):
    """One row of the worksheet's session chart."""

    __tablename__ = "session_entry"
    __table_args__ = (Index("ix_session_entry_person_date", "person_id", "session_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(32), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    session_date: Mapped[dt.date | None] = mapped_column(Date, default=None)
    topic_enc: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    trust: Mapped[int | None] = mapped_column(SmallInteger, default=None)
    safety: Mapped[int | None] = mapped_column(SmallInteger, default=None)
    role_enc: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    # The Telegram messages the topic and the therapist role were typed in (an edit of one
    # updates the entry).
    topic_message_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    role_message_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    complete: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Place(Base):
    """Where a person is: one section and its state (one row per person, or none), written with
    the answer that moved it; `data` holds small non-personal data (message ids, targets)."""

    __tablename__ = "place"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("person.id", ondelete="CASCADE"), primary_key=True
    )
    section: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(64))
    data: Mapped[str | None] = mapped_column(Text, default=None)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ProcessedUpdate(Base):
    """Telegram updates already handled, so a redelivered update stores nothing twice."""

    __tablename__ = "processed_update"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    telegram_id: Mapped[int | None] = mapped_column(BigInteger, default=None, index=True)
    processed_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )


class AuditEvent(Base):
    """What happened, never what was said: consent, export, deletion, reminders."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    person_id: Mapped[int | None] = mapped_column(Integer, default=None)
    kind: Mapped[AuditKind] = mapped_column(_stored_as_text(AuditKind, 32))


class Schedule(Base):
    """A person's therapy sessions: weekly, every two weeks, once, or a snoozed reminder.

    `next_due_at` is when the reminder for `next_occurrence` (a local wall-clock start, which is
    the occurrence's identity) is due; the scheduler reads only rows due soon, by this index.
    """

    __tablename__ = "schedule"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    kind: Mapped[ScheduleKind] = mapped_column(_stored_as_text(ScheduleKind, 16))
    weekday: Mapped[int | None] = mapped_column(SmallInteger, default=None)
    at_time: Mapped[dt.time] = mapped_column(WallClockTime)
    anchor: Mapped[dt.date | None] = mapped_column(Date, default=None)
    session_date: Mapped[dt.date | None] = mapped_column(Date, default=None)
    next_occurrence: Mapped[dt.datetime | None] = mapped_column(WallClockDateTime, default=None)
    next_due_at: Mapped[dt.datetime | None] = mapped_column(
        DateTime(timezone=True), default=None, index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ReminderLedger(Base):
    """One row per reminder occurrence, claimed in a transaction before sending: never twice."""

    __tablename__ = "reminder_ledger"
    __table_args__ = (UniqueConstraint("person_id", "schedule_key", "occurrence"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    schedule_key: Mapped[str] = mapped_column(String(32))
    occurrence: Mapped[dt.datetime] = mapped_column(WallClockDateTime)
    status: Mapped[LedgerStatus] = mapped_column(_stored_as_text(LedgerStatus, 16), index=True)
    claimed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    message_id: Mapped[int | None] = mapped_column(BigInteger, default=None)


class Progress(Base):
    """A mark that a person got somewhere ("learn.done", "finish.offered"): a key and when, never
    free text, so nothing here is encrypted."""

    __tablename__ = "progress"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("person.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    # A short value some marks carry: the item id of the page a person left off at.
    value: Mapped[str | None] = mapped_column(String(32), default=None)
    set_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class InboxUpdate(Base):
    """A Telegram update taken from Telegram and not handled yet: kept until it has been, so
    one confirmed to Telegram is never lost. The update's JSON is encrypted (it holds what the
    person wrote), bound to its chat and update id."""

    __tablename__ = "inbox"
    __table_args__ = (Index("ix_inbox_chat_update", "chat_id", "update_id"),)

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    update_enc: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
