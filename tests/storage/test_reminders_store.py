"""The reminder ledger and schedules against real databases: claimed once, moved on, removed."""

from __future__ import annotations

import asyncio
import datetime as dt

from storage import Store

UTC = dt.UTC


async def _person_with_schedule(store: Store, tid: int = 50) -> int:
    await store.consent(tid, "1")
    async with store.unit(tid) as unit:
        await unit.set_timezone("Europe/Berlin")
        sid = await unit.add_schedule(kind="weekly", weekday=1, at_time=dt.time(17, 0))
        await unit.set_next(
            sid, dt.datetime(2026, 12, 1, 17, 0), dt.datetime(2026, 12, 1, 17, 0, tzinfo=UTC)
        )
    return sid


async def test_due_schedules_are_read_by_their_due_time(store: Store) -> None:
    sid = await _person_with_schedule(store)
    assert await store.due_schedules(dt.datetime(2026, 12, 1, 16, 59, tzinfo=UTC)) == []
    (due,) = await store.due_schedules(dt.datetime(2026, 12, 1, 17, 0, tzinfo=UTC))
    assert due.schedule.id == sid and due.telegram_id == 50 and due.timezone == "Europe/Berlin"
    assert due.schedule.next_due_at == dt.datetime(2026, 12, 1, 17, 0, tzinfo=UTC)
    assert due.schedule.next_occurrence == dt.datetime(2026, 12, 1, 17, 0)


async def test_paused_and_blocked_people_get_no_reminders(store: Store) -> None:
    await _person_with_schedule(store)
    later = dt.datetime(2027, 1, 1, tzinfo=UTC)
    async with store.unit(50) as unit:
        await unit.set_reminders_paused(True)
    assert await store.due_schedules(later) == []
    async with store.unit(50) as unit:
        await unit.set_reminders_paused(False)
    await store.set_blocked(50, True)
    assert await store.due_schedules(later) == []
    await store.set_blocked(50, False)
    assert len(await store.due_schedules(later)) == 1


async def test_an_occurrence_is_claimed_once_even_by_racing_claims(store: Store) -> None:
    sid = await _person_with_schedule(store)
    occurrence = dt.datetime(2026, 12, 1, 17, 0)
    following = dt.datetime(2026, 12, 8, 17, 0)

    async def claim() -> int | None:
        return await store.claim_reminder(
            sid,
            occurrence,
            due_at=dt.datetime(2026, 12, 1, 17, 0, tzinfo=UTC),
            status="claimed",
            next_occurrence=following,
            next_due_at=dt.datetime(2026, 12, 8, 17, 0, tzinfo=UTC),
        )

    results = await asyncio.gather(*(claim() for _ in range(5)))
    assert sum(r is not None for r in results) == 1
    (info,) = await store.schedules(50)
    assert info.next_occurrence == following
    (unsent,) = await store.unsent_reminders()
    assert unsent.occurrence == occurrence and unsent.telegram_id == 50
    entry = next(r for r in results if r is not None)
    await store.finish_reminder(entry, "sent", message_id=9)
    assert await store.unsent_reminders() == []


async def test_a_one_off_is_gone_once_claimed_and_removal_is_per_person(store: Store) -> None:
    await store.consent(60, "1")
    await store.consent(61, "1")
    async with store.unit(60) as unit:
        sid = await unit.add_schedule(
            kind="once", at_time=dt.time(9, 30), anchor=dt.date(2026, 12, 2)
        )
        await unit.set_next(
            sid, dt.datetime(2026, 12, 2, 9, 30), dt.datetime(2026, 12, 2, 8, 30, tzinfo=UTC)
        )
    async with store.unit(61) as unit:
        assert not await unit.remove_schedule(sid)  # not theirs
    entry = await store.claim_reminder(
        sid,
        dt.datetime(2026, 12, 2, 9, 30),
        due_at=dt.datetime(2026, 12, 2, 8, 30, tzinfo=UTC),
        status="claimed",
        next_occurrence=None,
        next_due_at=None,
    )
    assert entry is not None
    assert await store.schedules(60) == []
    assert await store.delete_person(60)
    assert await store.unsent_reminders() == []


async def test_a_reminder_planned_before_a_pause_or_a_new_time_is_not_claimed(
    store: Store,
) -> None:
    sid = await _person_with_schedule(store)
    occurrence = dt.datetime(2026, 12, 1, 17, 0)
    planned = dt.datetime(2026, 12, 1, 17, 0, tzinfo=UTC)
    claim = {"status": "claimed", "next_occurrence": None, "next_due_at": None}
    async with store.unit(50) as unit:
        await unit.set_reminders_paused(True)
    assert await store.claim_reminder(sid, occurrence, due_at=planned, **claim) is None
    async with store.unit(50) as unit:
        await unit.set_reminders_paused(False)
        await unit.set_next(sid, occurrence, planned + dt.timedelta(minutes=30))
    assert await store.claim_reminder(sid, occurrence, due_at=planned, **claim) is None
    later = planned + dt.timedelta(minutes=30)
    assert await store.claim_reminder(sid, occurrence, due_at=later, **claim) is not None


async def test_a_schedule_planned_again_onto_a_claimed_occurrence_moves_on(store: Store) -> None:
    """A longer delay (or a zone further west) can plan the occurrence whose reminder went out
    again: its claim meets the ledger's unique key, and the schedule must move on to the next
    occurrence rather than be offered again at every tick."""
    sid = await _person_with_schedule(store)
    occurrence = dt.datetime(2026, 12, 1, 17, 0)
    following = dt.datetime(2026, 12, 8, 17, 0)
    first = await store.claim_reminder(
        sid,
        occurrence,
        due_at=dt.datetime(2026, 12, 1, 17, 0, tzinfo=UTC),
        status="claimed",
        next_occurrence=following,
        next_due_at=dt.datetime(2026, 12, 8, 17, 0, tzinfo=UTC),
    )
    assert first is not None
    later_due = dt.datetime(2026, 12, 1, 18, 0, tzinfo=UTC)
    async with store.unit(50) as unit:
        await unit.set_next(sid, occurrence, later_due)  # planned again, an hour later

    again = await store.claim_reminder(
        sid,
        occurrence,
        due_at=later_due,
        status="claimed",
        next_occurrence=following,
        next_due_at=dt.datetime(2026, 12, 8, 18, 0, tzinfo=UTC),
    )

    assert again is None
    (info,) = await store.schedules(50)
    assert (info.next_occurrence, info.next_due_at) == (
        following,
        dt.datetime(2026, 12, 8, 18, 0, tzinfo=UTC),
    )
    assert await store.due_schedules(dt.datetime(2026, 12, 8, 17, 59, tzinfo=UTC)) == []
    next_week = await store.claim_reminder(
        sid,
        following,
        due_at=dt.datetime(2026, 12, 8, 18, 0, tzinfo=UTC),
        status="claimed",
        next_occurrence=dt.datetime(2026, 12, 15, 17, 0),
        next_due_at=dt.datetime(2026, 12, 15, 18, 0, tzinfo=UTC),
    )
    assert next_week is not None
    assert [e.occurrence for e in await store.unsent_reminders()] == [occurrence, following]
