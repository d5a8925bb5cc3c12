"""The bot's log never says when a person's session is: not when a reminder is planned, queued
or sent (APScheduler names its jobs, with their run times, in its own records)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.botproc import BotProcess
from tests.e2e.helpers import BERLIN, soon
from tests.e2e.test_schedule import REMINDER_WAIT, is_reminder, plan_once, ready_for_reminders
from tests.fake_telegram import FakeUser

# Each line starts with when it was logged, which may well be the session's minute itself.
STAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} ", re.MULTILINE)


def session_times(start: dt.datetime) -> list[str]:
    """The ways a session's start can be written: local and UTC, ISO and with a space."""
    forms = []
    for moment in (start.astimezone(BERLIN), start.astimezone(dt.UTC)):
        forms += [f"{moment:%Y-%m-%dT%H:%M}", f"{moment:%Y-%m-%d %H:%M}", f"{moment:%H:%M:00}"]
    return forms


@pytest.mark.slow
def test_the_log_holds_no_session_time_once_a_reminder_is_planned_and_sent(
    bot: BotProcess, user: FakeUser
) -> None:
    ready_for_reminders(user)
    start = soon()
    plan_once(user, start)
    user.wait_for(is_reminder, timeout=REMINDER_WAIT)
    user.fake.wait_idle()
    logs = STAMP.sub("", bot.logs())
    assert "Bot ready" in logs
    for written in session_times(start):
        assert written not in logs, f"{written} in the bot's log"
