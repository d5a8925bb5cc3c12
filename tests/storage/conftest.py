"""Stores on a real SQLite file and, where TEST_POSTGRES_URL is set, on real PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage import Cipher, Database, Store
from storage.crypto import generate_key
from tests.databases import drop_postgres_database, fresh_postgres_database

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_POSTGRES_URL") else [])


@pytest.fixture(params=BACKENDS)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A URL of an empty database of each backend."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}"
        return
    url, name = await fresh_postgres_database()
    try:
        yield url
    finally:
        await drop_postgres_database(name)


@pytest.fixture
def key() -> bytes:
    """A fresh encryption key."""
    return generate_key()


@pytest.fixture
async def store(database_url: str, key: bytes) -> AsyncIterator[Store]:
    """A migrated store."""
    database = Database(database_url)
    await database.migrate()
    try:
        yield Store(database, Cipher(key))
    finally:
        await database.dispose()
