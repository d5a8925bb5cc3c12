"""One active instance per database: a lock file for SQLite, an advisory lock for PostgreSQL.

With SQLite a second instance on the same file is refused (two processes sending the same reminders
would be wrong, and SQLite has one writer anyway). With PostgreSQL a second instance is a standby:
it waits for the session-level advisory lock, which PostgreSQL releases the moment the active
instance's connection goes away (a crash or SIGKILL included), and then takes over.

A host that is lost outright (powered off, cut from the network) closes nothing: PostgreSQL would
hold its session, and the lock, until TCP gave up on it, by default after hours. So the lock's
connection asks the server for TCP keepalives (and a user timeout for unanswered data): the server
drops a silent peer's session, and its lock, within LOST_PEER seconds; the active instance's own
check (LIVENESS_POLL) notices a dead connection from its side within seconds too.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import IO

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from storage.database import Database

logger = logging.getLogger(__name__)

# Any fixed 64-bit number; advisory locks are per database, so other databases don't collide.
ADVISORY_KEY = 0x7472_7573_7473_6166  # "trustsaf"
STANDBY_POLL = 2.0
LIVENESS_POLL = 5.0
# Server-side settings of the lock's connection (set on it once connected, so that they pass a
# session pooler too): probes after 10 s of silence, every 5 s, the peer is given up after 3
# unanswered (25 s); or once data it was sent has gone unacknowledged for 25 s.
LOCK_CONNECTION_SETTINGS = {
    "tcp_keepalives_idle": "10",
    "tcp_keepalives_interval": "5",
    "tcp_keepalives_count": "3",
    "tcp_user_timeout": "25000",
}
LOST_PEER = 25


class AlreadyRunning(Exception):
    """Another instance holds this SQLite database; the message says what to do."""


class InstanceLock:
    """Held while this process is the active instance; release() (or exit) gives it up."""

    def __init__(
        self,
        *,
        file: IO[bytes] | None = None,
        engine: AsyncEngine | None = None,
        connection: AsyncConnection | None = None,
    ) -> None:
        self._file = file
        self._engine = engine
        self._connection = connection

    @property
    def shared(self) -> bool:
        """Whether other instances may be waiting for this lock (PostgreSQL)."""
        return self._connection is not None

    async def lost(self) -> None:
        """Returns when the lock can no longer be trusted (the PostgreSQL connection failed)."""
        if self._connection is None:
            await asyncio.Event().wait()  # a lock file is ours until we exit
            return
        while True:
            await asyncio.sleep(LIVENESS_POLL)
            try:
                await asyncio.wait_for(self._connection.execute(text("SELECT 1")), LIVENESS_POLL)
            except Exception as error:
                name = type(error).__name__
                logger.error("Lost the database connection holding the lock: %s", name)
                return

    async def release(self) -> None:
        """Give the lock up."""
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
        if self._connection is not None:
            try:
                await self._connection.close()
            except Exception as error:  # the connection may already be gone
                logger.debug("Closing the lock connection failed: %s", type(error).__name__)
            self._connection = None
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None


def sqlite_lock_path(database: Database) -> Path:
    """The lock file next to a SQLite database file."""
    assert database.url.database
    return (
        Path(database.url.database).resolve().with_name(Path(database.url.database).name + ".lock")
    )


def _lock_sqlite(database: Database) -> InstanceLock:
    path = sqlite_lock_path(database)
    handle = path.open("ab")
    os.chmod(path, 0o600)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise AlreadyRunning(
            f"another instance of the bot is already running on {database.url.database}; "
            "stop it first (SQLite has room for one instance: for an active/standby pair use "
            "PostgreSQL)."
        ) from None
    handle.truncate(0)
    handle.write(f"{os.getpid()}\n".encode())
    handle.flush()
    return InstanceLock(file=handle)


async def _keep_alive(connection: AsyncConnection) -> None:
    """Ask the server to notice within LOST_PEER seconds if this connection's host is lost."""
    calls = ", ".join(f"set_config('{name}', :{name}, false)" for name in LOCK_CONNECTION_SETTINGS)
    try:
        await connection.execute(text(f"SELECT {calls}"), LOCK_CONNECTION_SETTINGS)
        await connection.commit()
    except Exception as error:  # an old server or a pooler that refuses them: the lock still works
        await connection.rollback()
        logger.warning(
            "The lock's connection keeps the server's TCP settings (%s): a lost host may hold "
            "the lock until TCP gives up on it",
            type(error).__name__,
        )


async def _try_advisory(connection: AsyncConnection) -> bool:
    result = await connection.execute(
        text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_KEY}
    )
    await connection.commit()
    return bool(result.scalar())


async def acquire(
    database: Database,
    stop: asyncio.Event,
    *,
    on_standby: Callable[[], None] | None = None,
    poll: float = STANDBY_POLL,
) -> InstanceLock | None:
    """Become the active instance; None if `stop` was set while waiting as the standby.

    Raises AlreadyRunning for a SQLite database another process holds.
    """
    if database.is_sqlite:
        if not database.url.database or database.url.database == ":memory:":
            return InstanceLock()
        return _lock_sqlite(database)
    engine = create_async_engine(database.url, poolclass=NullPool)
    announced = False
    while not stop.is_set():
        connection: AsyncConnection | None = None
        try:
            connection = await engine.connect()
            await _keep_alive(connection)
            if await _try_advisory(connection):
                return InstanceLock(engine=engine, connection=connection)
        except Exception as error:
            logger.warning("Could not ask the database for the lock: %s", type(error).__name__)
        if connection is not None:
            await connection.close()
        if not announced:
            announced = True
            logger.info("Standby: another instance is active; waiting to take over")
            if on_standby is not None:
                on_standby()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), poll)
    await engine.dispose()
    return None
