"""Schedules moved by a change of time zone, and replanned without offering a reminder twice."""

from __future__ import annotations

import datetime as dt

from conversations.worksheet import timeplan
from storage import Store

UTC = dt.UTC


async def test_a_reminder_already_sent_is_not_planned_again_after_a_move_west(
    store: Store,
) -> None:
    await store.consent(60, "1")
    async with store.unit(60) as unit:
        await unit.set_timezone("Europe/Berlin")
        sid = await unit.add_schedule(kind="weekly", weekday=1, at_time=dt.time(17, 0))
        await timeplan.replan(unit, dt.datetime(2026, 12, 1, 12, 0, tzinfo=UTC))
    [info] = await store.schedules(60)
    assert info.next_occurrence == dt.datetime(2026, 12, 1, 17, 0)
    # Tuesday's reminder goes out at 17:00 Berlin (an hour after the start: 16:00 UTC + 60).
    assert info.next_due_at is not None
    entry = await store.claim_reminder(
        sid,
        dt.datetime(2026, 12, 1, 17, 0),
        due_at=info.next_due_at,
        status="sent",
        next_occurrence=dt.datetime(2026, 12, 8, 17, 0),
        next_due_at=dt.datetime(2026, 12, 8, 17, 0, tzinfo=UTC),
    )
    assert entry is not None

    # At 11:00 in New York the same Tuesday the person moves there, keeping 17:00: today's
    # 17:00 there is still to come, but its reminder went out already, so next week's is next.
    async with store.unit(60) as unit:
        await unit.set_timezone("America/New_York")
        await timeplan.replan(unit, dt.datetime(2026, 12, 1, 16, 0, tzinfo=UTC))
    [info] = await store.schedules(60)
    assert info.next_occurrence == dt.datetime(2026, 12, 8, 17, 0)
    assert info.next_due_at == dt.datetime(2026, 12, 8, 23, 0, tzinfo=UTC)

    # Another person's reminders don't count.
    await store.consent(61, "1")
    async with store.unit(61) as unit:
        await unit.set_timezone("America/New_York")
        other = await unit.add_schedule(kind="weekly", weekday=1, at_time=dt.time(17, 0))
        await timeplan.replan(unit, dt.datetime(2026, 12, 1, 16, 0, tzinfo=UTC))
    [mine] = await store.schedules(61)
    assert mine.id == other and mine.next_occurrence == dt.datetime(2026, 12, 1, 17, 0)


async def test_reminded_occurrences_are_read_from_a_day_on(store: Store) -> None:
    await store.consent(62, "1")
    async with store.unit(62) as unit:
        await unit.set_timezone("Europe/Berlin")
        sid = await unit.add_schedule(kind="weekly", weekday=1, at_time=dt.time(17, 0))
        await unit.set_next(
            sid, dt.datetime(2026, 12, 1, 17, 0), dt.datetime(2026, 12, 1, 17, 0, tzinfo=UTC)
        )
    await store.claim_reminder(
        sid,
        dt.datetime(2026, 12, 1, 17, 0),
        due_at=dt.datetime(2026, 12, 1, 17, 0, tzinfo=UTC),
        status="sent",
        next_occurrence=None,
        next_due_at=None,
    )
    async with store.unit(62) as unit:
        assert await unit.reminded_since(dt.datetime(2026, 12, 1, 17, 0)) == {
            (str(sid), dt.datetime(2026, 12, 1, 17, 0))
        }
        assert await unit.reminded_since(dt.datetime(2026, 12, 1, 17, 1)) == set()


async def test_a_schedule_moves_to_another_day_time_and_date(store: Store) -> None:
    await store.consent(63, "1")
    async with store.unit(63) as unit:
        weekly = await unit.add_schedule(kind="weekly", weekday=3, at_time=dt.time(18, 30))
        once = await unit.add_schedule(
            kind="once", weekday=3, at_time=dt.time(18, 30), anchor=dt.date(2026, 12, 3)
        )
        await unit.reschedule(weekly, weekday=4, at_time=dt.time(0, 30), anchor=None)
        await unit.reschedule(once, weekday=4, at_time=dt.time(0, 30), anchor=dt.date(2026, 12, 4))
    # Someone else's schedule is out of reach.
    await store.consent(64, "1")
    async with store.unit(64) as unit:
        await unit.reschedule(weekly, weekday=0, at_time=dt.time(9, 0), anchor=None)
    shapes = [(i.id, i.weekday, i.at_time, i.anchor) for i in await store.schedules(63)]
    assert shapes == [
        (weekly, 4, dt.time(0, 30), None),
        (once, 4, dt.time(0, 30), dt.date(2026, 12, 4)),
    ]
