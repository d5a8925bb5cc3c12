"""Reminders wait for a person who agreed to an older privacy notice than the current one."""

from __future__ import annotations

import datetime as dt

from storage import Store

UTC = dt.UTC
OCCURRENCE = dt.datetime(2026, 12, 1, 17, 0)
DUE = dt.datetime(2026, 12, 1, 17, 0, tzinfo=UTC)


async def test_only_people_who_agreed_to_the_current_notice_are_reminded(store: Store) -> None:
    await store.consent(50, "1")
    async with store.unit(50) as unit:
        await unit.set_timezone("Europe/Berlin")
        sid = await unit.add_schedule(kind="weekly", weekday=1, at_time=dt.time(17, 0))
        await unit.set_next(sid, OCCURRENCE, DUE)
    later = DUE + dt.timedelta(minutes=1)
    claim = {"due_at": DUE, "status": "claimed", "next_occurrence": None, "next_due_at": None}

    assert await store.due_schedules(later, consent_version="2") == []
    assert await store.claim_reminder(sid, OCCURRENCE, consent_version="2", **claim) is None
    [info] = await store.schedules(50)
    assert (info.next_occurrence, info.next_due_at) == (OCCURRENCE, DUE)  # nothing moved on

    await store.consent(50, "2")
    [due] = await store.due_schedules(later, consent_version="2")
    assert due.schedule.id == sid
    assert await store.claim_reminder(sid, OCCURRENCE, consent_version="2", **claim) is not None
