"""/summary end to end: this week or since the start, in words a person would say, with a chart;
sent silently and protected; only a discreet first line of the weekly one notifies; help now
is one tap away; a kind word and a button when nothing was logged."""

from __future__ import annotations

import datetime as dt
import struct
from collections.abc import Callable
from pathlib import Path

import pytest

from conversations.worksheet.content import items, t
from storage import Store
from storage.models import ScheduleKind
from tests.botproc import BotProcess
from tests.e2e.helpers import begin, soon, today, until, with_store
from tests.fake_telegram import BotMessage, FakeTelegram, FakeUser
from tests.fake_telegram.models import RecordedRequest

CLOSING = [(t("crisis.button"), "menu:crisis"), (t("common.menu"), "menu:menu")]
SENDS = ("sendMessage", "sendPhoto")


def log_session(user: FakeUser, day: str | None, topic: str, trust: int, safety: int) -> None:
    """One /log entry: a date (None: Today), topic, ratings by button, a note."""
    open_log(user, lambda: user.command("log"))
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


def open_log(user: FakeUser, act: Callable[[], object]) -> None:
    """Opens /log up to its date prompt (skipping the time zone, when it is asked first)."""
    mark = user.mark()
    act()
    asked = user.wait_for(
        lambda m: m.has_button(t("log.today_button")) or "log:skip:zone" in str(m.buttons),
        after=mark,
    )
    if not asked.has_button(t("log.today_button")):
        mark = user.mark()
        user.press("log:skip:zone", asked)
        user.wait_for(lambda m: m.has_button(t("log.today_button")), after=mark)


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def closes(message: BotMessage) -> bool:
    """The last message of a summary: it carries the menu and help now."""
    return any(row == CLOSING for row in message.buttons)


def choose(user: FakeUser) -> BotMessage:
    """/summary, and the choice between this week and since the start."""
    [choice] = until(user, lambda: user.command("summary"), lambda m: m.html == t("summary.choose"))
    assert choice.buttons == [
        [
            (t("summary.week_button"), "summary:week"),
            (t("summary.history_button"), "summary:history"),
        ]
    ]
    return choice


def summary(
    user: FakeUser, fake: FakeTelegram, button: str, choice: BotMessage | None = None
) -> tuple[list[BotMessage], list[RecordedRequest]]:
    """Presses This week or Since I started: the summary's messages, the last one closing it,
    and the send requests the fake received for them."""
    choice = choice or choose(user)
    calls = fake.request_count()
    sent = until(user, lambda: user.press(button, choice), closes)
    requests = [r for r in fake.requests[calls:] if r.method in SENDS and r.chat_id == user.chat_id]
    fake.wait_finished(requests)
    assert len(requests) == len(sent) and all(r.ok for r in requests)
    return sent, requests


def whole(messages: list[BotMessage]) -> str:
    return "\n".join(m.content for m in messages)


def silent_and_protected(requests: list[RecordedRequest]) -> bool:
    return all(
        r.params.get("disable_notification") is True and r.params.get("protect_content") is True
        for r in requests
    )


def test_this_week_after_three_entries_has_the_numbers_a_chart_and_help_now(
    bot: BotProcess, fake: FakeTelegram, user: FakeUser
) -> None:
    begin(user)
    two_days_ago = today() - dt.timedelta(days=2)
    four_days_ago = (today() - dt.timedelta(days=4)).strftime("%d.%m.%Y")
    log_session(user, four_days_ago, "first <b>steps</b> & fears", 8, 8)
    log_session(user, two_days_ago.strftime("%d.%m.%Y"), "family", 5, 7)
    log_session(user, None, "boundaries", 6, 4)

    sent, requests = summary(user, fake, t("summary.week_button"))
    *texts, photo = sent
    text = whole(texts)
    assert all(len(m.text) <= 4096 for m in texts)
    # Typed text comes back exactly as typed (escaped on the way).
    assert "first <b>steps</b> & fears" in text
    assert "note about boundaries" in text
    assert "Trust: 6.3" in text and "Safety: 6.3" in text
    # A fall of 3 in trust (8 to 5) and safety of 4, as a person would say them.
    assert f"Trust went from 8 to 5 on {two_days_ago:%A}." in text
    assert f"Safety went from 7 to 4 on {today():%A}." in text
    assert "score" not in text
    assert "be open with your therapist" in text
    assert t("summary.say_drop_trust") in text  # there was an earlier session to fall from
    assert photo.caption == t("summary.chart_caption")
    assert png_size(fake.file_bytes(photo)) == (1200, 800)

    # On request, every message is silent and protected; the chart closes with help now.
    assert [r.method for r in requests] == ["sendMessage"] * len(texts) + ["sendPhoto"]
    assert silent_and_protected(requests)
    assert photo.buttons == [CLOSING]
    assert all(m.buttons == [] for m in texts)

    [crisis] = until(user, lambda: user.press("🆘 Help now", photo), lambda m: True)
    assert crisis.html == t("crisis.text")
    [menu] = until(user, lambda: user.press(t("common.menu"), photo), lambda m: True)
    assert menu.html == t("menu.title")


def test_one_session_is_said_plainly_and_a_section_never_opened_is_not_picked_up(
    bot: BotProcess, fake: FakeTelegram, user: FakeUser
) -> None:
    begin(user)
    log_session(user, None, "work stress", 3, 4)

    sent, requests = summary(user, fake, t("summary.week_button"))
    text = whole(sent)
    weekday = f"{today():%A}"
    assert f"Trust was 3 on {weekday}.\nSafety was 4 on {weekday}." in text
    # Nothing about feeling less "after our last session": there was no earlier one.
    assert "I noticed" not in text and "felt less" not in text
    assert "score" not in text
    assert "picks up where you left off" not in text
    assert t("summary.next_section_new", name=t("menu.learn"), command="/learn") in text
    assert silent_and_protected(requests)

    # Once "What to know" was opened and left, it is picked up where it was left.
    mark = user.mark()
    user.command("learn")
    user.wait_for(lambda m: "learn:next:" in str(m.buttons), after=mark)
    sent, _ = summary(user, fake, t("summary.week_button"))
    text = whole(sent)
    assert t("summary.next_section", name=t("menu.learn"), command="/learn") in text


def test_a_tip_marked_to_try_is_an_invitation_not_a_question(
    bot: BotProcess, fake: FakeTelegram, user: FakeUser
) -> None:
    begin(user)
    tip = until(user, lambda: user.command("tips"), lambda m: "tips:mark:1" in str(m.buttons))[-1]
    mark = user.mark()
    user.press("tips:mark:1", tip)
    user.wait_for(lambda m: m.has_button(t("tips.unmark")), after=mark)  # redrawn in place
    log_session(user, None, "a good talk", 8, 9)

    sent, _ = summary(user, fake, t("summary.week_button"))
    html = "\n".join(m.html or "" for m in sent if m.photo is None)
    title = items("tips.items")[0]["title"]
    step = html.split(t("summary.next_title"))[1]
    assert t("summary.next_tip", tip=title) in step
    assert "/log" in step
    # The bot cannot take an answer to it, so it asks nothing.
    assert "?" not in step
    assert "How is it going" not in html


# Sam's twelve weekly sessions, September to November 2025, with a rupture on 15 October.
THREE_MONTHS = [
    ("2025-09-10", 3, 4, "first session", "Tell me how this works"),
    ("2025-09-17", 4, 4, "work burnout", None),
    ("2025-09-24", 4, 5, "my brother", None),
    ("2025-10-01", 5, 5, "sleep", None),
    ("2025-10-08", 5, 6, "childhood", None),
    ("2025-10-15", 3, 4, "she was 15 minutes late", "Say sorry for being late"),
    ("2025-10-22", 5, 6, "talked about the late start", "Nothing, that was good"),
    ("2025-10-29", 6, 6, "boundaries with my mum", None),
    ("2025-11-05", 5, 7, "a bad week", None),
    ("2025-11-12", 7, 7, "a small win", None),
    ("2025-11-19", 7, 8, "trusting people", None),
    ("2025-11-26", 6, 8, "the relapse scare", None),
]


def test_since_i_started_after_three_months(
    bot: BotProcess, fake: FakeTelegram, user: FakeUser, data_dir: Path
) -> None:
    begin(user)

    async def seed(store: Store) -> None:
        async with store.unit(user.user_id) as unit:
            for day, trust, safety, topic, role in THREE_MONTHS:
                uid = await unit.new_session_entry(dt.date.fromisoformat(day))
                await unit.update_session_entry(
                    uid, topic=topic, trust=trust, safety=safety, role=role, complete=True
                )

    with_store(data_dir, seed)
    choice = choose(user)
    sent, requests = summary(user, fake, t("summary.history_button"), choice)
    *texts, photo = sent
    text = whole(texts)
    assert "12 sessions logged." in text
    assert "• September 2025: trust 3.7, safety 4.3 (3 sessions)" in text
    assert "• October 2025: trust 4.8, safety 5.4 (5 sessions)" in text
    assert "• November 2025: trust 6.3, safety 7.5 (4 sessions)" in text
    assert "Trust went from 3.7 in September to 6.3 in November." in text
    assert "Safety went from 4.3 in September to 7.5 in November." in text
    assert "15 October" in text
    assert "trust went from 5 to 3 and safety from 6 to 4." in text
    assert "You talked about: she was 15 minutes late" in text
    # The notes of the hard sessions (3 or below), and only theirs.
    assert "(trust 3, safety 4): Tell me how this works" in text
    assert "(trust 3, safety 4): Say sorry for being late" in text
    assert "Nothing, that was good" not in text
    # The chart over the whole range.
    assert photo.caption == t("summary.history_chart_caption")
    assert png_size(fake.file_bytes(photo)) == (1200, 800)
    assert photo.buttons == [CLOSING]
    assert silent_and_protected(requests)

    # This week had nothing: a kind word, a way to log, and the menu and help now.
    sent, requests = summary(user, fake, t("summary.week_button"), choice)
    [empty] = sent
    assert t("summary.empty") in (empty.html or "")
    assert empty.buttons == [[(t("summary.log_button"), "menu:log")], CLOSING]
    assert silent_and_protected(requests)


def test_nothing_logged_yet_gets_a_kind_word_and_a_log_button(
    bot: BotProcess, user: FakeUser
) -> None:
    begin(user)
    [reply] = until(user, lambda: user.command("summary"), closes)
    assert t("summary.empty_ever") in (reply.html or "")
    assert reply.buttons == [[(t("summary.log_button"), "menu:log")], CLOSING]
    user.wait_no_reply(user.mark(), seconds=1.0)
    assert all(m.photo is None for m in user.messages())
    open_log(user, lambda: user.press(t("summary.log_button"), reply))


def is_first_line(message: BotMessage) -> bool:
    return message.html == t("summary.weekly_first_line")


@pytest.mark.slow
def test_only_the_weekly_summarys_discreet_first_line_notifies(
    bot: BotProcess, fake: FakeTelegram, user: FakeUser, data_dir: Path
) -> None:
    begin(user)
    log_session(user, None, "work stress", 3, 4)
    now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0, tzinfo=None)
    if now.hour == 0 and now.minute == 0:
        pytest.skip("the summary's minute would be yesterday's")
    due = now - dt.timedelta(minutes=1)

    async def plan(store: Store) -> None:
        # A weekly summary due a minute ago, for a person in UTC (reminders need a zone).
        async with store.unit(user.user_id) as unit:
            await unit.set_timezone("UTC")
            sid = await unit.add_schedule(
                kind=ScheduleKind.SUMMARY, weekday=due.weekday(), at_time=due.time()
            )
            await unit.set_next(sid, due, due.replace(tzinfo=dt.UTC))

    calls = fake.request_count()
    mark = user.mark()
    with_store(data_dir, plan)
    first = user.wait_for(is_first_line, after=mark, timeout=45)
    user.wait_for(lambda m: m.photo is not None and closes(m), after=mark)
    requests = [r for r in fake.requests[calls:] if r.method in SENDS and r.chat_id == user.chat_id]
    head, *rest = requests
    # What a locked phone shows: one line naming nothing of theirs.
    assert head.params["text"] == first.html
    assert not any(ch.isdigit() for ch in first.text)
    assert "work stress" not in first.text and "trust" not in first.text.lower()
    assert head.params.get("disable_notification") is False
    assert head.params.get("protect_content") is True
    # Everything with ratings, topics and notes, and the chart, comes silently and protected.
    assert [r.method for r in rest][-1] == "sendPhoto"
    contents = "\n".join(str(r.params.get("text", "")) for r in rest)
    assert "work stress" in contents and "note about work stress" in contents
    assert "Trust was 3 on" in contents
    assert silent_and_protected(rest)


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
    first = user.wait_for(is_first_line, timeout=150)
    user.wait_for(lambda m: m.photo is not None, after=None, timeout=30)
    # Its first line names nothing about health; it comes once; "This week" is what follows.
    assert "trust" not in first.text.lower() and "safety" not in first.text.lower()
    user.wait_no_reply(user.mark(), seconds=25)
    weekly = [m for m in user.messages() if is_first_line(m)]
    assert len(weekly) == 1
    week_title = t("summary.title").split("{")[0]
    assert any(m.html.startswith(week_title) for m in user.messages() if m.html)


def press_until(user: FakeUser, label: str, wanted: str) -> None:
    """Press a button and wait for a message with the wanted button."""
    mark = user.mark()
    user.press(label)
    user.wait_for(lambda m: wanted in str(m.buttons), after=mark)
