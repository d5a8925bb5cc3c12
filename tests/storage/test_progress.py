"""Progress marks ("learn.done"): kept apart from the encrypted answers, moved there by migration
0003, in the export and gone with the person."""

from __future__ import annotations

import asyncio
import datetime as dt

from alembic import command
from sqlalchemy import func, select, text
from sqlalchemy.engine import Connection

from storage import Cipher, Database, Store
from storage.database import alembic_config
from storage.export import gather
from storage.models import Answer, Person, Progress
from tests.storage.old_rows import WHEN, add_answer, add_person

MARKS = ("learn.done", "tips.done", "checklist.done", "finish.offered")
# Answers that only look a little like marks stay answers.
LOOKALIKES = {"reflect.undone": "not a mark", "notes.Done": "not one either"}


async def _to_revision(database: Database, revision: str, *, down: bool = False) -> None:
    def run(connection: Connection) -> None:
        config = alembic_config(connection)
        if down:
            command.downgrade(config, revision)
        else:
            command.upgrade(config, revision)

    async with database.write_engine.connect() as conn:
        await conn.run_sync(run)
        await conn.commit()


async def _count(database: Database, model: type[Answer] | type[Progress]) -> int:
    async with database.read() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_marks_are_set_once_read_by_prefix_and_taken_back(store: Store) -> None:
    await store.consent(1, "1")
    await store.consent(2, "1")
    assert await store.marks(1) == set()
    async with store.unit(1) as unit:
        await unit.mark("learn.done")
        await unit.mark("learn.done")  # again in the same unit: still one mark
        await unit.mark("tips.done")
    async with store.unit(1) as unit:
        await unit.mark("learn.done")  # and in another one
    assert await store.marks(1) == {"learn.done", "tips.done"}
    assert await store.marks(1, "learn.") == {"learn.done"}
    assert await store.marks(1, "finish.") == set()
    assert await store.marks(2) == set()  # one person's marks are theirs
    async with store.unit(1) as unit:
        await unit.unmark("learn.done")
        await unit.unmark("finish.offered")  # never set: nothing happens
    assert await store.marks(1) == {"tips.done"}
    assert await store.answers(1) == {}  # marks are not answers
    assert await _count(store.db, Progress) == 1


async def test_a_mark_keeps_when_it_was_first_set(store: Store) -> None:
    await store.consent(1, "1")
    async with store.unit(1) as unit:
        await unit.mark("tips.done")
    async with store.db.read() as session:
        first = await session.scalar(select(Progress.set_at))
    async with store.unit(1) as unit:
        await unit.mark("tips.done")
    async with store.db.read() as session:
        assert await session.scalar(select(Progress.set_at)) == first


async def test_racing_marks_of_one_key_make_one_mark(store: Store) -> None:
    await store.consent(1, "1")

    async def mark() -> None:
        async with store.unit(1) as unit:
            await unit.mark("checklist.done")

    await asyncio.gather(*(mark() for _ in range(5)))
    assert await store.marks(1) == {"checklist.done"}
    assert await _count(store.db, Progress) == 1


async def test_a_mark_key_with_like_wildcards_is_read_literally(store: Store) -> None:
    await store.consent(1, "1")
    async with store.unit(1) as unit:
        await unit.mark("a_b.done")
        await unit.mark("axb.done")
    assert await store.marks(1, "a_b") == {"a_b.done"}


async def test_migration_0003_moves_marks_out_of_the_answers(database_url: str, key: bytes) -> None:
    database = Database(database_url)
    cipher = Cipher(key)
    store = Store(database, cipher)
    try:
        await _to_revision(database, "0002")
        one, two = await add_person(database, 1), await add_person(database, 2)
        for n, mark in enumerate(MARKS):
            await add_answer(database, cipher, one, mark, "1", updated_at=WHEN + dt.timedelta(n))
        await add_answer(
            database, cipher, one, "reflect.q1", "Trust is ✨ being heard", message_id=5
        )
        await add_answer(database, cipher, one, "reflect.q2", None)
        await add_answer(database, cipher, one, "finish.trust", "more than before")
        for answer_key, value in LOOKALIKES.items():
            await add_answer(database, cipher, one, answer_key, value)
        await add_answer(database, cipher, two, "learn.done", "1")
        await add_answer(database, cipher, two, "reflect.q1", "theirs")
        before = await store.answers(1)

        await database.migrate()

        assert await database.at_head()
        assert await store.marks(1) == set(MARKS)
        assert await store.marks(2) == {"learn.done"}
        after = await store.answers(1)
        assert set(after) == {"reflect.q1", "reflect.q2", "finish.trust", *LOOKALIKES}
        assert after == {k: v for k, v in before.items() if k not in MARKS}  # untouched
        assert after["reflect.q1"].text == "Trust is ✨ being heard"
        assert after["reflect.q2"].skipped and after["reflect.q2"].text is None
        assert await store.answer_for_message(1, 5) == "reflect.q1"
        assert {k: v.text for k, v in (await store.answers(2)).items()} == {"reflect.q1": "theirs"}
        async with database.read() as session:
            rows = await session.execute(
                select(Person.telegram_id, Progress.key, Progress.set_at).join(
                    Person, Person.id == Progress.person_id
                )
            )
            set_at = {(int(tid), mark): when for tid, mark, when in rows}
        # Each mark is dated by when its answer was last written.
        assert {mark: set_at[(1, mark)] for mark in MARKS} == {
            mark: before[mark].updated_at for mark in MARKS
        }
    finally:
        await database.dispose()


async def test_downgrading_0003_gives_the_marks_back_as_answers_without_a_value(
    database_url: str, key: bytes
) -> None:
    database = Database(database_url)
    store = Store(database, Cipher(key))
    try:
        await database.migrate()
        await store.consent(1, "1")
        async with store.unit(1) as unit:
            await unit.mark("learn.done")
            await unit.save_answer("reflect.q1", "kept")
        await _to_revision(database, "0002", down=True)
        answers = await store.answers(1)
        assert answers["reflect.q1"].text == "kept"
        # The text "1" cannot be encrypted again without the key: the key is there, valueless.
        assert answers["learn.done"].text is None and not answers["learn.done"].skipped
        async with database.read() as session:
            versions = await session.execute(text("SELECT version_num FROM alembic_version"))
            assert list(versions.scalars()) == ["0002"]
        await database.migrate()
        assert await store.marks(1) == {"learn.done"}
        assert set(await store.answers(1)) == {"reflect.q1"}
    finally:
        await database.dispose()


async def test_the_export_lists_the_marks(store: Store) -> None:
    await store.consent(1, "1")
    await store.consent(2, "1")
    async with store.unit(1) as unit:
        await unit.mark("tips.done")
        await unit.mark("learn.done")
        await unit.save_answer("reflect.q1", "mine")
    async with store.unit(2) as unit:
        await unit.mark("finish.offered")
    exported = await gather(store, 1)
    assert exported["progress"] == ["learn.done", "tips.done"]
    assert [a["key"] for a in exported["answers"]] == ["reflect.q1"]
    assert (await gather(store, 2))["progress"] == ["finish.offered"]


async def test_deleting_a_person_deletes_their_marks(store: Store) -> None:
    await store.consent(1, "1")
    await store.consent(2, "1")
    for tid in (1, 2):
        async with store.unit(tid) as unit:
            await unit.mark("learn.done")
    assert await store.delete_person(1)
    assert await store.marks(1) == set()
    assert await store.marks(2) == {"learn.done"}
    assert await _count(store.db, Progress) == 1


async def test_the_database_itself_removes_marks_with_their_person(store: Store) -> None:
    # The foreign key cascades (on SQLite only with PRAGMA foreign_keys, which the bot sets).
    await store.consent(1, "1")
    async with store.unit(1) as unit:
        await unit.mark("learn.done")
    async with store.db.write() as session, session.begin():
        await session.execute(text("DELETE FROM person"))
    assert await _count(store.db, Progress) == 0


async def test_standing_reads_answers_marks_and_the_chart_in_one_statement(store: Store) -> None:
    assert await store.standing(7, "finish.", "finish.offered") is None  # nobody yet
    await store.consent(7, "1")
    await store.consent(8, "1")
    standing = await store.standing(7, "finish.", "finish.offered")
    assert standing is not None
    assert (standing.answered, standing.marked, standing.entries, standing.first_date) == (
        False,
        False,
        0,
        None,
    )
    first, later = dt.date(2026, 9, 1), dt.date(2026, 10, 6)
    async with store.unit(7) as unit:
        await unit.save_answer("finishing.x", "a lookalike key is not under the prefix")
        for day, complete in ((later, True), (first, True), (dt.date(2026, 8, 1), False)):
            uid = await unit.new_session_entry(day)
            row = await unit.update_session_entry(uid, topic="Work", complete=complete)
            assert (row.uid, row.session_date, row.topic, row.complete) == (
                uid,
                day,
                "Work",
                complete,
            )
    async with store.unit(8) as unit:  # someone else's rows and marks do not count
        await unit.mark("finish.offered")
        await unit.save_answer("finish.trust", "theirs")
        await unit.update_session_entry(await unit.new_session_entry(first), complete=True)
    standing = await store.standing(7, "finish.", "finish.offered")
    assert standing is not None
    assert (standing.answered, standing.marked, standing.entries, standing.first_date) == (
        False,
        False,
        2,  # the draft is not counted
        first,
    )
    async with store.unit(7) as unit:
        await unit.save_answer("finish.trust", "Mostly")
        await unit.mark("finish.offered")
    standing = await store.standing(7, "finish.", "finish.offered")
    assert standing is not None and standing.answered and standing.marked


async def test_a_unit_reads_an_answer_in_its_own_transaction(store: Store) -> None:
    await store.consent(5, "1")
    async with store.unit(5) as unit:
        assert await unit.answer_text("checklist.selected") is None
        await unit.save_answer("checklist.selected", "2,5")
        assert await unit.answer_text("checklist.selected") == "2,5"  # before the commit
        await unit.skip_answer("reflect.q1")
        assert await unit.answer_text("reflect.q1") is None
