"""A new privacy notice (CONSENT_VERSION raised): everyone agrees to it again before anything else.

Until they do, their reminders wait (none is claimed or sent); once they agree, everything they
stored is still there and the reminders come as before.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from conversations.sections.start import renewed_note
from conversations.worksheet.content import t
from tests.botproc import BotProcess
from tests.conftest import BotFactory
from tests.e2e.helpers import news, query, reply, soon, stored
from tests.e2e.test_schedule import (
    REMINDER_WAIT,
    is_reminder,
    person,
    plan_once,
    ready_for_reminders,
    reminders_in,
    schedules,
)
from tests.fake_telegram import BotMessage, FakeUser
from tests.worksheet import reflect_items

AGREE = t("start.agree_button")
FIRST = reflect_items()[0]


def asks_again(message: BotMessage) -> bool:
    """Whether a message is the new notice with its "I agree" button."""
    return message.html == renewed_note() and message.button_labels == [AGREE]


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_new_notice_is_agreed_to_first_and_reminders_wait_for_it(
    bot_factory: BotFactory, user: FakeUser, data_dir: Path
) -> None:
    bot = bot_factory({"CONSENT_VERSION": "1"}).start().wait_ready()
    ready_for_reminders(user)
    start = soon()
    plan_once(user, start)
    news(user, lambda: user.command("reflect"), 2)
    reply(user, lambda: user.send("That they listen"))
    before = stored(data_dir, user)
    assert before[f"reflect.{FIRST['key']}"] == "That they listen"
    planned = schedules(data_dir, user)
    assert [info.next_occurrence for info in planned] == [start.replace(tzinfo=None)]

    bot.stop()
    bot.env_extra["CONSENT_VERSION"] = "2"
    bot.start().wait_ready()

    # Past the session's start and a tick of the reminder engine: no reminder claimed or sent.
    mark = user.mark()
    until_past = start + dt.timedelta(seconds=25) - dt.datetime.now(dt.UTC)
    user.wait_no_reply(mark, seconds=max(1.0, until_past.total_seconds()))
    assert query(data_dir, "SELECT count(*) FROM reminder_ledger") == [(0,)]
    assert schedules(data_dir, user) == planned

    # Whatever comes next (an answer to the open prompt, a command, a menu button): the new
    # notice, and nothing of it is stored.
    assert asks_again(reply(user, lambda: user.send("And that they remember")))
    assert asks_again(reply(user, lambda: user.command("checklist")))
    shown = reply(user, lambda: user.command("help"))  # help stays open to everyone
    assert shown.html is not None and shown.html.startswith(t("help.title"))
    assert asks_again(reply(user, lambda: user.press("menu:menu", shown)))
    # Help in a crisis too, one tap away.
    assert reply(user, lambda: user.press("menu:crisis", shown)).html == t("crisis.text")
    assert stored(data_dir, user) == before
    assert person(data_dir, user).consent_version == "1"

    notice = reply(user, lambda: user.send("hello?"))
    mark = user.mark()
    agreed = reply(user, lambda: user.press(AGREE, notice))
    assert agreed.html == t("start.agreed")
    assert person(data_dir, user).consent_version == "2"
    # The reminder comes now (its session began minutes ago), once; nothing stored was lost.
    user.wait_for(is_reminder, timeout=REMINDER_WAIT, after=mark)
    assert len(reminders_in(user)) == 1
    assert stored(data_dir, user) == before


def test_help_now_under_the_answer_before_consent_opens_the_crisis_text(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    answer = reply(user, lambda: user.send("is anyone there?"))
    assert answer.html == t("errors.before_consent")
    assert reply(user, lambda: user.press(t("crisis.button"), answer)).html == t("crisis.text")
    assert stored(data_dir, user) == {}
