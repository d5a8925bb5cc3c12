"""The repository against real databases: encryption at rest, idempotent updates, deletion."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select, text, update

from storage import Cipher, Database, Store
from storage.crypto import DecryptionError, generate_key
from storage.models import Answer
from storage.repository import DuplicateUpdate, PersonMissing

CANARY = "canary-7f3a-purple-giraffe-whispers"


async def test_migrations_make_an_empty_database_current(database_url: str) -> None:
    database = Database(database_url)
    try:
        await database.migrate()
        await database.migrate()  # a current database stays as it is
        async with database.read() as session:
            version = await session.scalar(text("SELECT version_num FROM alembic_version"))
        assert version is not None
    finally:
        await database.dispose()


async def test_nothing_is_stored_before_consent(store: Store) -> None:
    assert await store.get_person(5) is None
    with pytest.raises(PersonMissing):
        async with store.unit(5):
            pass
    person = await store.consent(5, "1")
    assert person.telegram_id == 5 and person.consent_version == "1"
    assert await store.get_person(5) == person


async def test_answers_round_trip_and_skips(store: Store) -> None:
    await store.consent(7, "1")
    async with store.unit(7) as unit:
        await unit.save_answer("reflect.q1", "Trust is ✨ being heard", message_id=11)
        await unit.skip_answer("reflect.q2")
    answers = await store.answers(7, "reflect.")
    assert answers["reflect.q1"].text == "Trust is ✨ being heard"
    assert answers["reflect.q2"].text is None and answers["reflect.q2"].skipped
    assert await store.answer_for_message(7, 11) == "reflect.q1"
    async with store.unit(7) as unit:
        await unit.skip_answer("reflect.q1")  # skipping never loses an answer
    assert (await store.answers(7, "reflect."))["reflect.q1"].text == "Trust is ✨ being heard"


async def test_one_person_never_sees_another(store: Store) -> None:
    await store.consent(1, "1")
    await store.consent(2, "1")
    async with store.unit(1) as unit:
        await unit.save_answer("reflect.q1", "mine")
    assert await store.answers(2) == {}
    assert (await store.answers(1))["reflect.q1"].text == "mine"


async def test_a_redelivered_update_stores_nothing_twice(store: Store) -> None:
    await store.consent(3, "1")
    async with store.unit(3, update_id=100) as unit:
        uid = await unit.new_session_entry(dt.date(2026, 1, 5))
    with pytest.raises(DuplicateUpdate):
        async with store.unit(3, update_id=100) as unit:
            await unit.new_session_entry(dt.date(2026, 1, 5))
    assert await store.update_processed(100)
    rows = await store.sessions(3, drafts=True)
    assert [r.uid for r in rows] == [uid]


async def test_ciphertext_copied_to_another_row_does_not_decrypt(store: Store) -> None:
    await store.consent(1, "1")
    await store.consent(2, "1")
    async with store.unit(1) as unit:
        await unit.save_answer("reflect.q1", "secret one")
    async with store.unit(2) as unit:
        await unit.save_answer("reflect.q1", "other")
        await unit.save_answer("reflect.q2", "other two")
    async with store.db.write() as session, session.begin():
        first = await session.scalar(
            select(Answer).where(
                Answer.key == "reflect.q1", Answer.person_id == (await store.get_person(1)).id
            )
        )  # type: ignore[union-attr]
        assert first is not None
        person2 = await store.get_person(2)
        assert person2 is not None
        # Same field, other person; and same person, other field.
        await session.execute(
            update(Answer)
            .where(Answer.person_id == person2.id, Answer.key == "reflect.q1")
            .values(value_enc=first.value_enc)
        )
        await session.execute(
            update(Answer)
            .where(Answer.person_id == first.person_id, Answer.key == "reflect.q1")
            .values(key="reflect.q9")
        )
    with pytest.raises(DecryptionError):
        await store.answers(2, "reflect.q1")
    with pytest.raises(DecryptionError):
        await store.answers(1, "reflect.q9")


def _database_files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.name.startswith("bot.sqlite3")}


async def test_canary_appears_nowhere_in_the_sqlite_files(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    database = Database(f"sqlite+aiosqlite:///{path}")
    await database.migrate()
    store = Store(database, Cipher(generate_key()))
    try:
        await store.consent(9, "1")
        async with store.unit(9) as unit:
            await unit.save_answer("reflect.q1", f"I said {CANARY}")
            uid = await unit.new_session_entry(dt.date(2026, 2, 1))
            await unit.update_session_entry(uid, topic=CANARY, role=CANARY, trust=7, safety=6)
        assert CANARY in (await store.answers(9))["reflect.q1"].text  # type: ignore[operator]
        files = await asyncio.to_thread(_database_files, tmp_path)
        assert any(name.endswith("-wal") for name in files)
        for name, content in files.items():
            assert CANARY.encode() not in content, name
    finally:
        await database.dispose()


async def test_concurrent_writers_never_fail_with_database_locked(store: Store) -> None:
    people = list(range(100, 140))
    await asyncio.gather(*(store.consent(p, "1") for p in people))

    async def write(person: int, n: int) -> None:
        async with store.unit(person) as unit:
            await unit.save_answer(f"reflect.q{n}", f"answer {n}")

    await asyncio.gather(*(write(p, n) for p in people for n in range(1, 6)))
    for p in people:
        assert len(await store.answers(p)) == 5


async def test_delete_person_removes_every_row(store: Store) -> None:
    await store.consent(4, "1")
    async with store.unit(4, update_id=7) as unit:
        await unit.save_answer("reflect.q1", "x")
        await unit.set_state("reflect", "reflect.ask.q2", {"n": 1})
        await unit.new_session_entry(dt.date(2026, 3, 1))
    assert await store.position(4, "reflect") is not None
    assert await store.delete_person(4)
    assert await store.get_person(4) is None
    assert await store.position(4, "reflect") is None
    assert await store.answers(4) == {}
    assert await store.sessions(4, drafts=True) == []
    assert not await store.delete_person(4)


async def test_migrations_match_the_models(database_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from storage.models import Base

    database = Database(database_url)
    try:
        await database.migrate()
        async with database.write_engine.connect() as conn:
            diff = await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
            )
        assert diff == []
    finally:
        await database.dispose()


async def test_units_of_one_person_take_turns(store: Store) -> None:
    # SQLite has one writer at a time; on PostgreSQL the person's row is locked for the unit, so
    # a reminder being claimed, a deletion and the person's own writes never interleave.
    await store.consent(1, "1")
    order: list[str] = []
    first_in = asyncio.Event()

    async def first() -> None:
        async with store.unit(1) as unit:
            order.append("first in")
            first_in.set()
            await unit.save_answer("reflect.q1", "one")
            await asyncio.sleep(0.5)  # the second unit asks to start meanwhile
            order.append("first out")

    async def second() -> None:
        await first_in.wait()
        try:
            async with store.unit(1) as unit:
                order.append("second in")
                await unit.save_answer("reflect.q1", "two")
        except PersonMissing:  # the deletion went first: nothing to write to
            order.append("second in")

    async def deletion() -> None:
        await first_in.wait()
        await asyncio.sleep(0.1)
        order.append("delete asked")
        assert await store.delete_person(1)
        order.append("deleted")

    await asyncio.gather(first(), second(), deletion())
    assert order.index("second in") > order.index("first out")
    assert order.index("deleted") > order.index("first out")
    assert await store.answers(1) == {}


async def test_a_deletion_while_a_reader_holds_a_snapshot_scrubs_the_wal_once_it_lets_go(
    tmp_path: Path,
) -> None:
    """The deleted rows' old pages stay in the SQLite WAL until a checkpoint truncates it, and a
    reader of an older snapshot keeps it: the deletion does not wait for the reader (that held
    the only write connection, so every other person's answer, for ~30 s), other writes go on,
    and the WAL is scrubbed in the background once the reader is done."""
    path = tmp_path / "bot.sqlite3"
    database = Database(f"sqlite+aiosqlite:///{path}")
    await database.migrate()
    key = generate_key()
    store = Store(database, Cipher(key))
    try:
        await store.consent(9, "1")
        async with store.unit(9) as unit:
            await unit.save_answer("reflect.q1", "to be deleted")
        sealed = (await asyncio.to_thread(_database_files, tmp_path))["bot.sqlite3-wal"]
        async with database.read() as reader, reader.begin():
            await reader.execute(select(Answer.id))  # a snapshot from before the deletion
            assert await store.delete_person(9)
            await store.consent(10, "1")  # the write connection is free meanwhile
            async with store.unit(10) as unit:
                await unit.save_answer("reflect.q1", "someone else's")
            wal = (await asyncio.to_thread(_database_files, tmp_path))["bot.sqlite3-wal"]
            assert len(wal) > 0  # kept for the reader
        await database.scrubbed()
        files = await asyncio.to_thread(_database_files, tmp_path)
        assert len(files["bot.sqlite3-wal"]) == 0
        assert len(sealed) > 0 and (await store.answers(10))["reflect.q1"].text == "someone else's"
        assert await store.get_person(9) is None
    finally:
        await database.dispose()
