"""Migrations: an empty database reaches the newest schema; one at it is recognised cheaply; a
table copied on SQLite takes nothing with it."""

from __future__ import annotations

from alembic.script import ScriptDirectory
from sqlalchemy import text

from storage import Cipher, Database, Store
from storage.database import alembic_config, head_revision
from storage.repository import PlaceInfo
from tests.storage.old_rows import add_person
from tests.storage.test_progress import _to_revision


def test_the_head_read_from_the_files_is_alembics_head() -> None:
    assert head_revision() == ScriptDirectory.from_config(alembic_config()).get_current_head()


async def test_an_empty_database_is_not_at_head_until_migrated(database_url: str) -> None:
    database = Database(database_url)
    try:
        assert not await database.at_head()
        await database.migrate()
        assert await database.at_head()
        await database.migrate()  # at head: nothing to do, nothing fails
        assert await database.at_head()
    finally:
        await database.dispose()


async def test_copying_the_person_table_keeps_what_refers_to_it(
    database_url: str, key: bytes
) -> None:
    """SQLite can only drop a column by copying its table (Alembic's batch mode): with foreign
    keys on, dropping the old `person` would cascade to every answer and place. Downgrading
    0006 copies it; everything the person had is still there, and upgrading sets the new
    setting's default for them."""
    database = Database(database_url)
    store = Store(database, Cipher(key))
    try:
        await database.migrate()
        await store.consent(1, "1")
        async with store.unit(1) as unit:
            await unit.save_answer("reflect.q1", "still mine")
            await unit.mark("learn.done")
            await unit.set_state("reflect", "reflect.ask.q2", {"message": 7})
            await unit.set_protect_messages(False)
        await _to_revision(database, "0005", down=True)
        assert "protect_messages" not in await person_columns(database)
        await database.migrate()

        assert (await store.answers(1))["reflect.q1"].text == "still mine"
        assert await store.marks(1) == {"learn.done"}
        visit = await store.visit(1, None)
        assert visit.place == PlaceInfo("reflect", "reflect.ask.q2", {"message": 7})
        assert visit.person is not None and visit.person.protect_messages  # the default again
    finally:
        await database.dispose()


async def person_columns(database: Database) -> set[str]:
    async with database.read() as session:
        rows = await session.execute(text("SELECT * FROM person"))
        return set(rows.keys())


async def test_a_deleted_persons_id_is_never_given_again(database_url: str, key: bytes) -> None:
    """Before 0008, SQLite gave the next person the highest id in use plus one: the deleted
    newest person's id. People registered before the migration keep their ids."""
    database = Database(database_url)
    store = Store(database, Cipher(key))
    try:
        await _to_revision(database, "0007")
        first, second = await add_person(database, 1), await add_person(database, 2)
        await database.migrate()
        kept = [await store.get_person(t) for t in (1, 2)]
        assert [p.id for p in kept if p is not None] == [first, second]
        assert await store.delete_person(2)
        third = (await store.consent(3, "1")).id
        assert third > second > first
        assert await store.delete_person(3)
        assert (await store.consent(4, "1")).id > third
    finally:
        await database.dispose()
