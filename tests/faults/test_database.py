"""Database faults: a lock held by another writer, a read-only database and a full disk.

These are about the SQLite file (its lock, `query_only`, `max_page_count`), so they run on SQLite
whatever TEST_DATABASE says. The bot's answer to a write it cannot make is a kind "could not
save, please send it again" (errors.busy); the prompt stays where it was, nothing already stored
is lost, and the bot recovers by itself once the fault goes.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from conversations.worksheet.content import t
from storage.repository import ConversationPosition
from tests.conftest import BotFactory
from tests.e2e.helpers import begin, news, stored, with_store
from tests.fake_telegram import BotMessage, FakeUser
from tests.faults.checks import Ledger
from tests.faults.dbfaults import COMMAND, DatabaseFault, hold_write_lock
from tests.worksheet import reflect_items

pytestmark = pytest.mark.sqlite

PROMPTS = reflect_items()
# The bot waits up to its busy timeout (10 s) for the lock, so this is generous.
WAIT = 40.0


def asks(index: int) -> Callable[[BotMessage], bool]:
    """Whether a message asks reflection prompt `index` (0-based)."""
    text = PROMPTS[index]["text"]
    return lambda m: m.event == "new" and bool(m.html and m.html.endswith(text))


def is_busy(message: BotMessage) -> bool:
    """Whether a message is the kind "could not save, please send it again"."""
    return message.event == "new" and message.html == t("errors.busy")


def place(data_dir: Path, user: FakeUser) -> ConversationPosition | None:
    """Where the person is in /reflect, as stored."""
    return with_store(data_dir, lambda store: store.position(user.user_id, "reflect"))


def first_answer_given(user: FakeUser, data_dir: Path, ledger: Ledger) -> None:
    """Agree, open /reflect and answer its first prompt; the second is asked."""
    begin(user)
    news(user, lambda: user.command("reflect"), 2)
    answer = ledger.canary(user)
    mark = user.mark()
    user.send(answer)
    user.wait_for(asks(1), after=mark)
    ledger.acknowledged(user, f"reflect.{PROMPTS[0]['key']}", answer)
    assert getattr(place(data_dir, user), "state", None) == f"reflect.ask.{PROMPTS[1]['key']}"


def refused_then_resent(user: FakeUser, data_dir: Path, ledger: Ledger, answer: str) -> None:
    """The answer was refused while the fault lasted; sent again now, it is stored once and the
    next prompt comes."""
    mark = user.mark()
    user.send(answer)
    user.wait_for(asks(2), after=mark, timeout=WAIT)
    key = f"reflect.{PROMPTS[1]['key']}"
    assert stored(data_dir, user, "reflect.")[key] == answer
    ledger.acknowledged(user, key, answer)


def assert_refused(
    user: FakeUser, data_dir: Path, mark: int, before: dict[str, str | None]
) -> None:
    """Only the kind "please send it again" came; the prompt and what is stored did not change."""
    user.wait_for(is_busy, after=mark, timeout=WAIT)
    # Nothing else answers that message: no next prompt, no "I'm not sure what to do with that".
    user.wait_no_reply(user.mark(), 1.5)
    [reply] = [m for m in user.events(mark) if m.event == "new"]
    assert is_busy(reply), reply.describe()
    assert stored(data_dir, user, "reflect.") == before
    assert getattr(place(data_dir, user), "state", None) == f"reflect.ask.{PROMPTS[1]['key']}"


def test_an_answer_waits_for_a_writer_holding_the_lock_for_three_seconds(
    bot_factory: BotFactory, user: FakeUser, data_dir: Path, ledger: Ledger
) -> None:
    """Another writer holds the database's write lock for 3 s: the answer waits for it, is
    stored, and only then the next prompt comes."""
    bot_factory().start().wait_ready()
    first_answer_given(user, data_dir, ledger)
    answer = ledger.canary(user)
    with hold_write_lock(data_dir / "bot.sqlite3") as release:
        mark = user.mark()
        user.send(answer)
        # While the lock is held the answer can't be stored, so the bot says nothing yet.
        user.wait_no_reply(mark, 3.0)
        release.set()
    user.wait_for(asks(2), after=mark, timeout=WAIT)
    [reply] = [m for m in user.events(mark) if m.event == "new"]
    assert asks(2)(reply), reply.describe()
    key = f"reflect.{PROMPTS[1]['key']}"
    assert stored(data_dir, user, "reflect.")[key] == answer
    ledger.acknowledged(user, key, answer)


def test_a_lock_held_for_thirty_seconds_asks_the_person_to_send_again_shortly(
    bot_factory: BotFactory, user: FakeUser, data_dir: Path, ledger: Ledger
) -> None:
    """Another writer holds the lock for up to 30 s, longer than the bot waits: the person is
    asked to send it again shortly, nothing stored is lost, and once the lock is gone the
    answer sent again is stored and the next prompt comes."""
    bot_factory().start().wait_ready()
    first_answer_given(user, data_dir, ledger)
    before = stored(data_dir, user, "reflect.")
    answer = ledger.canary(user)
    with hold_write_lock(data_dir / "bot.sqlite3"):
        mark = user.mark()
        user.send(answer)
        # The holder keeps the lock up to 30 s (hold_write_lock's block): the bot must give up
        # waiting and say so well before then.
        assert_refused(user, data_dir, mark, before)
    refused_then_resent(user, data_dir, ledger, answer)


@pytest.mark.parametrize("kind", ["read_only", "full"])
def test_a_read_only_database_or_a_full_disk_refuses_kindly_and_recovers_without_a_restart(
    bot_factory: BotFactory,
    user: FakeUser,
    data_dir: Path,
    ledger: Ledger,
    tmp_path: Path,
    kind: str,
) -> None:
    """The database turns read-only (`PRAGMA query_only` on the bot's connections) or the disk is
    full (`PRAGMA max_page_count` at the database's size): an answer gets "could not save, please
    send it again" and the prompt does not move on; when the fault goes, the same running bot
    stores the answer sent again."""
    fault = DatabaseFault(tmp_path)
    bot = bot_factory(fault.env)
    bot.command = list(COMMAND)
    bot.start().wait_ready()
    first_answer_given(user, data_dir, ledger)
    before = stored(data_dir, user, "reflect.")
    answer = ledger.canary(user)
    if kind == "full":
        # Longer than a database page, so storing it needs pages the full disk does not have.
        answer += " so much to say about safety" * 140
        fault.full()
    else:
        fault.read_only()
    mark = user.mark()
    user.send(answer)
    assert_refused(user, data_dir, mark, before)

    fault.clear()
    pid = bot.pid
    refused_then_resent(user, data_dir, ledger, answer)
    assert bot.running and bot.pid == pid and bot.starts == 1
