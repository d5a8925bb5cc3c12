"""Two instances on one PostgreSQL database: one active, one standby that takes over on a crash."""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conversations.worksheet.content import t
from storage.crypto import generate_key, write_key_file
from tests import databases
from tests.botproc import BotProcess
from tests.conftest import BotFactory
from tests.e2e.helpers import begin, news, reply, soon, stored, with_store
from tests.e2e.test_schedule import REMINDER_WAIT, plan_once, ready_for_reminders, reminders_in
from tests.fake_telegram import FakeTelegram, FakeUser
from tests.worksheet import reflect_items

pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_POSTGRES_URL"),
    reason="an active/standby pair needs PostgreSQL (set TEST_POSTGRES_URL; CI does)",
)

# The promise: the standby takes over within 30 seconds of the active one dying.
TAKEOVER = 30.0


@pytest.fixture
def pair(bot_factory: BotFactory, tmp_path: Path) -> Iterator[tuple[BotProcess, BotProcess]]:
    """Two bots (own data folders and logs) on one fresh PostgreSQL database, with one key."""
    url, name = databases.run(databases.fresh_postgres_database())
    env = {"DATABASE_URL": url}
    key = generate_key()
    folders = [tmp_path / "one" / "data", tmp_path / "two" / "data"]
    for folder in folders:
        folder.mkdir(parents=True)
        write_key_file(folder / "encryption.key", key)
        databases.remember(folder, url)
    bots = (bot_factory(env, data=folders[0]), bot_factory(env, data=folders[1]))
    try:
        yield bots
    finally:
        for bot in bots:
            bot.stop()
        for folder in folders:
            databases.forget(folder)
        databases.run(databases.drop_postgres_database(name))


def wait_for_log(bot: BotProcess, text: str, timeout: float = 60.0) -> None:
    """Wait until a line appears in the bot's log."""
    deadline = time.monotonic() + timeout
    while text not in bot.logs():
        if not bot.running:
            raise AssertionError(f"bot exited with {bot.returncode}:\n{bot.logs()[-3000:]}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{text!r} not logged in {timeout}s:\n{bot.logs()[-3000:]}")
        time.sleep(0.1)


def prompt(index: int) -> str:
    """The text of reflection prompt `index` (0-based)."""
    text: str = reflect_items()[index]["text"]
    return text


@pytest.mark.slow
def test_the_standby_takes_over_a_conversation_and_the_reminders(
    pair: tuple[BotProcess, BotProcess],
    fake: FakeTelegram,
    user: FakeUser,
    user2: FakeUser,
) -> None:
    """SIGKILL the active bot mid-conversation, before a reminder: nothing lost or doubled."""
    active, standby = pair
    active.start().wait_ready()
    standby.start()
    wait_for_log(standby, "Standby: another instance is active")
    assert "Standby" not in active.logs()

    # Ben has a session starting within two minutes; Ana is half-way through her reflections.
    ready_for_reminders(user2)
    start = soon()
    plan_once(user2, start)
    begin(user)
    _, first = news(user, lambda: user.command("reflect"), 2)
    assert first.html.endswith(prompt(0))
    second = reply(user, lambda: user.send("Before the crash"))
    assert second.html.endswith(prompt(1))

    # The active one dies well before the reminder is due (the reminder engine looks a minute
    # ahead, so it may already have queued it: the standby must still send it exactly once).
    time.sleep(max(0.0, (start - dt.datetime.now(dt.UTC)).total_seconds() - 20))
    active.kill()
    killed_at = time.monotonic()

    # Ana answers while no instance is active; the standby takes the answer once it has taken over.
    mark = user.mark()
    user.send("While nobody was there")
    third = user.wait_for(lambda m: m.event == "new", after=mark, timeout=TAKEOVER + 15)
    assert third.html.endswith(prompt(2)), third.describe()
    wait_for_log(standby, "This instance is now the active one", timeout=5)
    assert time.monotonic() - killed_at < TAKEOVER + 15
    assert stored(standby.data_dir, user, "reflect.") == {
        f"reflect.{reflect_items()[0]['key']}": "Before the crash",
        f"reflect.{reflect_items()[1]['key']}": "While nobody was there",
    }

    # Ben's reminder comes once, from the standby.
    user2.wait_for(lambda m: m.html == t("reminders.text"), timeout=REMINDER_WAIT)
    # The ledger says sent (it is written just after the send returns).
    deadline = time.monotonic() + 30
    while with_store(standby.data_dir, lambda store: store.unsent_reminders()):
        assert time.monotonic() < deadline, "the reminder was never marked sent"
        time.sleep(0.2)
    time.sleep(25)  # one more tick of the reminder engine: still one reminder
    assert len(reminders_in(user2)) == 1

    # The old active one comes back as the standby, and takes over in turn.
    active.start()
    wait_for_log(active, "Standby: another instance is active")
    standby.kill()
    mark = user.mark()
    user.send("After the second crash")
    fourth = user.wait_for(lambda m: m.event == "new", after=mark, timeout=TAKEOVER + 15)
    assert fourth.html.endswith(prompt(3)), fourth.describe()
    assert len(stored(active.data_dir, user, "reflect.")) == 3
    assert len(reminders_in(user2)) == 1


def test_a_standby_stops_at_once_on_sigterm(pair: tuple[BotProcess, BotProcess]) -> None:
    """A waiting standby has nothing in progress: SIGTERM ends it cleanly."""
    active, standby = pair
    active.start().wait_ready()
    standby.start()
    wait_for_log(standby, "Standby: another instance is active")
    assert standby.process is not None
    standby.process.terminate()
    assert standby.wait_exit(timeout=10) == 0
    assert active.running
