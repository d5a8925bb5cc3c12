"""Telegram faults, injected by the fake Bot API server: rate limits, server errors, lost
answers, a blocked bot and harmless 400s. Nothing the person gave is lost or stored twice.

Every case also passes the after-case checks of tests/faults/conftest.py.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from conversations.worksheet.content import t
from storage.repository import PersonInfo
from tests.botproc import BotProcess
from tests.e2e.helpers import begin, handled_all, new_messages, stored, with_store
from tests.fake_telegram import FakeTelegram, FakeUser
from tests.faults.checks import Ledger
from tests.faults.reminders import eventually, ledger_statuses, reminders_in, seed_once, settled
from tests.faults.walk import answer, asks, open_reflect

HOLD = 7.0  # seconds a held answer takes: longer than the bot's read timeout (5 s)


def sends_to(fake: FakeTelegram, user: FakeUser, after: int) -> list[int | None]:
    """Statuses of the sendMessage calls to a person since a request mark."""
    return [
        r.status
        for r in fake.requests[after:]
        if r.method == "sendMessage" and r.params.get("chat_id") == user.chat_id
    ]


def test_a_429_is_waited_out_and_retried_once(
    bot: BotProcess, fake: FakeTelegram, user: FakeUser, ledger: Ledger
) -> None:
    """429 with retry_after on the reply: the bot waits, sends it again once (no busy loop),
    and the answer is stored."""
    open_reflect(user)
    calls = fake.request_count()
    fake.fail("sendMessage", 429, retry_after=2, chat_id=user.chat_id)
    answer(user, ledger, "q1", "q2")
    assert sends_to(fake, user, calls) == [429, 200]


def test_server_errors_on_sends_lose_nothing(
    bot: BotProcess, fake: FakeTelegram, user: FakeUser, ledger: Ledger, data_dir: Path
) -> None:
    """500 and 502 on the reply to an answer: the answer is stored all the same, the person is
    told gently, and the next answer goes through as usual."""
    open_reflect(user)
    for status, key, next_key in ((500, "q1", "q2"), (502, "q2", "q3")):
        text = ledger.canary(user)
        fake.fail("sendMessage", status, chat_id=user.chat_id)
        mark = user.mark()
        user.send(text)
        user.wait_for(lambda m: m.event == "new" and m.html == t("errors.generic"), after=mark)
        ledger.acknowledged(user, f"reflect.{key}", text)
        assert stored(data_dir, user, "reflect.")[f"reflect.{key}"] == text
        del next_key
    answer(user, ledger, "q3", "q4")


def test_server_errors_on_get_updates_are_retried_with_back_off(
    bot: BotProcess, fake: FakeTelegram, user: FakeUser, ledger: Ledger
) -> None:
    """500/502 on getUpdates: polling backs off and retries (a bounded number of calls, not a
    busy loop), recovers, and the message sent meanwhile is taken once."""
    open_reflect(user)
    calls = fake.request_count()
    fake.fail("getUpdates", 502, times=2)
    fake.fail("getUpdates", 500, times=2)
    # The poll waiting at Telegram ends first (its long-poll timeout): the message comes after.
    fake.wait_for_request(
        "getUpdates", after=calls, timeout=30, predicate=lambda r: r.status == 502
    )
    answer(user, ledger, "q1", "q2")
    polls = [r.status for r in fake.requests[calls:] if r.method == "getUpdates"]
    assert polls[:4] == [502, 502, 500, 500]
    assert len(polls) < 20, polls


def test_a_send_whose_answer_never_arrives_stores_nothing_twice(
    bot: BotProcess, fake: FakeTelegram, user: FakeUser, ledger: Ledger, data_dir: Path
) -> None:
    """The reply is delivered but the bot never hears back (the connection drops, as on a
    timeout): at most one extra message, and the answer is stored once."""
    open_reflect(user)
    text = ledger.canary(user)
    fake.disconnect("sendMessage", chat_id=user.chat_id, after_processing=True)
    mark = user.mark()
    user.send(text)
    user.wait_for(asks("q2"), after=mark)
    handled_all(fake, data_dir)
    user.wait_no_reply(user.mark(), seconds=1.0)
    ledger.acknowledged(user, "reflect.q1", text)
    said = [m.html for m in new_messages(user, mark)]
    assert said.count(next(m.html for m in user.events(mark) if asks("q2")(m))) == 1
    assert len(said) <= 2, said  # the prompt, and at most one more (an apology)
    answer(user, ledger, "q2", "q3")


def person(data_dir: Path, user: FakeUser) -> PersonInfo:
    """The person as stored."""
    found = with_store(data_dir, lambda store: store.get_person(user.user_id))
    assert found is not None
    return found


def test_a_blocked_bot_pauses_reminders_and_start_resumes(
    bot: BotProcess, fake: FakeTelegram, user: FakeUser, ledger: Ledger, data_dir: Path
) -> None:
    """403 Forbidden: a person who blocks the bot is marked (their reminders pause) and what
    they wrote is kept; /start after unblocking resumes, with their answers still there."""
    open_reflect(user)
    answer(user, ledger, "q1", "q2")
    fake.block(user.user_id)
    fake.wait_idle()
    assert fake.world.wait_until(lambda: person(data_dir, user).blocked or None, 15.0)
    fake.unblock(user.user_id, notify=False)
    mark = user.mark()
    user.command("start")
    user.wait_for(lambda m: m.event == "new" and m.html == t("start.resumed"), after=mark)
    assert not person(data_dir, user).blocked


def test_not_modified_and_too_old_are_handled_quietly(
    bot: BotProcess, fake: FakeTelegram, user: FakeUser, ledger: Ledger, data_dir: Path
) -> None:
    """400 "message is not modified" on removing a keyboard and "query is too old" on answering
    a button: the press still works, the person sees no error."""
    open_reflect(user)
    fake.fail("editMessageReplyMarkup", 400, "Bad Request: message is not modified")
    fake.fail(
        "answerCallbackQuery",
        400,
        "Bad Request: query is too old and response timeout expired or query ID is invalid",
    )
    mark = user.mark()
    user.press(t("common.skip"))
    user.wait_for(asks("q2"), after=mark)
    fake.wait_idle()
    said = [m.html for m in new_messages(user, mark)]
    assert t("errors.generic") not in said
    assert stored(data_dir, user, "reflect.") == {"reflect.q1": None}
    answer(user, ledger, "q2", "q3")


@pytest.mark.slow
def test_a_reminder_to_a_person_who_blocked_the_bot_pauses_theirs_and_start_resumes(
    bot: BotProcess, fake: FakeTelegram, user: FakeUser, data_dir: Path
) -> None:
    """A due reminder meets 403 Forbidden (the person blocked the bot, without the bot being
    told): it is not delivered and the person is marked blocked (their reminders pause). After
    they unblock and /start, their next session's reminder is sent."""
    begin(user)
    bot.stop()
    seed_once(data_dir, [(user, dt.datetime.now(dt.UTC))])
    nxt = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=90)).replace(second=0, microsecond=0)
    seed_once(data_dir, [(user, nxt)], session=nxt.replace(tzinfo=None))
    fake.block(user.user_id, notify=False)
    calls = fake.request_count()
    bot.start().wait_ready()
    eventually(lambda: person(data_dir, user).blocked or None)
    assert ledger_statuses(data_dir) == {user.user_id: ["blocked"]}
    assert sends_to(fake, user, calls) == [403]
    assert reminders_in(user) == []

    fake.unblock(user.user_id, notify=False)
    mark = user.mark()
    user.command("start")
    user.wait_for(lambda m: m.event == "new" and m.html == t("start.resumed"), after=mark)
    assert not person(data_dir, user).blocked
    user.wait_for(
        lambda m: m.event == "new" and m.html == t("reminders.text"), after=mark, timeout=120
    )
    assert len(reminders_in(user)) == 1
    assert eventually(lambda: settled(data_dir)) == {user.user_id: ["blocked", "sent"]}


def test_a_reply_whose_answer_times_out_stores_the_answer_once(
    bot: BotProcess, fake: FakeTelegram, user: FakeUser, ledger: Ledger, data_dir: Path
) -> None:
    """Telegram delivers the next question but answers the bot only after its read timeout
    (5 s): the bot's request times out. At most one extra message (an apology), the answer is
    stored once, and the next answer goes to the next question."""
    open_reflect(user)
    text = ledger.canary(user)
    fake.hold("sendMessage", HOLD, chat_id=user.chat_id)
    mark = user.mark()
    user.send(text)
    user.wait_for(asks("q2"), after=mark)
    # The bot hears of the timeout only after its read timeout: wait for what it does then.
    user.wait_for(
        lambda m: m.event == "new" and m.html == t("errors.generic"), after=mark, timeout=30
    )
    fake.wait_idle()
    ledger.acknowledged(user, "reflect.q1", text)
    said = [m.html for m in new_messages(user, mark)]
    assert len(said) == 2, said  # the question once, and the apology
    assert stored(data_dir, user, "reflect.") == {"reflect.q1": text}
    answer(user, ledger, "q2", "q3")


@pytest.mark.slow
def test_a_reminder_whose_answer_times_out_comes_at_most_twice_and_is_claimed_once(
    bot: BotProcess, fake: FakeTelegram, user: FakeUser, data_dir: Path
) -> None:
    """A reminder that Telegram delivers but answers only after the bot's read timeout: the bot
    may send it once more (it cannot know it arrived), never more, and the ledger holds one
    reminder, sent."""
    begin(user)
    bot.stop()
    seed_once(data_dir, [(user, dt.datetime.now(dt.UTC))])
    fake.hold("sendMessage", HOLD, chat_id=user.chat_id)
    bot.start().wait_ready()
    statuses = eventually(lambda: settled(data_dir))
    assert statuses == {user.user_id: ["sent"]}
    fake.wait_idle()
    found = reminders_in(user)
    # Longer than a tick of the reminder engine: nothing more comes.
    user.wait_no_reply(user.mark(), seconds=22)
    assert 1 <= len(found) == len(reminders_in(user)) <= 2, user.dump()
