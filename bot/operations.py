"""Operations from the command line: `python -m bot backup PATH` and `python -m bot rotate-key`.

See docs/operations.md for when to use them and how to restore.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.settings import Settings
from storage import Cipher, Database, rotation
from storage.crypto import DecryptionError, InvalidKeyError, decode_key, encode_key, generate_key

logger = logging.getLogger(__name__)

PENDING_KEY_NAME = "encryption.key.new"
BUSY_TIMEOUT_S = 10.0
# How long rotate-key waits for the database before deciding the bot is running.
IN_USE_WAIT_MS = 1000
IN_USE_CHECKS = 10


class OperationError(Exception):
    """Why an operation cannot be done, in one sentence for whoever runs it."""


# Keys ---------------------------------------------------------------------------------------


def pending_key_file(settings: Settings) -> Path:
    """Where the new key of a rotation waits until the rotation is finished."""
    return settings.data_dir / PENDING_KEY_NAME


def pending_key(settings: Settings) -> bytes | None:
    """The new key of an unfinished rotation, if there is one."""
    path = pending_key_file(settings)
    if not path.exists():
        return None
    try:
        return decode_key(path.read_text())
    except InvalidKeyError as error:
        raise InvalidKeyError(
            f"{path} (an unfinished key rotation) is not usable: {error}"
        ) from None


def cipher_for(settings: Settings, key: bytes) -> Cipher:
    """The bot's cipher: during an unfinished rotation, the new key first and the old one too."""
    new = pending_key(settings)
    if new is None:
        return Cipher(key)
    logger.warning(
        "A key rotation is unfinished (%s exists): reading with both keys. "
        "Run `python -m bot rotate-key` again to finish it.",
        pending_key_file(settings),
    )
    return Cipher(new, older=[key])


def _configured_key(settings: Settings) -> tuple[bytes, Path | None]:
    """The key the bot is configured with, and its file (None when it comes from ENCRYPTION_KEY)."""
    if settings.encryption_key is not None:
        return decode_key(settings.encryption_key.get_secret_value()), None
    path = settings.encryption_key_file or settings.default_key_file
    if not path.exists():
        raise OperationError(
            f"there is no encryption key at {path} yet (the bot makes one when it first starts), "
            "so there is nothing to rotate."
        )
    return decode_key(path.read_text()), path


def _write_private(path: Path, content: str) -> None:
    """Write a file readable by its owner only, completely or not at all (temp file, rename)."""
    partial = path.with_name(f".{path.name}.partial")
    partial.unlink(missing_ok=True)
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    _sync_folder(path.parent)


def _sync_folder(folder: Path) -> None:
    """Make a rename in a folder durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# Backup ---------------------------------------------------------------------------------------


def sqlite_file(settings: Settings) -> Path:
    """The SQLite database file, or why there is none to copy."""
    url = make_url(settings.effective_database_url)
    if url.get_backend_name() != "sqlite":
        raise OperationError(
            "backup copies a SQLite database, and DATABASE_URL is not SQLite; "
            "for PostgreSQL use pg_dump (see docs/operations.md)."
        )
    if not url.database or url.database == ":memory:":
        raise OperationError("DATABASE_URL names no SQLite file to copy.")
    return Path(url.database).resolve()


def backup(settings: Settings, path: Path) -> Path:
    """Write a consistent copy of the SQLite database to a file (or a dated file in a folder).

    The online backup API copies one snapshot in a single step; the bot keeps writing meanwhile
    (WAL). The copy is written beside the target first, checked, then renamed into place.
    """
    source = sqlite_file(settings)
    if not source.exists():
        raise OperationError(f"there is no database at {source} to back up.")
    target = path.expanduser().resolve()
    if target.is_dir():
        target = target / f"bot-{dt.datetime.now():%Y%m%d-%H%M%S}.sqlite3"
    if not target.parent.is_dir():
        raise OperationError(f"the folder {target.parent} does not exist.")
    if target == source or target.name.startswith(f"{source.name}-"):
        raise OperationError("the backup must not overwrite the database itself.")
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    try:
        _copy(source, partial)
        os.replace(partial, target)
    except sqlite3.Error as error:
        raise OperationError(f"the database could not be copied ({error}).") from None
    finally:
        partial.unlink(missing_ok=True)
    _sync_folder(target.parent)
    return target


def _copy(source: Path, target: Path) -> None:
    """Copy one snapshot of `source` into `target`, make it one self-contained file, check it."""
    src = sqlite3.connect(source, timeout=BUSY_TIMEOUT_S)
    try:
        src.execute("PRAGMA query_only=ON")
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)  # all pages in one step: one consistent snapshot
            dst.execute("PRAGMA journal_mode=DELETE")  # no -wal file beside the copy
            check = dst.execute("PRAGMA integrity_check").fetchall()
        finally:
            dst.close()
    finally:
        src.close()
    if check != [("ok",)]:
        raise OperationError(f"the copy failed its integrity check ({check[0][0]}).")
    with target.open("rb+") as handle:
        os.fsync(handle.fileno())


def backup_command(settings: Settings, path: Path) -> None:
    """`python -m bot backup PATH`: write the copy and say where it is."""
    target = backup(settings, path)
    print(f"Backup written to {target} (integrity check: ok).")
    print("It does not contain the encryption key: keep a copy of the key apart from it.")


# Key rotation -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rotation:
    """What a run of rotate-key did."""

    reencrypted: int
    finished: bool
    key_file: Path | None
    new_key: bytes


async def rotate_key(settings: Settings, *, batch: int = rotation.BATCH) -> Rotation:
    """Re-encrypt every stored value under a new key, then make that key the bot's key.

    The new key is written to DATA_DIR/encryption.key.new before anything is re-encrypted, and
    the bot starts with both keys while that file exists, so an interruption loses nothing;
    running this again resumes with the same new key.
    """
    current, key_file = _configured_key(settings)
    database = Database(settings.effective_database_url)
    try:
        await _hold(database)
        await database.migrate()
        new = _pending_or_new(settings)
        cipher = Cipher(new, older=[current])
        try:
            count = await rotation.reencrypt(database, cipher, batch=batch)
        except DecryptionError:
            raise OperationError(
                "a stored value is encrypted with a key that is neither the configured one nor "
                "the new one; check ENCRYPTION_KEY / ENCRYPTION_KEY_FILE."
            ) from None
        left = await rotation.stale_count(database, cipher)
        if left:
            raise OperationError(f"{left} values are still under the old key; run it again.")
        await database.checkpoint(patient=True)  # old ciphertexts out of the WAL too
    finally:
        await database.dispose()
    return Rotation(count, _install(settings, key_file, current, new), key_file, new)


async def _hold(database: Database) -> None:
    """Make sure nothing else uses the database during the rotation (SQLite: hold it)."""
    message = (
        "the database is in use; stop the bot before rotating the key "
        "(a running bot would not know the new key)."
    )
    async with database.write_engine.connect() as conn:
        if database.is_sqlite:
            raw = await conn.get_raw_connection()
            driver = raw.driver_connection
            assert driver is not None
            # In exclusive locking mode the one write connection keeps the lock until it is
            # closed: the bot cannot start, and this fails if the bot (or anything) has it open.
            for statement in (
                f"PRAGMA busy_timeout={IN_USE_WAIT_MS}",
                "PRAGMA locking_mode=EXCLUSIVE",
                "BEGIN EXCLUSIVE",
                "COMMIT",
            ):
                try:
                    await (await driver.execute(statement)).close()
                except sqlite3.OperationalError:
                    raise OperationError(message) from None
            return
        # PostgreSQL: nobody else connected. A bot that just stopped may take a moment to leave
        # pg_stat_activity, so this waits as long as SQLite's busy timeout above.
        for attempt in range(IN_USE_CHECKS):
            if attempt:
                await asyncio.sleep(IN_USE_WAIT_MS / 1000 / IN_USE_CHECKS)
            others = await conn.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
            if not others:
                return
        raise OperationError(message)


def _pending_or_new(settings: Settings) -> bytes:
    """The new key of an unfinished rotation, or a new one, written down before it is used."""
    existing = pending_key(settings)
    if existing is not None:
        return existing
    key = generate_key()
    _write_private(pending_key_file(settings), encode_key(key) + "\n")
    return key


def _install(settings: Settings, key_file: Path | None, current: bytes, new: bytes) -> bool:
    """Make the new key the configured one; False if only the person running this can."""
    pending = pending_key_file(settings)
    if key_file is None:
        if current != new:
            return False
    else:
        try:
            _write_private(key_file, encode_key(new) + "\n")
        except OSError as error:
            logger.warning("Could not write %s: %s", key_file, error.strerror)
            return False
    pending.unlink(missing_ok=True)
    return True


def rotate_key_command(settings: Settings) -> None:
    """`python -m bot rotate-key`: rotate, then say what (if anything) is left to do."""
    result = asyncio.run(rotate_key(settings))
    pending = pending_key_file(settings)
    print(f"Re-encrypted {result.reencrypted} stored values under a new key.")
    if result.finished:
        where = result.key_file or "ENCRYPTION_KEY"
        print(f"Done: the new key is in {where}. Back it up (the old key no longer opens")
        print("the database; keep it only with backups made before now, which still need it).")
        return
    print(f"Everything is encrypted with the new key, which is kept in {pending} until this")
    print("is finished. The bot starts with both keys meanwhile.")
    if result.key_file is None:
        print("Set ENCRYPTION_KEY to this new key (it is also in that file):")
        print()
        print(f"ENCRYPTION_KEY={encode_key(result.new_key)}")
        print()
    else:
        print(f"{result.key_file} could not be written: put the key from {pending} into it.")
    print("Then restart the bot and run `python -m bot rotate-key` again to finish.")
