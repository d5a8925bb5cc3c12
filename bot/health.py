"""Liveness for `python -m bot health`: the bot writes a small status file, the check reads it.

The running process records when Telegram last answered one of its requests (`ContactRequest`)
and writes, every few seconds, `health.json` in the data folder: its role (starting, standby,
active, stopping), its mode and that time. `python -m bot health` (the container's HEALTHCHECK)
checks the database with a trivial query and that status; it prints one line and exits 0 or 1.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from telegram.request import HTTPXRequest

logger = logging.getLogger(__name__)

STATUS_FILE = "health.json"
WRITE_EVERY = 5.0
# The status file must be newer than this, else the bot is not running (or hangs).
STALE_AFTER = 30.0
# An active bot polls every few seconds; when Telegram has been quiet (webhook mode), it asks.
PROBE_AFTER = 45.0
CONTACT_MAX_AGE = 120.0
DATABASE_TIMEOUT = 5.0


@dataclass
class Contact:
    """When Telegram last answered (monotonic and wall clock)."""

    at: float | None = None
    wall: float | None = None

    def touch(self) -> None:
        """Telegram answered just now."""
        self.at = time.monotonic()
        self.wall = time.time()

    def age(self) -> float | None:
        """Seconds since Telegram last answered, or None if it never did."""
        return None if self.at is None else time.monotonic() - self.at


class ContactRequest(HTTPXRequest):
    """PTB's HTTP transport that notes every answer from the Bot API (not 5xx, not errors)."""

    def __init__(self, contact: Contact, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._contact = contact

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        """Send, and note the contact if Telegram itself answered."""
        status, payload = await super().do_request(*args, **kwargs)
        if status < 500:
            self._contact.touch()
        return status, payload


@dataclass
class Status:
    """What the running bot reports about itself."""

    data_dir: Path
    mode: str
    contact: Contact = field(default_factory=Contact)
    role: str = "starting"

    @property
    def path(self) -> Path:
        """The status file."""
        return self.data_dir / STATUS_FILE

    def write(self) -> None:
        """Replace the status file atomically."""
        body = {
            "pid": os.getpid(),
            "role": self.role,
            "mode": self.mode,
            "written_at": time.time(),
            "telegram_contact_at": self.contact.wall,
        }
        temporary = self.path.with_name(f".{STATUS_FILE}.{os.getpid()}")
        try:
            temporary.write_text(json.dumps(body))
            os.replace(temporary, self.path)
        except OSError as error:
            logger.warning("Could not write the health status: %s", error.strerror)

    def remove(self) -> None:
        """The bot stopped: no status file means not running."""
        try:
            self.path.unlink(missing_ok=True)
        except OSError as error:
            logger.warning("Could not remove the health status: %s", error.strerror)

    async def keep_writing(self) -> None:
        """Write the status every few seconds, until cancelled."""
        while True:
            self.write()
            await asyncio.sleep(WRITE_EVERY)


def _ago(seconds: float) -> str:
    return f"{seconds:.0f} s ago"


def assess(status_file: Path, now: float | None = None) -> tuple[bool, str]:
    """Whether the status file shows a live bot, and one line saying why (or why not)."""
    now = time.time() if now is None else now
    try:
        status = json.loads(status_file.read_text())
    except FileNotFoundError:
        return False, "the bot is not running (no status file)"
    except (OSError, ValueError):
        return False, "the bot's status file cannot be read"
    written = float(status.get("written_at") or 0)
    if now - written > STALE_AFTER:
        return False, f"the bot has not reported for {now - written:.0f} s (stopped or stuck)"
    role = status.get("role", "?")
    if role == "standby":
        return True, "standby: waiting to take over from the active instance"
    if role != "active":
        return role == "starting", f"the bot is {role}"
    contact = status.get("telegram_contact_at")
    if contact is None:
        return False, "the bot has not reached Telegram yet"
    age = now - float(contact)
    if age > CONTACT_MAX_AGE:
        return False, f"no contact with Telegram since {_ago(age)}"
    return True, f"active ({status.get('mode', '?')}), last contact with Telegram {_ago(age)}"


async def check_database(url: str) -> str | None:
    """None if the database answers a trivial query in time, else what went wrong."""
    from sqlalchemy import make_url, text

    from storage import Database

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and not _file_exists(parsed.database):
        return "the database file does not exist yet"
    database = Database(url)
    try:
        async with database.read() as session:
            await asyncio.wait_for(session.execute(text("SELECT 1")), DATABASE_TIMEOUT)
    except TimeoutError:
        return "the database did not answer within 5 s"
    except Exception as error:
        return f"the database cannot be reached ({type(error).__name__})"
    finally:
        await database.dispose()
    return None


def _file_exists(path: str | None) -> bool:
    return bool(path) and (path == ":memory:" or Path(str(path)).exists())


def health_command(database_url: str, data_dir: Path) -> int:
    """`python -m bot health`: print one line, exit 0 if healthy, 1 if not."""
    problem = asyncio.run(check_database(database_url))
    healthy, line = assess(data_dir / STATUS_FILE)
    if problem is not None:
        healthy, line = False, problem
    stamp = dt.datetime.now(dt.UTC).strftime("%H:%M:%S")
    verdict = "healthy" if healthy else "unhealthy"
    database = "failing" if problem else "ok"
    print(f"{verdict}: {line} (database {database}; checked {stamp} UTC)")
    return 0 if healthy else 1
