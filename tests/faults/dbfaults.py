"""Database faults a test switches on and off while the real bot runs.

`python -m tests.faults.dbfaults` runs the bot exactly as `python -m bot` does, with one addition:
each time the bot takes a SQLite connection from its pool, the connection is made read-only
(`PRAGMA query_only`) or "full" (`PRAGMA max_page_count` at the current size, as on a full disk)
while the file named by DB_FAULT_FILE says so. Root ignores file modes, so chmod can't do this;
the bot's own code runs unchanged, only its database connections misbehave. `hold_write_lock`
is another writer, in the test's process, that keeps the database locked.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.botproc import BOT_COMMAND

FAULT_FILE_VAR = "DB_FAULT_FILE"
COMMAND = (sys.executable, "-m", "tests.faults.dbfaults")
READ_ONLY = "read-only"
FULL = "full"
# SQLite's own limit; raising max_page_count back to it lifts the "full disk".
NO_PAGE_LIMIT = 1073741823
assert BOT_COMMAND[1:] == ("-m", "bot")


class DatabaseFault:
    """The test's switch: what the bot's next database connections will suffer."""

    def __init__(self, folder: Path) -> None:
        """A switch file in folder (outside the bot's data folder)."""
        self.path = folder / "db-fault"

    @property
    def env(self) -> dict[str, str]:
        """What the bot's environment needs to obey the switch."""
        return {FAULT_FILE_VAR: str(self.path)}

    def read_only(self) -> None:
        """Every later write fails with "attempt to write a readonly database"."""
        self.path.write_text(READ_ONLY)

    def full(self) -> None:
        """Every later write that needs a new page fails with "database or disk is full"."""
        self.path.write_text(FULL)

    def clear(self) -> None:
        """The fault goes away (no restart)."""
        self.path.unlink(missing_ok=True)


@contextlib.contextmanager
def hold_write_lock(database: Path) -> Iterator[threading.Event]:
    """Another writer takes the database's write lock and keeps it until the event is set
    (or the block ends); the lock is held when the block starts."""
    release = threading.Event()
    taken = threading.Event()
    failed: list[BaseException] = []

    def hold() -> None:
        try:
            connection = sqlite3.connect(database, isolation_level=None, timeout=30)
            try:
                connection.execute("BEGIN IMMEDIATE")
                taken.set()
                release.wait(120)
                connection.execute("ROLLBACK")
            finally:
                connection.close()
        except BaseException as error:  # reported to the test below
            failed.append(error)
            taken.set()

    thread = threading.Thread(target=hold, name="lock-holder", daemon=True)
    thread.start()
    taken.wait(30)
    if failed:
        raise failed[0]
    try:
        yield release
    finally:
        release.set()
        thread.join(30)


# The bot's side ---------------------------------------------------------------------------------


def _apply(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """Sets this connection's pragmas to what the switch file says right now."""
    path = os.environ.get(FAULT_FILE_VAR)
    try:
        fault = Path(path).read_text().strip() if path else ""
    except FileNotFoundError:
        fault = ""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA query_only={1 if fault == READ_ONLY else 0}")
        # SQLite raises a smaller limit to the current page count: "no room to grow".
        cursor.execute(f"PRAGMA max_page_count={1 if fault == FULL else NO_PAGE_LIMIT}")
    finally:
        cursor.close()


def main() -> int:
    """Run the bot with its SQLite connections obeying the switch file."""
    from sqlalchemy import event
    from sqlalchemy.pool import Pool

    from bot.__main__ import main as bot_main

    event.listen(Pool, "checkout", _apply)
    return bot_main()


if __name__ == "__main__":
    sys.exit(main())
