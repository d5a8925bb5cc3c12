"""Stores on a real SQLite file and, where TEST_POSTGRES_URL is set, on real PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from storage import Cipher, Database, Store
from storage.crypto import generate_key

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_POSTGRES_URL") else [])


async def _fresh_postgres_database() -> tuple[str, str]:
    base = make_url(os.environ["TEST_POSTGRES_URL"])
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(base, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False), name


async def _drop_postgres_database(name: str) -> None:
    admin = create_async_engine(os.environ["TEST_POSTGRES_URL"], isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    await admin.dispose()


@pytest.fixture(params=BACKENDS)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A URL of an empty database of each backend."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}"
        return
    url, name = await _fresh_postgres_database()
    try:
        yield url
    finally:
        await _drop_postgres_database(name)


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
