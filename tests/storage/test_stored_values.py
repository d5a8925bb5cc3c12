"""What the typed columns put in the database is the text the code used to write by hand, and what
was written that way reads back as the typed values: no migration, old databases read the same."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import StatementError

from storage import Store
from storage.crypto import answer_binding, session_binding
from storage.models import AuditKind, LedgerStatus, ScheduleKind

UTC = dt.UTC


async def _rows(store: Store, sql: str) -> list[tuple[object, ...]]:
    async with store.db.read() as session:
        return [tuple(row) for row in await session.execute(text(sql))]


async def test_schedules_and_the_ledger_store_the_same_text_as_before(store: Store) -> None:
    await store.consent(1, "1")
    async with store.unit(1) as unit:
        sid = await unit.add_schedule(
            kind=ScheduleKind.ONCE, at_time=dt.time(9, 5), anchor=dt.date(2026, 12, 2)
        )
        await unit.set_next(
            sid, dt.datetime(2026, 12, 2, 9, 5), dt.datetime(2026, 12, 2, 8, 5, tzinfo=UTC)
        )
    assert await _rows(store, "SELECT kind, at_time, next_occurrence FROM schedule") == [
        ("once", "09:05", "2026-12-02T09:05:00")
    ]
    entry = await store.claim_reminder(
        sid,
        dt.datetime(2026, 12, 2, 9, 5),
        due_at=dt.datetime(2026, 12, 2, 8, 5, tzinfo=UTC),
        status=LedgerStatus.CLAIMED,
        next_occurrence=None,
        next_due_at=None,
    )
    assert entry is not None
    await store.finish_reminder(entry, LedgerStatus.SENT, message_id=3)
    assert await _rows(store, "SELECT schedule_key, occurrence, status FROM reminder_ledger") == [
        (str(sid), "2026-12-02T09:05:00", "sent")
    ]
    assert await _rows(store, "SELECT kind FROM audit_event ORDER BY id") == [
        ("consented",),
        ("reminder_sent",),
    ]


async def test_rows_written_as_text_read_back_typed(store: Store) -> None:
    person = await store.consent(1, "1")
    async with store.db.write() as session, session.begin():
        await session.execute(
            text(
                "INSERT INTO schedule (person_id, kind, weekday, at_time, next_occurrence,"
                " next_due_at, created_at) VALUES (:p, 'summary', 6, '18:00',"
                " '2026-12-06T18:00:00', :due, :now)"
            ),
            {
                "p": person.id,
                "due": dt.datetime(2026, 12, 6, 17, 0, tzinfo=UTC),
                "now": dt.datetime(2026, 12, 1, tzinfo=UTC),
            },
        )
        await session.execute(
            text(
                "INSERT INTO reminder_ledger (person_id, schedule_key, occurrence, status,"
                " claimed_at) VALUES (:p, 'summary:1', '2026-11-29T18:00:00', 'claimed', :now)"
            ),
            {"p": person.id, "now": dt.datetime(2026, 11, 29, 17, 0, tzinfo=UTC)},
        )
    (info,) = await store.schedules(1)
    assert info.kind is ScheduleKind.SUMMARY
    assert info.at_time == dt.time(18, 0)
    assert info.next_occurrence == dt.datetime(2026, 12, 6, 18, 0)
    (unsent,) = await store.unsent_reminders()
    assert unsent.status is LedgerStatus.CLAIMED
    assert unsent.occurrence == dt.datetime(2026, 11, 29, 18, 0)


async def test_an_occurrence_is_one_ledger_row_however_it_was_written(store: Store) -> None:
    # The unique key compares the stored text: a claim of an occurrence first written by hand
    # (as before the typed columns) is refused, as a second claim always was.
    person = await store.consent(1, "1")
    async with store.unit(1) as unit:
        sid = await unit.add_schedule(kind=ScheduleKind.WEEKLY, weekday=1, at_time=dt.time(17, 0))
        await unit.set_next(
            sid, dt.datetime(2026, 12, 1, 17, 0), dt.datetime(2026, 12, 1, 16, 0, tzinfo=UTC)
        )
    async with store.db.write() as session, session.begin():
        await session.execute(
            text(
                "INSERT INTO reminder_ledger (person_id, schedule_key, occurrence, status,"
                " claimed_at) VALUES (:p, :k, '2026-12-01T17:00:00', 'sent', :now)"
            ),
            {"p": person.id, "k": str(sid), "now": dt.datetime(2026, 12, 1, 16, 0, tzinfo=UTC)},
        )
    claimed = await store.claim_reminder(
        sid,
        dt.datetime(2026, 12, 1, 17, 0),
        due_at=dt.datetime(2026, 12, 1, 16, 0, tzinfo=UTC),
        status=LedgerStatus.CLAIMED,
        next_occurrence=dt.datetime(2026, 12, 8, 17, 0),
        next_due_at=dt.datetime(2026, 12, 8, 16, 0, tzinfo=UTC),
    )
    assert claimed is None
    assert await _rows(store, "SELECT count(*) FROM reminder_ledger") == [(1,)]


async def test_the_enums_are_their_stored_strings(store: Store) -> None:
    assert ScheduleKind.WEEKLY == "weekly" and LedgerStatus.NO_SESSION == "no_session"
    await store.consent(1, "1")
    async with store.unit(1) as unit:
        # A bare string that is one of the values is taken (callers not yet on the enums).
        kind: Any = "biweekly"
        await unit.add_schedule(kind=kind, at_time=dt.time(8, 0), anchor=dt.date(2026, 1, 5))
        await unit.audit("exported")
    (info,) = await store.schedules(1)
    assert info.kind is ScheduleKind.BIWEEKLY
    assert await _rows(store, "SELECT kind FROM audit_event ORDER BY id") == [
        ("consented",),
        (AuditKind.EXPORTED.value,),
    ]


async def test_unknown_kinds_and_statuses_are_refused(store: Store) -> None:
    await store.consent(1, "1")
    with pytest.raises(ValueError):
        async with store.unit(1) as unit:
            await unit.audit("something_else")
    with pytest.raises(StatementError):
        async with store.unit(1) as unit:
            kind: Any = "monthly"
            await unit.add_schedule(kind=kind, at_time=dt.time(8, 0))
    assert await store.schedules(1) == []


@pytest.mark.parametrize(
    "value",
    [dt.time(9, 30, 15), dt.time(9, 30, tzinfo=UTC)],
    ids=["seconds", "aware"],
)
async def test_a_time_the_text_cannot_hold_is_refused(store: Store, value: dt.time) -> None:
    await store.consent(1, "1")
    with pytest.raises(StatementError):
        async with store.unit(1) as unit:
            await unit.add_schedule(kind=ScheduleKind.WEEKLY, weekday=0, at_time=value)
    assert await store.schedules(1) == []


@pytest.mark.parametrize(
    "value",
    [dt.datetime(2026, 12, 1, 17, 0, 0, 500), dt.datetime(2026, 12, 1, 17, 0, tzinfo=UTC)],
    ids=["microseconds", "aware"],
)
async def test_an_occurrence_the_text_cannot_hold_is_refused(
    store: Store, value: dt.datetime
) -> None:
    await store.consent(1, "1")
    with pytest.raises(StatementError):
        async with store.unit(1) as unit:
            sid = await unit.add_schedule(kind=ScheduleKind.WEEKLY, weekday=1, at_time=dt.time(17))
            await unit.set_next(sid, value, None)
    assert await store.schedules(1) == []


def test_the_bindings_are_the_strings_existing_ciphertexts_were_made_with() -> None:
    assert answer_binding("reflect.q6.1") == "answer:reflect.q6.1"
    assert session_binding("3f2a", "topic") == "session:3f2a:topic"
    assert session_binding("3f2a", "role") == "session:3f2a:role"


async def test_values_sealed_with_the_written_out_fields_still_open(store: Store) -> None:
    person = await store.consent(1, "1")
    async with store.unit(1) as unit:
        uid = await unit.new_session_entry(dt.date(2026, 3, 1))
        await unit.update_session_entry(uid, complete=True)
    owner = str(person.id)
    answer = store.cipher.encrypt("written before", owner=owner, field="answer:reflect.q1")
    topic = store.cipher.encrypt("a topic", owner=owner, field=f"session:{uid}:topic")
    role = store.cipher.encrypt("a role", owner=owner, field=f"session:{uid}:role")
    async with store.db.write() as session, session.begin():
        await session.execute(
            text(
                "INSERT INTO answer (person_id, key, value_enc, skipped, updated_at)"
                " VALUES (:p, 'reflect.q1', :v, false, :now)"
            ),
            {"p": person.id, "v": answer, "now": dt.datetime(2026, 3, 1, tzinfo=UTC)},
        )
        await session.execute(
            text("UPDATE session_entry SET topic_enc = :t, role_enc = :r WHERE uid = :u"),
            {"t": topic, "r": role, "u": uid},
        )
    assert (await store.answers(1))["reflect.q1"].text == "written before"
    (row,) = await store.sessions(1)
    assert (row.topic, row.role) == ("a topic", "a role")
