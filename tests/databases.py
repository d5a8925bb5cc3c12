"""Which database the bots of a test use, and fresh PostgreSQL databases for tests.

TEST_DATABASE=postgresql (default sqlite) gives every data folder a test starts a bot in its own
PostgreSQL database, created from TEST_POSTGRES_URL and dropped when the test ends. The URL of
each folder's database is remembered here, so the helpers that read what a bot stored read the
same database the bot used.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import sqlite3
import tempfile
import threading
import uuid
from collections.abc import Coroutine, Mapping
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from storage.database import migrate_url

T = TypeVar("T")
BACKENDS = ("sqlite", "postgresql")
POSTGRES_URL_VAR = "TEST_POSTGRES_URL"
CONNECT_TIMEOUT = 10


class DatabaseSetupError(Exception):
    """The databases the tests were asked to use are not there."""


def backend() -> str:
    """The backend the bots of the tests use: TEST_DATABASE, `sqlite` unless set."""
    chosen = os.environ.get("TEST_DATABASE", "").strip().lower() or "sqlite"
    if chosen not in BACKENDS:
        raise DatabaseSetupError(f"TEST_DATABASE={chosen!r}: use one of {', '.join(BACKENDS)}")
    return chosen


def postgres_url() -> str:
    """TEST_POSTGRES_URL, or a loud error naming what to set."""
    url = os.environ.get(POSTGRES_URL_VAR, "").strip()
    if not url:
        raise DatabaseSetupError(
            f"{POSTGRES_URL_VAR} is not set; it is needed for PostgreSQL, e.g. "
            "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
        )
    return url


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from synchronous code (even inside a running event loop)."""
    result: list[T] = []
    failure: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(coroutine))
        except BaseException as error:  # re-raised in the caller's thread
            failure.append(error)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return result[0]


# PostgreSQL -----------------------------------------------------------------------------------


async def _admin(statement: str) -> None:
    engine = create_async_engine(
        postgres_url(),
        isolation_level="AUTOCOMMIT",
        connect_args={"timeout": CONNECT_TIMEOUT},
    )
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


async def check_postgres() -> None:
    """Connect to TEST_POSTGRES_URL once; a clear error if it is not reachable."""
    url = postgres_url()
    try:
        await _admin("SELECT 1")
    except Exception as error:
        shown = make_url(url).render_as_string(hide_password=True)
        raise DatabaseSetupError(f"PostgreSQL at {shown} is not reachable: {error}") from None


def _postgres_url_of(name: str) -> str:
    return make_url(postgres_url()).set(database=name).render_as_string(hide_password=False)


_postgres_template: list[str] = []  # this process's migrated template database, once made


async def _migrated_template() -> str:
    """A database at the newest migration to copy (one per test process, dropped at exit)."""
    if not _postgres_template:
        name = f"tpl_{uuid.uuid4().hex[:12]}"
        await _admin(f'CREATE DATABASE "{name}"')
        await migrate_url(_postgres_url_of(name))
        _postgres_template.append(name)
        atexit.register(lambda: run(drop_postgres_database(name)))
    return _postgres_template[0]


async def fresh_postgres_database(*, migrated: bool = False) -> tuple[str, str]:
    """Create a database, empty or (migrated) a copy of one at the newest migration, as a bot
    leaves it on its first start; returns its URL and its name."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    if migrated:
        await _admin(f'CREATE DATABASE "{name}" TEMPLATE "{await _migrated_template()}"')
    else:
        await _admin(f'CREATE DATABASE "{name}"')
    return _postgres_url_of(name), name


async def drop_postgres_database(name: str) -> None:
    """Drop a database made by fresh_postgres_database, closing whatever still uses it."""
    await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# Which database a data folder's bot uses ------------------------------------------------------


_sqlite_template: list[bytes] = []


def seed_sqlite(data_dir: Path) -> None:
    """Put a database at the newest migration in a data folder that has none, as the bot's first
    start would (mode 0600 like the bot's). Migrating costs each bot start most of a second of
    CPU; the migrations themselves are tested on empty databases in tests/storage."""
    path = Path(data_dir) / "bot.sqlite3"
    if path.exists():
        return
    if not _sqlite_template:
        with tempfile.TemporaryDirectory() as folder:
            template = Path(folder) / "template.sqlite3"
            run(migrate_url(f"sqlite+aiosqlite:///{template}"))
            # Migrations that drop a table (0004) leave free pages; packed, the copy is the
            # size of its data, as the "full disk" fault test needs (no page to spare).
            connection = sqlite3.connect(template)
            try:
                connection.execute("VACUUM")
            finally:
                connection.close()
            _sqlite_template.append(template.read_bytes())
    Path(data_dir).mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(_sqlite_template[0])


def sqlite_url(data_dir: Path) -> str:
    """The bot's default database in a data folder."""
    return f"sqlite+aiosqlite:///{Path(data_dir) / 'bot.sqlite3'}"


_urls: dict[Path, str] = {}


def remember(data_dir: Path, url: str) -> None:
    """Record the database the bots of a data folder use."""
    _urls[Path(data_dir).resolve()] = url


def remembered(data_dir: Path) -> str | None:
    """The database recorded for a data folder, if any."""
    return _urls.get(Path(data_dir).resolve())


def forget(data_dir: Path) -> None:
    """Forget a data folder's database (at the end of its test)."""
    _urls.pop(Path(data_dir).resolve(), None)


def url_for(data_dir: Path, env: Mapping[str, str | None] | None = None) -> str:
    """The database a bot in this data folder uses (DATABASE_URL in env wins)."""
    explicit = (env or {}).get("DATABASE_URL")
    if explicit:
        return explicit
    return _urls.get(Path(data_dir).resolve()) or sqlite_url(data_dir)


def is_sqlite(url: str) -> bool:
    """Whether a database URL is SQLite."""
    return make_url(url).get_backend_name() == "sqlite"
