"""In a private chat the bot takes only what that chat's own person sent: a person is known by
their user id and the bot answers into the chat, so an update whose two differ is left alone."""

from __future__ import annotations

import copy
from pathlib import Path

from conversations.worksheet.content import t
from tests.botproc import BotProcess
from tests.e2e.helpers import begin, news, reply, stored
from tests.fake_telegram import FakeTelegram, FakeUser


def in_their_chat(fake: FakeTelegram, sender: FakeUser, chat: FakeUser, text: str) -> None:
    """An update whose sender is one person and whose private chat is another's."""
    content: dict[str, object] = {"text": text}
    if text.startswith("/"):
        content["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text)}]
    world = fake.world
    with world.cond:
        message = world.add_message(world.private_chat(chat.user_id), sender.data, content)
        world.push_update("message", copy.deepcopy(message.payload))


def test_an_update_from_someone_else_in_a_private_chat_is_left_alone(
    bot: BotProcess, fake: FakeTelegram, user: FakeUser, user2: FakeUser, data_dir: Path
) -> None:
    begin(user)
    news(user, lambda: user.command("reflect"), 2)
    reply(user, lambda: user.send("Ana's own words"))
    reply(user2, lambda: user2.command("help"))
    mark_ana, mark_ben = user.mark(), user2.mark()

    for text in ("/review", "/export", "/delete", "Something Ana would write", "/start"):
        in_their_chat(fake, user, user2, text)
    fake.wait_idle()
    # Both still get answers of their own; nothing else came to either chat.
    assert reply(user2, lambda: user2.command("help")).html.startswith(t("help.title"))
    assert reply(user, lambda: user.command("help")).html.startswith(t("help.title"))
    user.wait_no_reply(user.mark(), seconds=2)
    assert [e.event for e in user2.events(mark_ben)] == ["new"]
    assert [e.event for e in user.events(mark_ana)] == ["new"]
    assert stored(data_dir, user) == {"reflect.q1": "Ana's own words"}
    assert stored(data_dir, user2) == {}
    assert "Ignored an update in a private chat from someone else" in bot.logs()
