"""The inbox (bot/updates.py): updates are confirmed to Telegram once stored there, before they
are handled, so a SIGKILL must not lose the ones stored and not handled yet.

Every case also passes the after-case checks of tests/faults/conftest.py (each acknowledged
answer stored exactly once, no canary in plain text in the database files, which hold the inbox
too).
"""

from __future__ import annotations

import time
from pathlib import Path

from tests import worksheet as reflect
from tests.botproc import BotProcess
from tests.e2e.helpers import handled_all, new_messages, query
from tests.fake_telegram import FakeTelegram, FakeUser
from tests.faults.checks import Ledger
from tests.faults.walk import asks, open_reflect

# The first reply's time at "Telegram" (under the bot's 5 s read timeout): the kill comes while
# it is on its way.
SLOW_REPLY = 4.0
ANSWERS = 5


def test_killed_with_updates_confirmed_but_not_handled_handles_each_once_after_restart(
    bot: BotProcess, fake: FakeTelegram, user: FakeUser, ledger: Ledger, data_dir: Path
) -> None:
    """Five answers typed at once: the bot stores all five in its inbox and Telegram is told at
    once (nothing is left for it to send again), and the bot is killed while the reply to the
    first is still on its way. After the restart the other four are handled in order, each
    once, and the first is not taken twice."""
    open_reflect(user)
    keys = [p.key for p in reflect.prompts()]
    calls = fake.request_count()
    fake.stall("sendMessage", SLOW_REPLY, chat_id=user.chat_id)
    texts = [ledger.canary(user) for _ in range(ANSWERS)]
    mark = user.mark()
    for text in texts:
        user.send(text)
    fake.wait_idle()  # all five confirmed to Telegram...

    def first_reply_sent() -> bool:
        sent = [r for r in fake.requests[calls:] if r.method == "sendMessage"]
        return any(r.chat_id == user.chat_id for r in sent)

    # A call's arrival wakes no one waiting on the fake: looked for a few times a second.
    deadline = time.monotonic() + 30.0
    while not first_reply_sent():
        assert time.monotonic() < deadline, "the first answer was never handled"
        time.sleep(0.02)
    assert not new_messages(user, mark)  # ...while the first reply is still on its way
    assert query(data_dir, "SELECT count(*) FROM inbox") == [(ANSWERS,)]
    bot.kill()

    fake.reset_faults()
    bot.start().wait_ready()
    user.wait_for(asks(keys[ANSWERS]), after=mark, timeout=60.0)
    handled_all(fake, data_dir)
    for key, text in zip(keys, texts, strict=False):
        ledger.acknowledged(user, f"reflect.{key}", text)
    # The first reply may still have reached the person from before the kill; the rest came
    # once each, in order, from the bot after the restart.
    first = next(p.text for p in reflect.prompts() if p.key == keys[1])
    asked = [m.html for m in new_messages(user, mark)]
    assert asked.count(first) <= 1, asked
    later = [p.text for p in reflect.prompts()[2 : ANSWERS + 1]]
    assert [html for html in asked if html != first] == later, asked
