"""Engine, SQLite pragmas, sessions and migrations."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

logger = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
BUSY_TIMEOUT_MS = 10_000
CHECKPOINT_ATTEMPTS = 3
CHECKPOINT_PAUSE = 0.5
SCRUB_PAUSE = 2.0  # seconds between background checkpoint attempts after a deletion
SCRUB_FOR = 600.0  # how long they go on


class DatabaseURLError(Exception):
    """A DATABASE_URL that cannot be used."""


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event below emit BEGIN itself, so writers can take the lock early.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def _begin_immediate(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def _begin_deferred(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN")


class Database:
    """Owns the engines and hands out one session per unit of work."""

    def __init__(self, url: str) -> None:
        try:
            parsed = make_url(url)
        except ArgumentError as error:
            raise DatabaseURLError(f"DATABASE_URL could not be parsed: {error}") from None
        self.url = parsed
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        if self.is_sqlite:
            if parsed.get_driver_name() != "aiosqlite":
                parsed = parsed.set(drivername="sqlite+aiosqlite")
            if parsed.database and parsed.database != ":memory:":
                path = Path(parsed.database)
                path.parent.mkdir(parents=True, exist_ok=True)
                if not path.exists():
                    # Health data: readable by the bot's user only (SQLite gives its -wal and
                    # -shm files the same mode).
                    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
            # Writers queue for the single write connection instead of spinning on SQLite's lock.
            self.write_engine = create_async_engine(
                parsed, pool_size=1, max_overflow=0, pool_timeout=60
            )
            self.read_engine = create_async_engine(parsed, pool_size=4, max_overflow=4)
            for engine, begin in (
                (self.write_engine, _begin_immediate),
                (self.read_engine, _begin_deferred),
            ):
                event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
                event.listen(engine.sync_engine, "begin", begin)
        else:
            try:
                self.write_engine = create_async_engine(parsed, pool_size=10, max_overflow=10)
            except Exception as error:  # unknown dialect or driver
                raise DatabaseURLError(f"DATABASE_URL is not usable: {error}") from None
            self.read_engine = self.write_engine
        self.writer = async_sessionmaker(self.write_engine, expire_on_commit=False)
        self.reader = async_sessionmaker(self.read_engine, expire_on_commit=False)
        self._scrubbing: asyncio.Task[None] | None = None

    def write(self) -> AsyncSession:
        """A session whose transaction holds the write lock from its start."""
        return self.writer()

    def read(self) -> AsyncSession:
        """A session for reads only."""
        return self.reader()

    async def migrate(self) -> None:
        """Bring the schema to the newest migration (an empty database included).

        A database already at the newest migration is recognised with one query, without loading
        Alembic (two thirds of a second of CPU at every start otherwise).
        """
        if await self.at_head():
            return
        async with self.write_engine.connect() as conn:
            await conn.run_sync(_upgrade)
            await conn.commit()

    async def at_head(self) -> bool:
        """Whether the schema is at the newest migration (False for an empty database)."""
        try:
            async with self.read_engine.connect() as conn:
                result = await conn.execute(text("SELECT version_num FROM alembic_version"))
                versions = list(result.scalars())
        except DBAPIError:  # no alembic_version table yet
            return False
        return versions == [head_revision()]

    async def dispose(self) -> None:
        """Close every connection (a background scrub still trying is given up: the next
        start's first checkpoint, or SQLite's own on close, folds the WAL)."""
        if self._scrubbing is not None and not self._scrubbing.done():
            self._scrubbing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._scrubbing
        await self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            await self.read_engine.dispose()

    async def checkpoint(self, *, patient: bool = False) -> bool:
        """Fold the SQLite WAL into the main file and truncate it; False if a reader's snapshot
        still needs it. By default it does not wait: a TRUNCATE checkpoint that waits for readers
        holds back every writer meanwhile, and there is one write connection (patient: it waits,
        up to the busy timeout a few times, for an offline command like rotate-key)."""
        if not self.is_sqlite:
            return True
        for attempt in range(CHECKPOINT_ATTEMPTS if patient else 1):
            if attempt:
                await asyncio.sleep(CHECKPOINT_PAUSE)
            # Outside any transaction, on the driver's own connection; the first column of
            # the answer says whether it gave up.
            async with self.write_engine.connect() as conn:
                raw = await conn.get_raw_connection()
                driver = raw.driver_connection
                assert driver is not None
                if not patient:
                    await driver.execute("PRAGMA busy_timeout=0")
                try:
                    cursor = await driver.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                    row = await cursor.fetchone()
                    await cursor.close()
                finally:
                    if not patient:
                        await driver.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            if row is None or row[0] == 0:
                return True
        if patient:
            logger.warning("The write-ahead log could not be truncated; readers held it")
        return False

    async def scrub(self) -> bool:
        """After a deletion: the deleted rows' old pages out of the SQLite WAL. Now if no reader
        holds an older snapshot (True), else retried in the background every few seconds until
        it works (for up to SCRUB_FOR), so nobody's reply waits for it."""
        if await self.checkpoint():
            return True
        if self._scrubbing is None or self._scrubbing.done():
            self._scrubbing = asyncio.get_running_loop().create_task(
                self._scrub_later(), name="wal-scrub"
            )
        return False

    async def scrubbed(self) -> None:
        """Wait for a background scrub, if one is running (for shutdown and tests)."""
        if self._scrubbing is not None:
            await asyncio.shield(self._scrubbing)

    async def _scrub_later(self) -> None:
        for _ in range(int(SCRUB_FOR / SCRUB_PAUSE)):
            await asyncio.sleep(SCRUB_PAUSE)
            if await self.checkpoint():
                logger.info("The write-ahead log was truncated after a deletion")
                return
        logger.warning(
            "The write-ahead log could not be truncated after a deletion; readers held it"
        )


_REVISION = re.compile(r'^(down_)?revision(?:: [^=]+)? = "?([^"\n]*?)"?$', re.MULTILINE)


@functools.cache
def head_revision() -> str:
    """The newest migration's revision, read from the migration files (as Alembic would)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        for down, value in _REVISION.findall(path.read_text(encoding="utf-8")):
            if value and value != "None":
                (parents if down else revisions).add(value)
    heads = revisions - parents
    if len(heads) != 1:
        raise RuntimeError(f"the migrations have {len(heads)} heads, not one")
    return heads.pop()


def alembic_config(connection: Connection | None = None) -> Any:
    """Alembic configuration pointing at our migrations folder."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _upgrade(connection: Connection) -> None:
    from alembic import command

    command.upgrade(alembic_config(connection), "head")


@contextlib.contextmanager
def no_cascades_while_migrating(connection: Connection) -> Iterator[None]:
    """Foreign keys off on SQLite while a migration runs (storage/migrations/env.py).

    A change SQLite can only make by copying a table (Alembic's batch mode: create, copy, drop,
    rename) must not cascade the drop to the rows that refer to it: with foreign keys on,
    recreating `person` would delete every answer. The pragma works only outside a transaction,
    so it goes to the driver's connection before Alembic begins, and back on after the commit;
    `check_references` runs before it.
    """
    if connection.dialect.name != "sqlite":
        yield
        return
    raw = connection.connection.dbapi_connection
    assert raw is not None
    _pragma(raw, "PRAGMA foreign_keys=OFF")
    try:
        yield
        # The pragma below takes effect only outside a transaction: the migration commits here
        # (the caller's own commit after it then has nothing left to do).
        if connection.in_transaction():
            connection.commit()
    except BaseException:
        if connection.in_transaction():
            connection.rollback()
        raise
    finally:
        _pragma(raw, "PRAGMA foreign_keys=ON")


def check_references(connection: Connection) -> None:
    """Before a migration commits on SQLite: every row's parent is there (foreign keys were off)."""
    if connection.dialect.name == "sqlite":
        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
        if broken:
            raise RuntimeError(f"the migration left {len(broken)} rows without their parent")


def _pragma(raw: Any, statement: str) -> None:
    cursor = raw.cursor()
    cursor.execute(statement)
    cursor.close()


async def migrate_url(url: str) -> None:
    """Apply migrations to a database given by URL (for the command line)."""
    db = Database(url)
    try:
        await db.migrate()
    finally:
        await db.dispose()


if __name__ == "__main__":  # pragma: no cover - convenience for developers
    import sys

    asyncio.run(migrate_url(sys.argv[1]))
