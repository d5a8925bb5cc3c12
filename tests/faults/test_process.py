"""Process faults: the bot is killed at the worst moments and started again; nothing is lost.

Every case also passes the after-case checks of tests/faults/conftest.py (integrity, each
acknowledged answer stored exactly once, no token or typed text in logs, isolation).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from conversations.worksheet.content import t
from tests import worksheet as reflect
from tests.botproc import BotProcess
from tests.e2e.helpers import new_messages, stored
from tests.fake_telegram import FakeTelegram, FakeUser
from tests.faults.checks import Ledger
from tests.faults.dbfaults import hold_write_lock
from tests.faults.reminders import (
    begin_all,
    eventually,
    ledger_statuses,
    reminders_in,
    scheduled,
    seed_once,
    settled,
)
from tests.faults.walk import answer, asks, open_reflect


def test_killed_after_an_answer_is_stored_resumes_at_the_next_prompt(
    bot: BotProcess, user: FakeUser, ledger: Ledger, data_dir: Path
) -> None:
    """SIGKILL right after an answer was stored and acknowledged: after a restart the next
    thing the person types is the answer to the next prompt, and the first one is kept."""
    open_reflect(user)
    answer(user, ledger, "q1", "q2")
    bot.kill()
    bot.start().wait_ready()
    answer(user, ledger, "q2", "q3")
    assert list(stored(data_dir, user, "reflect.")) == ["reflect.q1", "reflect.q2"]


SPREAD = dt.timedelta(milliseconds=150)  # between two of the 50 reminders' due times


def polled_past(fake: FakeTelegram, message_id: int) -> None:
    """Wait until the bot fetched the update of a message and then polled again (which, with
    the offset moved past it, tells Telegram the update was taken)."""

    def probe() -> bool | None:
        calls = [r for r in fake.requests if r.method == "getUpdates"]
        for index, call in enumerate(calls):
            results = call.result if isinstance(call.result, list) else []
            if any(u.get("message", {}).get("message_id") == message_id for u in results):
                return True if index + 1 < len(calls) else None
        return None

    assert fake.world.wait_until(probe, 15.0), "the bot did not fetch the update and poll again"


def test_killed_between_receiving_an_update_and_storing_it_takes_it_once_after_restart(
    bot: BotProcess, fake: FakeTelegram, user: FakeUser, ledger: Ledger, data_dir: Path
) -> None:
    """SIGKILL while the answer waits to be written (another writer holds the database):
    Telegram has taken it (the bot polled past it), yet after the restart it is stored once,
    with no partial or duplicate rows, and the next prompt is asked."""
    open_reflect(user)
    text = ledger.canary(user)
    with hold_write_lock(data_dir / "bot.sqlite3") as release:
        mark = user.mark()
        polled_past(fake, user.send(text))
        bot.kill()
        release.set()
    assert not new_messages(user, mark)  # it was not stored, so nothing was said
    bot.start().wait_ready()
    user.wait_for(asks("q2"), after=mark)
    ledger.acknowledged(user, "reflect.q1", text)
    answer(user, ledger, "q2", "q3")
    assert list(stored(data_dir, user, "reflect.")) == ["reflect.q1", "reflect.q2"]


def test_ten_messages_sent_while_the_bot_is_down_are_all_taken_once_in_order(
    bot: BotProcess, fake: FakeTelegram, user: FakeUser, ledger: Ledger, data_dir: Path
) -> None:
    """Ten answers typed while the bot is down are the answers to the ten prompts, in order,
    each stored once, once it starts again."""
    open_reflect(user)
    bot.stop()
    keys = [p.key for p in reflect.prompts()]
    assert len(keys) == 10
    texts = [ledger.canary(user) for _ in keys]
    mark = user.mark()
    for text in texts:
        user.send(text)
    bot.start().wait_ready()
    user.wait_for(lambda m: m.event == "new" and m.html == t("reflect.done"), after=mark)
    fake.wait_idle()
    for key, text in zip(keys, texts, strict=True):
        ledger.acknowledged(user, f"reflect.{key}", text)
    assert stored(data_dir, user, "reflect.") == {
        f"reflect.{key}": text for key, text in zip(keys, texts, strict=True)
    }
    asked = [m.html for m in user.events(mark) if m.event == "new"]
    # q2 … q8 once each (nothing asked twice), then the thanks.
    assert asked == [p.text for p in reflect.prompts()[1:]] + [t("reflect.done")]


@pytest.mark.slow
def test_killed_during_a_burst_of_fifty_reminders_loses_none_and_repeats_only_one_in_flight(
    bot: BotProcess, fake: FakeTelegram, data_dir: Path
) -> None:
    """SIGKILL while 50 reminders fall due within seconds of each other (about ten delivered):
    after the restart every person has their reminder, claimed once in the ledger; only a
    person whose reminder was being sent at the kill (claimed, not marked sent) may have two."""
    people = [fake.user(3000 + n, f"Person {n}") for n in range(50)]
    begin_all(people)
    bot.stop()
    first = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=20)
    seed_once(data_dir, [(p, first + n * SPREAD) for n, p in enumerate(people)])
    # Each send takes a moment at "Telegram", so a few are always in flight during the burst.
    fake.stall("sendMessage", 0.5, times=None)
    bot.start().wait_ready()

    arrived = fake.world.wait_until(
        lambda: sum(len(reminders_in(p)) for p in people) >= 10 or None, 90.0
    )
    assert arrived, "the reminders did not come"
    bot.kill()
    statuses = ledger_statuses(data_dir)
    in_flight = {tid for tid, found in statuses.items() if found == ["claimed"]}
    unclaimed = scheduled(data_dir)
    # The kill came mid-burst: some reminders were being sent, some not claimed yet.
    assert in_flight and unclaimed, (statuses, unclaimed)

    fake.reset_faults()
    bot.start().wait_ready()
    # Done once nothing is left to claim and nothing claimed is left unsent.
    statuses = eventually(lambda: None if scheduled(data_dir) else settled(data_dir), 120.0)
    assert statuses == {p.user_id: ["sent"] for p in people}
    counts = {p.user_id: len(reminders_in(p)) for p in people}
    assert {tid for tid, n in counts.items() if n != 1} <= in_flight, counts
    assert all(1 <= n <= 2 for n in counts.values()), counts


@pytest.mark.slow
def test_sigterm_with_answers_queued_and_a_reminder_being_sent_finishes_them_and_exits_0(
    bot: BotProcess,
    fake: FakeTelegram,
    user: FakeUser,
    user2: FakeUser,
    ledger: Ledger,
    data_dir: Path,
) -> None:
    """SIGTERM while a reminder waits for Telegram and three answers are fetched but not yet
    handled: all three are stored and acknowledged, the reminder is sent once, and the bot exits
    with code 0 within Docker's 10 s grace period; after a restart nothing is repeated."""
    begin_all([user, user2])
    bot.stop()
    due = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=15)
    seed_once(data_dir, [(user2, due)])
    fake.stall("sendMessage", 6.0, chat_id=user2.chat_id)  # the reminder waits for Telegram
    bot.start().wait_ready()
    opened = user.mark()
    user.command("reflect")
    user.wait_for(asks("q1"), after=opened)
    fake.stall("sendMessage", 1.0, chat_id=user.chat_id, times=None)
    calls = fake.request_count()

    def reminder_in_flight() -> bool | None:
        sent = [r for r in fake.requests[calls:] if r.method == "sendMessage"]
        return any(r.chat_id == user2.chat_id for r in sent) or None

    assert fake.world.wait_until(reminder_in_flight, 60.0), "the reminder was never sent"
    texts = [ledger.canary(user) for _ in range(3)]
    mark = user.mark()
    for text in texts[:-1]:
        user.send(text)
    polled_past(fake, user.send(texts[-1]))

    assert bot.process is not None
    bot.process.terminate()
    assert bot.wait_exit(timeout=10.0) == 0, bot.logs()[-3000:]
    assert "Stopped cleanly" in bot.logs()
    # Each answer was acknowledged by the next question before the bot went.
    assert [m.html for m in new_messages(user, mark)] == [p.text for p in reflect.prompts()[1:4]], (
        user.dump()
    )
    for key, text in zip(("q1", "q2", "q3"), texts, strict=True):
        ledger.acknowledged(user, f"reflect.{key}", text)
    assert len(reminders_in(user2)) == 1, user2.dump()
    assert ledger_statuses(data_dir) == {user2.user_id: ["sent"]}

    fake.reset_faults()
    bot.start().wait_ready()
    answer(user, ledger, "q4", "q5")
    fake.wait_idle()
    assert len(reminders_in(user2)) == 1
