"""Telegram's 429 "retry after": it holds back the chat it was about, and only a 429 that names no
chat holds back everyone.

Telegram answers 429 with `retry_after` when the bot sent too much, to one chat or overall. The
bot then waits that long before sending that call again; a 429 for Ana's chat must not keep Ben
waiting for his answer (it used to pause every chat for the whole wait).
"""

from __future__ import annotations

from conversations.kit.callbacks import MENU
from conversations.sections.start import help_text
from conversations.worksheet.content import t
from tests.botproc import BotProcess
from tests.e2e.helpers import begin, reply
from tests.fake_telegram import FakeTelegram, FakeUser
from tests.fake_telegram.models import RecordedRequest

RETRY_AFTER = 8  # seconds, as in the issue: long enough that nothing else waits for it by chance


def sends(fake: FakeTelegram, user: FakeUser, after: int) -> list[tuple[int, RecordedRequest]]:
    """(index in the request log, request) of every sendMessage to a person since a mark."""
    return [
        (index, record)
        for index, record in enumerate(fake.requests)
        if index >= after and record.method == "sendMessage" and record.chat_id == user.chat_id
    ]


def test_a_429_for_one_chat_holds_back_that_chat_and_no_other(
    bot: BotProcess, fake: FakeTelegram, user: FakeUser, user2: FakeUser
) -> None:
    begin(user)
    begin(user2)
    mark = fake.request_count()
    fake.fail("sendMessage", 429, retry_after=RETRY_AFTER, chat_id=user.chat_id)
    ana = user.mark()
    user.command("help")
    limited = fake.wait_for_request(
        "sendMessage", after=mark, timeout=60, predicate=lambda r: r.chat_id == user.chat_id
    )
    assert limited.status == 429

    # Ben is answered, twice, while Ana's answer still waits out its retry_after.
    for _ in range(2):
        assert reply(user2, lambda: user2.command("help")).html == help_text()
    answer = user.wait_for(lambda m: m.event == "new", after=ana, timeout=60)
    assert answer.html == help_text()

    to_ana = sends(fake, user, mark)
    to_ben = sends(fake, user2, mark)
    assert [record.status for _, record in to_ana] == [429, 200]
    assert [record.status for _, record in to_ben] == [200, 200]
    retried_at = to_ana[1][0]
    assert all(index < retried_at for index, _ in to_ben), "Ben waited for Ana's retry_after"
    # And Ana's was sent again only once the wait was over (a lower bound, not a speed).
    assert to_ana[1][1].time - limited.time >= RETRY_AFTER - 0.05


def test_a_429_that_names_no_chat_holds_back_every_chat(
    bot: BotProcess, fake: FakeTelegram, user: FakeUser, user2: FakeUser
) -> None:
    """answerCallbackQuery names no chat: its 429 is about the bot as a whole."""
    begin(user)
    begin(user2)
    help_message = reply(user, lambda: user.command("help"))
    mark = fake.request_count()
    fake.fail("answerCallbackQuery", 429, retry_after=RETRY_AFTER)
    ana = user.mark()
    user.press(MENU("crisis"), help_message)
    limited = fake.wait_for_request("answerCallbackQuery", after=mark, timeout=60)
    assert limited.status == 429

    ben = reply(user2, lambda: user2.command("help"))
    assert ben.html == help_text()
    crisis = user.wait_for(lambda m: m.event == "new", after=ana, timeout=60)
    assert crisis.html == t("crisis.text")

    [(_, to_ben)] = sends(fake, user2, mark)
    assert to_ben.status == 200
    # Nobody's message went out before the wait was over (a lower bound, not a speed).
    assert to_ben.time - limited.time >= RETRY_AFTER - 0.05
    answers = [r for r in fake.requests[mark:] if r.method == "answerCallbackQuery"]
    assert [r.status for r in answers] == [429, 200]
