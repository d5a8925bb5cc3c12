"""/summary end to end: the week in words and a chart; a kind word and a button when empty."""

from __future__ import annotations

import datetime as dt
import struct

import pytest

from conversations.worksheet.content import t
from tests.botproc import BotProcess
from tests.e2e.helpers import begin, soon
from tests.fake_telegram import FakeTelegram, FakeUser


def log_session(user: FakeUser, day: str | None, topic: str, trust: int, safety: int) -> None:
    """One /log entry: a date (None: Today), topic, ratings by button, a note."""
    mark = user.mark()
    user.command("log")
    user.wait_for(lambda m: m.has_button(t("log.today_button")), after=mark)
    mark = user.mark()
    if day is None:
        user.press(t("log.today_button"))
    else:
        user.send(day)
    user.wait_for(lambda m: "log:skip:topic" in str(m.buttons), after=mark)
    mark = user.mark()
    user.send(topic)
    user.wait_for(lambda m: m.has_button("10"), after=mark)
    mark = user.mark()
    user.press(f"log:trust:{trust}")
    user.wait_for(lambda m: "log:safety:1" in str(m.buttons), after=mark)
    mark = user.mark()
    user.press(f"log:safety:{safety}")
    user.wait_for(lambda m: "log:skip:role" in str(m.buttons), after=mark)
    mark = user.mark()
    user.send(f"note about {topic}")
    user.wait_for(lambda m: m.has_button(t("log.another_button")), after=mark)


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_summary_after_three_entries_has_the_numbers_and_a_chart(
    bot: BotProcess, fake: FakeTelegram, user: FakeUser
) -> None:
    begin(user)
    today = dt.datetime.now(dt.UTC).date()
    two_days_ago = (today - dt.timedelta(days=2)).strftime("%d.%m.%Y")
    four_days_ago = (today - dt.timedelta(days=4)).strftime("%d.%m.%Y")
    log_session(user, four_days_ago, "first <b>steps</b> & fears", 8, 8)
    log_session(user, two_days_ago, "family", 5, 7)
    log_session(user, None, "boundaries", 6, 4)

    mark = user.mark()
    user.command("summary")
    photo = user.wait_for(lambda m: m.photo is not None, after=mark)
    texts = [m for m in user.events(mark) if m.photo is None]
    whole = "\n".join(m.text for m in texts)
    assert all(len(m.text) <= 4096 for m in texts)
    # Typed text comes back exactly as typed (escaped on the way).
    assert "first <b>steps</b> & fears" in whole
    assert "note about boundaries" in whole
    assert "Trust: 6.3" in whole and "Safety: 6.3" in whole
    # A drop of 3 in trust (8 to 5) and safety of 4 bring the gentle advice.
    assert "went from 8 to 5" in whole
    assert "be open with your therapist" in whole
    assert photo.caption == t("summary.chart_caption")
    assert png_size(fake.file_bytes(photo)) == (1200, 800)


def test_a_week_without_entries_gets_a_kind_word_and_a_log_button(
    bot: BotProcess, user: FakeUser
) -> None:
    begin(user)
    mark = user.mark()
    user.command("summary")
    reply = user.wait_reply(mark)
    assert t("summary.empty") in reply.html
    assert reply.has_button(t("summary.log_button"))
    user.wait_no_reply(user.mark(), seconds=1.0)
    assert all(m.photo is None for m in user.messages())
    mark = user.mark()
    user.press(t("summary.log_button"))
    assert user.wait_for(lambda m: m.has_button(t("log.today_button")), after=mark)


def press_until(user: FakeUser, label: str, wanted: str) -> None:
    """Press a button and wait for a message with the wanted button."""
    mark = user.mark()
    user.press(label)
    user.wait_for(lambda m: wanted in str(m.buttons), after=mark)


@pytest.mark.slow
def test_the_weekly_summary_comes_once_at_its_time_and_survives_a_restart(
    bot: BotProcess, user: FakeUser
) -> None:
    begin(user)
    mark = user.mark()
    user.command("settings")
    user.wait_for(lambda m: m.has_button(t("settings.zone_button")), after=mark)
    press_until(user, t("settings.zone_button"), "settings:later")
    mark = user.mark()
    user.send("Berlin")
    user.wait_for(lambda m: m.has_button(t("settings.summary_button")), after=mark)
    log_session(user, None, "a good talk", 8, 9)

    mark = user.mark()
    user.command("settings")
    user.wait_for(lambda m: m.has_button(t("settings.summary_button")), after=mark)
    press_until(user, t("settings.summary_button"), "settings:sday:0")
    due = soon()
    press_until(user, f"settings:sday:{due.weekday()}", "settings:stime:")
    mark = user.mark()
    user.send(f"{due:%H:%M}")
    saved = user.wait_for(lambda m: t("settings.summary_saved") in m.html, after=mark)
    assert t("settings.summary_on", weekday=f"{due:%A}", time=f"{due:%H:%M}") in saved.html

    bot.kill()  # the summary is rebuilt from the database at start
    bot.start().wait_ready()
    first = user.wait_for(lambda m: m.html == t("summary.weekly_first_line"), timeout=150)
    user.wait_for(lambda m: m.photo is not None, after=None, timeout=30)
    # Its first line names nothing about health; it comes once.
    assert "trust" not in first.text.lower() and "safety" not in first.text.lower()
    user.wait_no_reply(user.mark(), seconds=25)
    weekly = [m for m in user.messages() if m.html == t("summary.weekly_first_line")]
    assert len(weekly) == 1
