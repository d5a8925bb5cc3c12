"""An edited message that reads as a command opens nothing: only a new command leaves a section."""

from __future__ import annotations

from pathlib import Path

from conversations.worksheet.content import t
from tests.botproc import BotProcess
from tests.e2e.helpers import begin, news, reply, stored, wait_news
from tests.fake_telegram import FakeUser
from tests.worksheet import reflect_items

FIRST = reflect_items()[0]


def test_an_edit_into_a_section_command_keeps_the_open_section(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    begin(user)
    mark = user.mark()
    earlier = user.send("hello")
    wait_news(user, mark)
    intro, prompt = news(user, lambda: user.command("reflect"), 2)
    assert intro.html == t("reflect.intro")
    assert prompt.html is not None and prompt.html.endswith(FIRST["text"])
    for command in ("/checklist", "/finish", "/tips", "/learn", "/log", "/review", "/settings"):
        # Whatever the edit says, it gets the kind word about edits, and opens nothing.
        assert reply(user, lambda c=command: user.edit(earlier, c)).html == t("errors.edited")
    # Still in /reflect: the next message answers its first prompt.
    reply(user, lambda: user.send("That they listen"))
    assert stored(data_dir, user, "reflect.") == {f"reflect.{FIRST['key']}": "That they listen"}
