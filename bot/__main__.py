"""`python -m bot`: read settings, prepare the database, run the bot (long polling)."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

# PTB 22 gives RetryAfter.retry_after as a timedelta only when asked; ask, as PTB 23 will.
os.environ.setdefault("PTB_TIMEDELTA", "1")

from bot import operations
from bot.settings import Settings, SettingsError, load_settings
from conversations.worksheet import current
from conversations.worksheet.loader import WorksheetError
from storage import Database, Store, load_or_create_key
from storage.crypto import InvalidKeyError
from storage.database import DatabaseURLError
from storage.keycheck import unknown_keys

logger = logging.getLogger("bot")

WRONG_KEY = (
    "the encryption key does not open the answers stored in the database (they were written "
    "with another key); set ENCRYPTION_KEY or ENCRYPTION_KEY_FILE to the key they were written "
    "with, from your backup of encryption.key."
)


class RedactFilter(logging.Filter):
    """Removes the bot token from every log line, whatever logged it."""

    def __init__(self, secret: str) -> None:
        super().__init__()
        self._secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self._secret and self._secret in message:
            record.msg = message.replace(self._secret, "<token>")
            record.args = None
        return True


class JobFilter(logging.Filter):
    """Keeps APScheduler's job descriptions out of the log: a reminder job's name and its run
    time are when a person's therapy session is. The record stays, without them."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("apscheduler") and record.args:
            args = record.args if isinstance(record.args, tuple) else (record.args,)
            record.args = tuple(
                arg if isinstance(arg, int | float | dt.timedelta) else "<job>" for arg in args
            )
        return True


class RateLimitFilter(logging.Filter):
    """Lets one record of a kind (logger and message) through per `every` seconds, for loggers
    that can repeat without end and fill the disk: asyncio logs each failed accept() (out of
    file descriptors, say) with its traceback, as often as once a second; the webhook logs each
    request or connection it refuses, as often as anyone sends them."""

    def __init__(
        self,
        names: tuple[str, ...],
        every: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self._names = names
        self._every = every
        self._clock = clock
        self._last: dict[tuple[str, str], float] = {}
        self._held: dict[tuple[str, str], int] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith(self._names):
            return True
        kind = (record.name, str(record.msg)[:60])
        now = self._clock()
        if len(self._last) > 1000:  # kinds that never come back
            self._last = {k: v for k, v in self._last.items() if now - v < self._every}
            self._held = {k: v for k, v in self._held.items() if k in self._last}
        last = self._last.get(kind)
        if last is not None and now - last < self._every:
            self._held[kind] = self._held.get(kind, 0) + 1
            return False
        self._last[kind] = now
        held = self._held.pop(kind, 0)
        if held:
            record.msg = f"{record.getMessage()} ({held} more like it left out)"
            record.args = None
        return True


def configure_logging(settings: Settings) -> None:
    """Log to stderr; libraries that would log message text, session times or the token are
    kept quiet."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactFilter(settings.telegram_bot_token.get_secret_value()))
    handler.addFilter(JobFilter())
    handler.addFilter(RateLimitFilter(("asyncio", "aiohttp", "bot.webhook")))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    # PTB logs whole updates and request parameters at DEBUG; httpx logs URLs with the token;
    # APScheduler logs every job it adds and runs, with its name and run time, at INFO.
    logging.getLogger("telegram").setLevel(max(logging.INFO, root.level))
    for name in ("httpx", "httpcore", "aiosqlite", "asyncio", "apscheduler"):
        logging.getLogger(name).setLevel(logging.WARNING)


def fail(message: str) -> int:
    """Print one clear sentence and return the exit code for unusable configuration."""
    print(f"error: {message}", file=sys.stderr)
    return 2


def check_data_dir(path: Path) -> str | None:
    """None if the data folder can be created and written, else why not."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        return f"the data folder {path} cannot be created ({error.strerror})."
    if not os.access(path, os.W_OK | os.X_OK):
        return (
            f"the data folder {path} is not writable; set DATA_DIR to a folder the bot may write."
        )
    probe = path / ".write-test"
    try:
        probe.write_text("ok")
        probe.unlink()
    except OSError as error:
        return f"the data folder {path} is not writable ({error.strerror}); set DATA_DIR."
    return None


async def open_store(settings: Settings) -> Store:
    """Open the database, bring its schema up to date, and load the encryption key."""
    database = Database(settings.effective_database_url)
    try:
        key = load_or_create_key(
            env_key=settings.encryption_key.get_secret_value() if settings.encryption_key else None,
            key_file=settings.encryption_key_file,
            default_file=settings.default_key_file,
        )
        # An unfinished rotation (rotate-key) adds the new key.
        cipher = operations.cipher_for(settings, key)
    except (InvalidKeyError, OSError):
        await database.dispose()
        raise
    try:
        await database.migrate()
        # Started with another key than the data was written with, every read would fail.
        unknown = await unknown_keys(database, cipher)
    except Exception:
        await database.dispose()
        raise
    if unknown:
        await database.dispose()
        raise InvalidKeyError(WRONG_KEY)
    return Store(database, cipher)


def run(settings: Settings) -> int:
    """Run the bot until it is stopped (SIGTERM or SIGINT)."""
    from telegram.error import InvalidToken, NetworkError

    from bot.runner import Runner
    from storage.leader import AlreadyRunning

    problem = check_data_dir(settings.data_dir)
    if problem:
        return fail(problem)
    try:
        current.use(settings.worksheet_file)
    except WorksheetError as error:
        return fail(str(error))
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        store = loop.run_until_complete(open_store(settings))
    except (DatabaseURLError, InvalidKeyError) as error:
        return fail(str(error))
    except OSError as error:
        return fail(f"the encryption key file could not be read or written ({error.strerror}).")
    except Exception as error:
        logger.debug("Database start-up failed", exc_info=True)
        return fail(f"the database could not be opened or migrated ({type(error).__name__}).")
    try:
        return loop.run_until_complete(Runner(settings, store).run())
    except AlreadyRunning as error:
        return fail(str(error))
    except InvalidToken:
        return fail("Telegram refused TELEGRAM_BOT_TOKEN; ask @BotFather for a valid token.")
    except NetworkError as error:
        print(f"error: could not reach the Telegram Bot API ({error}).", file=sys.stderr)
        return 1
    finally:
        loop.run_until_complete(store.db.dispose())
        loop.close()


def main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m bot`."""
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    commands = parser.add_subparsers(dest="command", metavar="{run,health,backup,rotate-key}")
    commands.add_parser("run", help="run the bot (the default)")
    commands.add_parser(
        "health",
        help="check the database and the running bot's contact with Telegram (exit 0 if healthy)",
    )
    backup = commands.add_parser(
        "backup", help="write a consistent copy of the SQLite database, also while the bot runs"
    )
    backup.add_argument("path", type=Path, help="the file to write (or a folder for a dated one)")
    commands.add_parser(
        "rotate-key", help="re-encrypt all stored text under a new key (with the bot stopped)"
    )
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as error:
        return fail(str(error))
    configure_logging(settings)
    if args.command in (None, "run"):
        return run(settings)
    if args.command == "health":
        from bot.health import health_command

        return health_command(settings.effective_database_url, settings.data_dir)
    try:
        if args.command == "backup":
            operations.backup_command(settings, args.path)
        else:
            operations.rotate_key_command(settings)
    except (operations.OperationError, InvalidKeyError, DatabaseURLError, OSError) as error:
        return fail(str(error))
    return 0


if __name__ == "__main__":
    sys.exit(main())
