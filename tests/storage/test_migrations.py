"""Migrations: an empty database reaches the newest schema; one at it is recognised cheaply."""

from __future__ import annotations

from alembic.script import ScriptDirectory

from storage import Database
from storage.database import alembic_config, head_revision


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
