"""The PostgreSQL lock's connection asks for TCP keepalives, so that the server drops a lost
host's session, and with it the lock, within a minute (not after TCP's default two hours)."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from storage import Database
from storage.leader import LOST_PEER, acquire


async def test_the_lock_connection_lets_the_server_notice_a_lost_host(database_url: str) -> None:
    database = Database(database_url)
    lock = await acquire(database, asyncio.Event())
    assert lock is not None
    try:
        if database.is_sqlite:
            assert not lock.shared  # a lock file: nothing to keep alive
            return
        connection = lock._connection  # the one connection whose loss frees the lock
        assert connection is not None
        shown = {}
        for name in ("idle", "interval", "count"):
            result = await connection.execute(text(f"SHOW tcp_keepalives_{name}"))
            shown[name] = int(str(result.scalar()).removesuffix("s"))
        user_timeout = await connection.execute(text("SHOW tcp_user_timeout"))
        await connection.commit()
        # Silent this long, the peer is given up: well under a minute.
        assert shown["idle"] + shown["interval"] * shown["count"] <= LOST_PEER < 60
        assert str(user_timeout.scalar()) in ("25s", "25000ms", "25000")
    finally:
        await lock.release()
        await database.dispose()
