"""One place per person: written with each step, read with the visit, moved there by 0004."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from storage import Cipher, Database, Store
from storage.repository import DuplicateUpdate, PlaceInfo
from tests.storage.old_rows import add_person
from tests.storage.test_progress import _to_revision


async def test_a_person_has_one_place_and_the_visit_reads_it_with_the_update(
    store: Store,
) -> None:
    visit = await store.visit(3, 100)
    assert (visit.person, visit.place, visit.handled) == (None, None, False)
    await store.consent(3, "1")
    async with store.unit(3, update_id=100) as unit:
        await unit.set_state("reflect", "reflect.ask.q2", {"message": 7})
    visit = await store.visit(3, 100)
    assert visit.person is not None and visit.person.telegram_id == 3
    assert visit.place == PlaceInfo("reflect", "reflect.ask.q2", {"message": 7})
    assert visit.handled
    assert not (await store.visit(3, 101)).handled

    # Moving on in the section keeps its data unless new data is given; another section's
    # place replaces it (one place per person), and leaving a section one is not in does nothing.
    async with store.unit(3, visit=visit) as unit:
        await unit.set_state("reflect", "reflect.ask.q3")
    assert (await store.visit(3, None)).place == PlaceInfo(
        "reflect", "reflect.ask.q3", {"message": 7}
    )
    async with store.unit(3) as unit:
        await unit.set_state("log", "log.date")
        await unit.set_state("reflect", None)
    assert (await store.visit(3, None)).place == PlaceInfo("log", "log.date", {})
    assert await store.position(3, "reflect") is None
    async with store.unit(3) as unit:
        await unit.set_state("log", None)
    assert (await store.visit(3, None)).place is None


async def test_a_redelivered_update_is_claimed_once(store: Store) -> None:
    await store.consent(4, "1")
    async with store.unit(4, update_id=200) as unit:
        await unit.save_answer("reflect.q1", "first")
    with pytest.raises(DuplicateUpdate):
        async with store.unit(4, update_id=200) as unit:
            await unit.save_answer("reflect.q1", "again")
    assert (await store.answers(4))["reflect.q1"].text == "first"


async def test_migration_0004_keeps_the_latest_place_and_turns_bookmarks_into_marks(
    database_url: str, key: bytes
) -> None:
    database = Database(database_url)
    store = Store(database, Cipher(key))
    try:
        await _to_revision(database, "0003")
        await add_person(database, 1)
        await add_person(database, 2)
        earlier = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
        later = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
        rows = [
            (1, "reflect", "reflect.ask.q4", None, earlier),
            (1, "log", "log.trust", '{"uid": "ab"}', later),
            (1, "learn.place", "page", '{"page": 3, "message": 41}', later),
            (2, "tips.place", "page", '{"item": "2"}', earlier),
        ]
        async with database.write() as session, session.begin():
            ids = dict((await session.execute(text("SELECT telegram_id, id FROM person"))).all())
            for telegram_id, name, state, data, when in rows:
                await session.execute(
                    text(
                        "INSERT INTO conversation_state (person_id, name, state, data, updated_at)"
                        " VALUES (:p, :n, :s, :d, :u)"
                    ),
                    {"p": ids[telegram_id], "n": name, "s": state, "d": data, "u": when},
                )

        await database.migrate()

        assert (await store.visit(1, None)).place == PlaceInfo("log", "log.trust", {"uid": "ab"})
        assert (await store.visit(2, None)).place is None
        assert await store.mark_value(1, "learn.page") == "3:41"
        assert await store.mark_value(2, "tips.page") == "2"
    finally:
        await database.dispose()
