"""/log: the session chart, one entry per therapy session, each step stored as it is given."""

from __future__ import annotations

import datetime as dt
import json
import urllib.request
from pathlib import Path

from sqlalchemy import update

from conversations.sections.log import confirmation
from conversations.worksheet.content import t
from conversations.worksheet.dates import local_today, show_date
from conversations.worksheet.parsing import rating_problem
from conversations.worksheet.words import prompt_text
from storage import Store
from storage.models import Person
from storage.repository import ConversationPosition
from tests.botproc import BotProcess
from tests.e2e.helpers import begin, chart, fields, news, reply, today, with_store
from tests.fake_telegram import BotMessage, FakeTelegram, FakeUser
from tests.worksheet import chat

SKIP_AND_LATER = [t("common.skip"), t("common.not_now")]
RATINGS = [str(n) for n in range(1, 11)]
BAD_RATINGS = ["11", "0", "purple", "7.5", "٧", "7 or 8"]


# Reading what the bot stored ------------------------------------------------------------------


def position(data_dir: Path, user: FakeUser) -> ConversationPosition | None:
    """Where the person is in /log, as saved."""
    return with_store(data_dir, lambda store: store.position(user.user_id, "log"))


# Talking to the bot ---------------------------------------------------------------------------


def open_log(user: FakeUser, *, first: bool = False) -> BotMessage:
    """/log; returns the date prompt. The first time: the chart's introduction and, for a person
    without a time zone, the question for one (skipped here: UTC days, not asked again)."""
    sent = news(user, lambda: user.command("log"), 2 if first else 1)
    if first:
        assert sent[0].html == t("log.intro")
        note, ask_date = news(user, lambda: user.press("log:skip:zone", sent[-1]), 2)
        assert note.html == t("schedule.zone_skipped")
        sent = [ask_date]
    assert sent[-1].html == prompt_text("log.date")
    return sent[-1]


def said_for(text: str) -> str:
    """What a typed rating that is not one hears: why ("that is above 10", "a whole number")."""
    problem = rating_problem(text)
    assert problem is not None, text
    return t(problem)


def is_prompt(message: BotMessage, key: str, day: dt.date | None) -> bool:
    """Whether a message is one step's prompt for a session on `day`."""
    heading = t("log.heading", date=show_date(day)) if day else t("log.heading_undated")
    return message.html == f"{heading}\n\n{chat(key)}"


def send_reminder(fake: FakeTelegram, user: FakeUser, day: dt.date) -> BotMessage:
    """A message with a "Log now" button, sent through the Bot API as a reminder would be."""
    body = {
        "chat_id": user.chat_id,
        "text": "How did your session go?",
        "reply_markup": {
            "inline_keyboard": [[{"text": "Log now", "callback_data": f"log:new:{day}"}]]
        },
    }
    request = urllib.request.Request(
        f"{fake.base_url}{fake.token}/sendMessage",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=15) as response:
        assert json.load(response)["ok"]
    return user.last()


# The happy path -------------------------------------------------------------------------------


def test_an_entry_step_by_step_with_the_introduction_the_first_time(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    begin(user)
    ask_date = open_log(user, first=True)
    assert "Use the following chart over the next three months" in t("log.intro")
    assert ask_date.button_labels == [
        t("log.today_button"),
        t("log.yesterday_button"),
        *SKIP_AND_LATER,
    ]
    assert chart(data_dir, user) == []

    day = today()
    ask_topic = reply(user, lambda: user.press(t("log.today_button"), ask_date))
    assert is_prompt(ask_topic, "log.topic", day)
    assert ask_topic.button_labels == SKIP_AND_LATER
    [row] = chart(data_dir, user)
    assert fields(row) == (day, None, None, None, None, False)
    saved = position(data_dir, user)
    # The place keeps the draft's id and date (ids and dates only; what was typed is in the row).
    expected = {"entry": row.uid, "day": day.isoformat()}
    assert saved == ConversationPosition("log.topic", expected)

    ask_trust = reply(user, lambda: user.send("Work stress & <my> sister"))
    assert is_prompt(ask_trust, "log.trust", day)
    anchors = "1 = I completely distrust my therapist, 10 = I trust my therapist completely"
    assert anchors in prompt_text("log.trust")
    assert ask_trust.button_labels == [*RATINGS, *SKIP_AND_LATER]
    assert chart(data_dir, user)[0].topic == "Work stress & <my> sister"

    ask_safety = reply(user, lambda: user.press("log:trust:7", ask_trust))
    assert is_prompt(ask_safety, "log.safety", day)
    anchors = "1 = I don't feel safe at all, 10 = I feel completely safe with my therapist"
    assert anchors in prompt_text("log.safety")
    assert chart(data_dir, user)[0].trust == 7

    ask_role = reply(user, lambda: user.send(" 8 "))
    assert is_prompt(ask_role, "log.role", day)
    assert chart(data_dir, user)[0].safety == 8

    done = reply(user, lambda: user.send("Asked how I was <b>really</b> doing"))
    [row] = chart(data_dir, user)
    topic, role = "Work stress & <my> sister", "Asked how I was <b>really</b> doing"
    assert fields(row) == (day, topic, 7, 8, role, True)
    assert done.html == confirmation(row)
    assert "&lt;my&gt;" in done.html and "<b>really</b>" not in done.html
    assert topic in done.text and role in done.text
    assert done.buttons == [
        [(t("log.another_button"), "log:another"), (t("common.menu"), "menu:menu")]
    ]
    assert position(data_dir, user) is None

    # Another entry for the same day is allowed (two sessions a day happen); no introduction.
    ask_date = reply(user, lambda: user.press("log:another", done))
    assert ask_date.html == prompt_text("log.date")
    reply(user, lambda: user.press(t("log.today_button"), ask_date))
    for step in ("topic", "trust", "safety", "role"):
        reply(user, lambda s=step: user.press(f"log:skip:{s}"))
    rows = chart(data_dir, user)
    assert [fields(r) for r in rows] == [
        (day, topic, 7, 8, role, True),
        (day, None, None, None, None, True),
    ]


def test_skipping_every_step_leaves_the_chart_row_empty(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    begin(user)
    open_log(user, first=True)
    ask_topic = reply(user, lambda: user.press("log:skip:date"))
    assert is_prompt(ask_topic, "log.topic", None)
    assert [fields(r) for r in chart(data_dir, user)] == [(None, None, None, None, None, False)]
    for step in ("topic", "trust", "safety"):
        reply(user, lambda s=step: user.press(f"log:skip:{s}"))
    callback = user.press("log:skip:role")
    assert user.wait_callback_answer(callback).text == t("log.skipped")
    done = user.wait_for(lambda m: m.event == "new" and "log:another" in str(m.buttons))
    [row] = chart(data_dir, user)
    assert fields(row) == (None, None, None, None, None, True)
    assert done.html == confirmation(row)
    assert done.html.count(t("log.blank")) == 5

    menu = reply(user, lambda: user.press(t("common.menu"), done))
    assert menu.html == t("menu.title")


# Dates ----------------------------------------------------------------------------------------


def test_typed_dates_and_the_kind_replies_to_dates_that_do_not_work(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    begin(user)
    open_log(user, first=True)
    day = today()
    too_old = dt.date(day.year - 2, 1, 1)
    for text, key, shown in [
        ("31.02.2026", "log.date_invalid", None),
        ("next tuesday-ish", "log.date_invalid", None),
        ((day + dt.timedelta(days=1)).isoformat(), "log.date_future", None),
        (f"1 Jan {too_old.year}", "log.date_too_old", too_old),
    ]:
        answer, again = news(user, lambda x=text: user.send(x), 2)
        assert answer.html == t(key, date=show_date(shown)), text
        assert again.html == prompt_text("log.date")

    answer, again = news(user, user.send_sticker, 2)
    assert answer.html == t("common.expect_text")
    assert again.html == prompt_text("log.date")
    assert chart(data_dir, user) == []
    assert position(data_dir, user) == ConversationPosition("log.date", {})

    # A day and month without a year: the latest such day, so yesterday.
    yesterday = day - dt.timedelta(days=1)
    ask_topic = reply(user, lambda: user.send(f"{yesterday.day}.{yesterday.month}."))
    assert is_prompt(ask_topic, "log.topic", yesterday)
    assert [r.session_date for r in chart(data_dir, user)] == [yesterday]


def test_the_yesterday_button_and_today_in_the_persons_time_zone(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    begin(user)
    # A zone whose date differs from UTC's right now, so a bot using UTC would get it wrong.
    zone = "Pacific/Kiritimati" if dt.datetime.now(dt.UTC).hour >= 12 else "Etc/GMT+12"

    async def set_zone(store: Store) -> None:
        async with store.db.write() as session, session.begin():
            await session.execute(
                update(Person).where(Person.telegram_id == user.user_id).values(timezone=zone)
            )

    with_store(data_dir, set_zone)
    local = local_today(zone)
    assert local != today()

    # With a zone set, no question for one: the introduction, then the date.
    intro, ask_date = news(user, lambda: user.command("log"), 2)
    assert intro.html == t("log.intro") and ask_date.html == prompt_text("log.date")
    reply(user, lambda: user.press(t("log.yesterday_button"), ask_date))
    assert [r.session_date for r in chart(data_dir, user)] == [local - dt.timedelta(days=1)]
    reply(user, lambda: user.press("log:later"))

    offer = reply(user, lambda: user.command("log"))
    assert offer.html == t("log.resume", date=show_date(local - dt.timedelta(days=1)))
    assert reply(user, lambda: user.press("log:start", offer)).html == prompt_text("log.date")
    reply(user, lambda: user.send("today"))
    assert [r.session_date for r in chart(data_dir, user)] == [
        local - dt.timedelta(days=1),
        local,
    ]


# Ratings --------------------------------------------------------------------------------------


def test_ratings_take_a_tap_or_a_whole_number_and_nothing_else(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    begin(user)
    ask_date = open_log(user, first=True)
    day = today() - dt.timedelta(days=1)
    reply(user, lambda: user.press(t("log.yesterday_button"), ask_date))
    ask_trust = reply(user, lambda: user.press("log:skip:topic"))
    for text in BAD_RATINGS:
        answer, again = news(user, lambda x=text: user.send(x), 2)
        assert answer.html == said_for(text), text
        assert is_prompt(again, "log.trust", day)
    answer, again = news(user, user.send_photo, 2)
    assert answer.html == t("log.rating_invalid")
    assert is_prompt(again, "log.trust", day)
    assert fields(chart(data_dir, user)[0]) == (day, None, None, None, None, False)

    ask_safety = reply(user, lambda: user.send("10"))
    assert is_prompt(ask_safety, "log.safety", day)

    # The earlier prompt lost its buttons when answered; a forged press is out of date.
    assert next(m for m in user.messages() if m.message_id == ask_trust.message_id).buttons == []
    callback = user.press_data("log:trust:3", ask_trust)
    assert user.wait_callback_answer(callback).text == t("errors.stale_button")
    assert fields(chart(data_dir, user)[0]) == (day, None, 10, None, None, False)

    for text in BAD_RATINGS:
        answer, _ = news(user, lambda x=text: user.send(x), 2)
        assert answer.html == said_for(text), text
    ask_role = reply(user, lambda: user.press("log:safety:3"))
    assert is_prompt(ask_role, "log.role", day)
    answer, again = news(user, lambda: user.send_document(), 2)
    assert answer.html == t("common.expect_text")
    assert is_prompt(again, "log.role", day)
    assert fields(chart(data_dir, user)[0]) == (day, None, 10, 3, None, False)


# Leaving and coming back ----------------------------------------------------------------------


def test_not_now_keeps_the_draft_and_log_offers_to_continue_it(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    begin(user)
    ask_date = open_log(user, first=True)
    day = today()
    reply(user, lambda: user.press(t("log.today_button"), ask_date))
    ask_trust = reply(user, lambda: user.send("My week"))
    assert reply(user, lambda: user.press("log:later", ask_trust)).html == t("log.later")
    assert [fields(r) for r in chart(data_dir, user)] == [(day, "My week", None, None, None, False)]
    assert position(data_dir, user) is None

    offer = reply(user, lambda: user.command("log"))
    assert offer.html == t("log.resume", date=show_date(day))
    assert offer.button_labels == [
        t("log.continue_button", date=show_date(day)),
        t("log.new_button"),
        t("common.not_now"),
    ]
    assert reply(user, lambda: user.send("continue")).html == t("common.expect_buttons")

    ask_trust = reply(user, lambda: user.press("log:continue", offer))
    assert is_prompt(ask_trust, "log.trust", day)
    reply(user, lambda: user.press("log:trust:4", ask_trust))

    # Leaving by another command keeps it too; the skipped step stays skipped.
    assert reply(user, lambda: user.command("cancel")).html == t("cancel.done")
    offer = reply(user, lambda: user.command("log"))
    ask_safety = reply(user, lambda: user.press("log:continue", offer))
    assert is_prompt(ask_safety, "log.safety", day)
    reply(user, lambda: user.send("6"))
    reply(user, lambda: user.send("Nothing, it felt good"))
    rows = chart(data_dir, user)
    assert [fields(r) for r in rows] == [(day, "My week", 4, 6, "Nothing, it felt good", True)]


def test_starting_a_new_entry_keeps_a_draft_with_answers_and_drops_an_empty_one(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    begin(user)
    ask_date = open_log(user, first=True)
    day = today() - dt.timedelta(days=1)
    reply(user, lambda: user.press(t("log.yesterday_button"), ask_date))
    reply(user, lambda: user.send("Boundaries"))
    reply(user, lambda: user.press("log:later"))

    offer = reply(user, lambda: user.command("log"))
    ask_date = reply(user, lambda: user.press("log:start", offer))
    assert ask_date.html == prompt_text("log.date")
    assert [fields(r) for r in chart(data_dir, user)] == [
        (day, "Boundaries", None, None, None, True)
    ]

    # An entry with nothing in it is not worth keeping, nor asking about.
    reply(user, lambda: user.press("log:skip:date", ask_date))
    reply(user, lambda: user.press("log:later"))
    assert len(chart(data_dir, user)) == 2
    open_log(user)
    assert [fields(r) for r in chart(data_dir, user)] == [
        (day, "Boundaries", None, None, None, True)
    ]


def test_an_entry_deleted_meanwhile_starts_a_new_one(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    begin(user)
    ask_date = open_log(user, first=True)
    reply(user, lambda: user.press(t("log.today_button"), ask_date))
    [row] = chart(data_dir, user)

    async def remove(store: Store) -> None:
        async with store.unit(user.user_id) as unit:
            await unit.delete_session_entry(row.uid)

    with_store(data_dir, remove)
    gone, ask_date = news(user, lambda: user.send("A topic"), 2)
    assert gone.html == t("log.gone")
    assert ask_date.html == prompt_text("log.date")
    assert chart(data_dir, user) == []


def test_a_restart_mid_entry_takes_the_next_message_as_the_answer(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    begin(user)
    ask_date = open_log(user, first=True)
    day = today()
    reply(user, lambda: user.press(t("log.today_button"), ask_date))
    ask_trust = reply(user, lambda: user.send("Family"))
    bot.kill()
    bot.start().wait_ready()

    ask_safety = reply(user, lambda: user.send("6"))
    assert is_prompt(ask_safety, "log.safety", day)
    assert fields(chart(data_dir, user)[0]) == (day, "Family", 6, None, None, False)
    callback = user.press("log:trust:2", ask_trust)
    assert user.wait_callback_answer(callback).text == t("errors.stale_button")
    reply(user, lambda: user.press("log:safety:9", ask_safety))
    assert fields(chart(data_dir, user)[0]) == (day, "Family", 6, 9, None, False)


# From a reminder ------------------------------------------------------------------------------


def test_log_now_from_a_reminder_fills_in_the_date(
    bot: BotProcess, fake: FakeTelegram, user: FakeUser, data_dir: Path
) -> None:
    begin(user)
    day = today() - dt.timedelta(days=1)
    reminder = send_reminder(fake, user, day)
    intro, ask_topic = news(user, lambda: user.press(f"log:new:{day}", reminder), 2)
    assert intro.html == t("log.intro")
    assert is_prompt(ask_topic, "log.topic", day)
    [row] = chart(data_dir, user)
    assert fields(row) == (day, None, None, None, None, False)
    reply(user, lambda: user.press("log:later"))

    # The same reminder again continues that entry instead of making a second one.
    again = send_reminder(fake, user, day)
    ask_topic = reply(user, lambda: user.press(f"log:new:{day}", again))
    assert is_prompt(ask_topic, "log.topic", day)
    assert [r.uid for r in chart(data_dir, user)] == [row.uid]
    reply(user, lambda: user.send("Trust"))
    reply(user, lambda: user.press("log:later"))

    # A reminder for another session, with that draft open: the person chooses.
    earlier = day - dt.timedelta(days=2)
    other = send_reminder(fake, user, earlier)
    offer = reply(user, lambda: user.press(f"log:new:{earlier}", other))
    assert offer.html == t("log.resume", date=show_date(day))
    ask_topic = reply(user, lambda: user.press("log:start", offer))
    assert is_prompt(ask_topic, "log.topic", earlier)
    assert [fields(r) for r in chart(data_dir, user)] == [
        (earlier, None, None, None, None, False),
        (day, "Trust", None, None, None, True),
    ]
