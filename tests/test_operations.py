"""`python -m bot backup` and `python -m bot rotate-key`, run as an operator would, beside (or
instead of) the real bot process."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import stat
import subprocess
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import pytest

from conversations.worksheet.content import t
from storage import Cipher, Database, Store
from storage.crypto import decode_key, encode_key, generate_key, key_id, write_key_file
from storage.rotation import reencrypt
from tests.botproc import BotProcess, run_bot_cli
from tests.conftest import TEST_TOKEN, BotFactory
from tests.databases import url_for
from tests.e2e.helpers import begin, query, to_the_date
from tests.fake_telegram import BotMessage, FakeUser

T = TypeVar("T")
ANSWERS = ("Trust is being heard", "A teacher who kept her word", "Safety is calm")


# Helpers --------------------------------------------------------------------------------------


def on_database(url: str, key: Cipher, read: Callable[[Store], Awaitable[T]]) -> T:
    """Run `read` against a database (a URL) with a given cipher."""

    async def run() -> T:
        database = Database(url)
        try:
            return await read(Store(database, key))
        finally:
            await database.dispose()

    return asyncio.run(run())


def answers_in(url: str, cipher: Cipher, telegram_id: int) -> dict[str, str | None]:
    """A person's answers in a database, decrypted with `cipher`."""

    async def read(store: Store) -> dict[str, str | None]:
        return {k: v.text for k, v in (await store.answers(telegram_id)).items()}

    return on_database(url, cipher, read)


def key_ids(data_dir: Path) -> set[bytes]:
    """The fingerprints of the keys the stored values of the bot's database are encrypted with."""
    rows = query(
        data_dir,
        "SELECT value_enc FROM answer UNION ALL SELECT topic_enc FROM session_entry "
        "UNION ALL SELECT role_enc FROM session_entry",
    )
    return {bytes(blob)[1:5] for (blob,) in rows if isinstance(blob, bytes)}


def reply(user: FakeUser, act: Callable[[], object], count: int = 1) -> list[BotMessage]:
    """Does something and returns the next `count` new bot messages."""
    mark = user.mark()
    act()

    def probe() -> list[BotMessage] | None:
        found = [e for e in user.events(mark) if e.event == "new"]
        return found[:count] if len(found) >= count else None

    found = user.fake.world.wait_until(probe, 15.0)
    if found is None:
        raise AssertionError(f"expected {count} new bot messages\n{user.dump()}")
    return found


def reflect(user: FakeUser, answers: tuple[str, ...]) -> None:
    """/reflect the first time and answers the first questions."""
    reply(user, lambda: user.command("reflect"), 2)
    for answer in answers:
        reply(user, lambda a=answer: user.send(a))


def shown_by_the_bot(user: FakeUser) -> str:
    """The reflections as /review shows them."""
    reply(user, lambda: user.command("review"))
    [shown] = reply(user, lambda: user.press("review:view:reflect"))
    return shown.html or ""


def log_a_session(user: FakeUser, topic: str, role: str) -> None:
    """/log today's session with a topic and a role, ratings skipped."""
    to_the_date(user)
    reply(user, lambda: user.press(t("log.today_button")))
    reply(user, lambda: user.send(topic))
    reply(user, lambda: user.press("log:skip:trust"))
    reply(user, lambda: user.press("log:skip:safety"))
    reply(user, lambda: user.send(role))


def cli(bot: BotProcess, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `python -m bot ARGS` with the bot's settings, as its operator would."""
    return run_bot_cli(args, bot.env())


def last_run(bot: BotProcess) -> str:
    """What the bot logged since it was last started."""
    return bot.logs().rsplit("===== bot start #", 1)[-1]


def sessions_in(url: str, cipher: Cipher, telegram_id: int) -> list[tuple[str | None, ...]]:
    """A person's session topics and roles in a database, decrypted with `cipher`."""

    async def read(store: Store) -> list[tuple[str | None, ...]]:
        rows = await store.sessions(telegram_id, drafts=True)
        return [(row.topic, row.role) for row in rows]

    return on_database(url, cipher, read)


# Backup -----------------------------------------------------------------------------------------


class DirectWriter:
    """A thread writing answers straight into the bot's database, as another process would."""

    def __init__(self, data_dir: Path) -> None:
        self._stop = threading.Event()
        self._count = 0
        self._data_dir = data_dir
        self._thread = threading.Thread(target=asyncio.run, args=(self._write(),), daemon=True)
        self._thread.start()

    async def _write(self) -> None:
        database = Database(url_for(self._data_dir))
        key = decode_key((self._data_dir / "encryption.key").read_text())
        store = Store(database, Cipher(key))
        try:
            for person in (7001, 7002, 7003):
                await store.consent(person, "1")
            while not self._stop.is_set():
                person = 7001 + self._count % 3
                async with store.unit(person) as unit:
                    await unit.save_answer(f"reflect.q{self._count % 8 + 1}", f"line {self._count}")
                self._count += 1
        finally:
            await database.dispose()

    def count(self) -> int:
        """How many transactions were committed so far."""
        return self._count

    def stop(self) -> None:
        """Stop writing and wait for the thread."""
        self._stop.set()
        self._thread.join(30)


@pytest.mark.sqlite
def test_a_backup_while_the_bot_runs_and_people_write_is_consistent(
    bot: BotProcess,
    user: FakeUser,
    user2: FakeUser,
    data_dir: Path,
    tmp_path: Path,
) -> None:
    for person in (user, user2):
        begin(person)
    writes = DirectWriter(data_dir)
    failures: list[BaseException] = []

    def answer() -> None:
        try:
            for person in (user, user2):
                reflect(person, ANSWERS * 3)
        except BaseException as error:  # reported below, in the test's own thread
            failures.append(error)

    try:
        # Two people answer through the bot while backups are taken.
        people = threading.Thread(target=answer, daemon=True)
        people.start()
        copies = []
        for number in range(3):
            before = writes.count()
            result = cli(bot, "backup", str(tmp_path / f"copy{number}.sqlite3"))
            assert result.returncode == 0, result.stderr
            assert f"{tmp_path / f'copy{number}.sqlite3'}" in result.stdout
            assert writes.count() > before, "the database was written during the backup"
            copies.append(tmp_path / f"copy{number}.sqlite3")
        people.join(60)
    finally:
        writes.stop()
    assert not people.is_alive() and failures == []

    key = Cipher(decode_key((data_dir / "encryption.key").read_text()))
    for copy in copies:
        connection = sqlite3.connect(copy)
        try:
            assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
            assert connection.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        finally:
            connection.close()
        assert stat.S_IMODE(copy.stat().st_mode) == 0o600
        # The copy opens with the bot's key: what it holds decrypts.
        copied = answers_in(f"sqlite+aiosqlite:///{copy}", key, 7001)
        assert copied and all(text and text.startswith("line ") for text in copied.values())
        mine = answers_in(f"sqlite+aiosqlite:///{copy}", key, user.user_id)
        assert set(mine.values()) <= set(ANSWERS)
    assert not list(tmp_path.glob("*-wal")) and not list(tmp_path.glob(".*partial"))


@pytest.mark.sqlite
def test_a_backup_restores(bot: BotProcess, user: FakeUser, data_dir: Path, tmp_path: Path) -> None:
    begin(user)
    reflect(user, ANSWERS[:1])
    result = cli(bot, "backup", str(tmp_path))
    assert result.returncode == 0, result.stderr
    [copy] = tmp_path.glob("bot-*.sqlite3")
    reply(user, lambda: user.send(ANSWERS[1]))
    bot.stop()
    # As docs/operations.md says: with the bot stopped, the copy replaces the database.
    for stale in ("bot.sqlite3-wal", "bot.sqlite3-shm"):
        (data_dir / stale).unlink(missing_ok=True)
    shutil.copyfile(copy, data_dir / "bot.sqlite3")
    bot.start().wait_ready()
    key = Cipher(decode_key((data_dir / "encryption.key").read_text()))
    assert answers_in(bot.database_url, key, user.user_id) == {"reflect.q1": ANSWERS[0]}
    # The person is back at the second question, as they were when the copy was made.
    reply(user, lambda: user.send("Again"))
    expected = {"reflect.q1": ANSWERS[0], "reflect.q2": "Again"}
    assert answers_in(bot.database_url, key, user.user_id) == expected


def test_a_backup_of_postgresql_points_to_pg_dump(tmp_path: Path) -> None:
    env = {
        "TELEGRAM_BOT_TOKEN": TEST_TOKEN,
        "DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": "postgresql+asyncpg://bot@localhost/bot",
    }
    result = run_bot_cli(["backup", str(tmp_path / "copy.sqlite3")], env)
    assert result.returncode == 2
    assert "pg_dump" in result.stderr
    assert not (tmp_path / "copy.sqlite3").exists()


# Key rotation -----------------------------------------------------------------------------------


def test_rotate_key_waits_for_the_bot_to_stop_then_rotates_everything(
    bot: BotProcess, user: FakeUser, user2: FakeUser, data_dir: Path
) -> None:
    database, key_file = bot.database_url, data_dir / "encryption.key"
    for person in (user, user2):
        begin(person)
    reflect(user, ANSWERS)
    log_a_session(user, "Work", "Ask more")
    reflect(user2, ANSWERS[:1])
    old = decode_key(key_file.read_text())

    refused = cli(bot, "rotate-key")
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "stop the bot" in refused.stderr
    assert not (data_dir / "encryption.key.new").exists()
    assert key_ids(data_dir) == {key_id(old)}
    assert all(answer in shown_by_the_bot(user) for answer in ANSWERS)

    bot.stop()
    done = cli(bot, "rotate-key")
    assert done.returncode == 0, done.stderr
    assert "Re-encrypted 6 stored values" in done.stdout
    new = decode_key(key_file.read_text())
    assert new != old
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert not (data_dir / "encryption.key.new").exists()
    assert key_ids(data_dir) == {key_id(new)}
    # Readable with the new key alone, by the bot and by a store.
    bot.start().wait_ready()
    assert all(answer in shown_by_the_bot(user) for answer in ANSWERS)
    assert answers_in(database, Cipher(new), user2.user_id) == {"reflect.q1": ANSWERS[0]}
    assert sessions_in(database, Cipher(new), user.user_id) == [("Work", "Ask more")]


def test_an_interrupted_rotation_still_starts_reads_everything_and_finishes(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    database, key_file = bot.database_url, data_dir / "encryption.key"
    begin(user)
    reflect(user, ANSWERS)
    log_a_session(user, "Work", "Ask more")
    bot.stop()
    # A rotation that died half-way: the new key written down, two of five values re-encrypted.
    old, new = decode_key(key_file.read_text()), generate_key()
    write_key_file(data_dir / "encryption.key.new", new)

    async def half(store: Store) -> int:
        return await reencrypt(store.db, store.cipher, limit=2)

    assert on_database(database, Cipher(new, older=[old]), half) == 2
    assert key_ids(data_dir) == {key_id(old), key_id(new)}

    bot.start().wait_ready()
    assert "rotation is unfinished" in last_run(bot)
    assert all(answer in shown_by_the_bot(user) for answer in ANSWERS)
    reply(user, lambda: user.command("reflect"))
    reply(user, lambda: user.press(t("common.continue")))
    reply(user, lambda: user.send("Written mid-rotation"))
    bot.stop()

    done = cli(bot, "rotate-key")
    assert done.returncode == 0, done.stderr
    assert "Re-encrypted 3 stored values" in done.stdout
    assert decode_key(key_file.read_text()) == new
    assert not (data_dir / "encryption.key.new").exists()
    assert key_ids(data_dir) == {key_id(new)}
    bot.start().wait_ready()
    assert "rotation is unfinished" not in last_run(bot)
    shown = shown_by_the_bot(user)
    assert all(answer in shown for answer in (*ANSWERS, "Written mid-rotation"))
    assert sessions_in(database, Cipher(new), user.user_id) == [("Work", "Ask more")]


def test_a_key_from_the_environment_is_printed_kept_until_installed_then_finished(
    bot_factory: BotFactory, user: FakeUser, data_dir: Path
) -> None:
    pending = data_dir / "encryption.key.new"
    old = generate_key()
    bot = bot_factory({"ENCRYPTION_KEY": encode_key(old)}).start().wait_ready()
    begin(user)
    reflect(user, ANSWERS)
    bot.stop()

    first = cli(bot, "rotate-key")
    assert first.returncode == 0, first.stderr
    [line] = [x for x in first.stdout.splitlines() if x.startswith("ENCRYPTION_KEY=")]
    new = decode_key(line.removeprefix("ENCRYPTION_KEY="))
    assert decode_key(pending.read_text()) == new
    assert stat.S_IMODE(pending.stat().st_mode) == 0o600
    assert key_ids(data_dir) == {key_id(new)}
    assert not (data_dir / "encryption.key").exists()
    # Until the environment has the new key, the bot starts with both.
    bot.start().wait_ready()
    assert "rotation is unfinished" in last_run(bot)
    assert all(answer in shown_by_the_bot(user) for answer in ANSWERS)
    bot.stop()

    bot.env_extra["ENCRYPTION_KEY"] = encode_key(new)
    second = cli(bot, "rotate-key")
    assert second.returncode == 0, second.stderr
    assert "ENCRYPTION_KEY=" not in second.stdout and "Done" in second.stdout
    assert not pending.exists()
    bot.start().wait_ready()
    assert "rotation is unfinished" not in last_run(bot)
    assert all(answer in shown_by_the_bot(user) for answer in ANSWERS)
