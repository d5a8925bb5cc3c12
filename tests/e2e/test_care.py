"""Care at the hard moments: free text the bot cannot place, "help", a question before consent,
a very low rating, and help one tap away from every "Not now"; what a phone shows of replies."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from conversations.sections.log import confirmation
from conversations.sections.start import help_text
from conversations.worksheet.content import t
from conversations.worksheet.dates import show_date
from storage.repository import PersonInfo
from tests.botproc import BotProcess
from tests.e2e.helpers import (
    begin,
    chart,
    news,
    reply,
    stored,
    to_the_date,
    today,
    until,
    wait_news,
    with_store,
)
from tests.fake_telegram import BotMessage, FakeTelegram, FakeUser

HELP_NOW = (t("crisis.button"), "menu:crisis")
MENU = (t("common.menu"), "menu:menu")


def buttons(message: BotMessage) -> list[tuple[str, str]]:
    return [(label, data) for row in message.buttons for label, data in row]


def log_entry(user: FakeUser, day: dt.date, trust: int, safety: int) -> BotMessage:
    """One whole /log entry (typed date and notes, tapped ratings); returns the confirmation."""
    assert to_the_date(user).has_button(t("log.today_button"))
    ask_topic = reply(user, lambda: user.send(day.strftime("%d.%m.%Y")))
    ask_trust = reply(user, lambda: user.send("Work and my sister"))
    ask_safety = reply(user, lambda: user.press(str(trust), ask_trust))
    ask_role = reply(user, lambda: user.press(str(safety), ask_safety))
    assert ask_topic.message_id < ask_role.message_id
    return reply(user, lambda: user.send("Slow down when I go quiet"))


def test_distress_outside_a_prompt_gets_a_warm_honest_reply_and_help_one_tap_away(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    begin(user)
    answer = reply(user, lambda: user.send("I can't do this anymore. I don't want to be here"))
    assert answer.html == t("errors.not_understood")
    assert "not a person" in (answer.html or "") and "haven't stored it" in (answer.html or "")
    assert buttons(answer) == [HELP_NOW, MENU]
    crisis = reply(user, lambda: user.press(t("crisis.button"), answer))
    assert crisis.html == t("crisis.text")
    assert stored(data_dir, user) == {} and chart(data_dir, user) == []


def test_help_alone_lists_the_commands_and_offers_the_crisis_help(
    bot: BotProcess, user: FakeUser
) -> None:
    begin(user)
    for word in ("help", "Help!", " HELP me "):
        answer = reply(user, lambda word=word: user.send(word))
        assert answer.html == f"{help_text()}\n\n{t('errors.help_word')}", word
        assert buttons(answer) == [HELP_NOW, MENU]
    # /help itself has the button too; /privacy says what is stored.
    assert buttons(reply(user, lambda: user.command("help"))) == [HELP_NOW, MENU]
    privacy = reply(user, lambda: user.command("privacy"))
    assert privacy.html == f"{t('privacy.title')}\n\n{t('privacy.notice')}"


def test_a_question_before_consent_gets_the_privacy_answer(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    answer = reply(user, lambda: user.send("does my therapist see it?"))
    assert answer.html == t("errors.before_consent")
    assert "therapist" in (answer.html or "") and "/start" in (answer.html or "")
    assert buttons(answer) == [HELP_NOW]
    assert reply(user, lambda: user.command("privacy")).html.startswith(t("privacy.title"))
    assert stored(data_dir, user) == {}


def test_a_very_low_rating_gets_a_word_of_care_with_the_confirmation(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    begin(user)
    day = today()
    saved = log_entry(user, day, 1, 1)
    [row] = chart(data_dir, user)
    assert (row.trust, row.safety, row.complete) == (1, 1, True)
    assert saved.html == f"{confirmation(row)}\n\n{t('log.care_low')}"
    assert buttons(saved) == [
        (t("log.another_button"), "log:another"),
        MENU,
        HELP_NOW,
    ]
    crisis = reply(user, lambda: user.press(t("crisis.button"), saved))
    assert crisis.html == t("crisis.text")


def test_a_fall_in_safety_gets_a_word_and_a_good_session_none(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    begin(user)
    day = today()
    good = log_entry(user, day - dt.timedelta(days=7), 7, 8)
    assert t("log.care_low") not in (good.html or "") and HELP_NOW not in buttons(good)
    fell = log_entry(user, day, 6, 5)
    rows = {r.session_date: r for r in chart(data_dir, user)}
    expected = t("log.care_drop", before=8, after=5)
    assert fell.html == f"{confirmation(rows[day])}\n\n{expected}"
    assert show_date(day) in (fell.html or "") and HELP_NOW in buttons(fell)


def test_not_now_leaves_help_one_tap_away(bot: BotProcess, user: FakeUser) -> None:
    begin(user)
    _, question = news(user, lambda: user.command("reflect"), 2)
    left = reply(user, lambda: user.press(t("common.not_now"), question))
    assert left.html == t("common.later")
    assert buttons(left) == [HELP_NOW, MENU]
    assert reply(user, lambda: user.press(t("crisis.button"), left)).html == t("crisis.text")


def test_replies_do_not_notify_and_show_no_link_previews(
    bot: BotProcess, user: FakeUser, fake: FakeTelegram
) -> None:
    begin(user)
    log_entry(user, today(), 3, 4)
    reply(user, lambda: user.command("crisis"))  # it carries a link
    sends = [
        r.params
        for r in fake.requests
        if r.method == "sendMessage" and str(r.params.get("chat_id")) == str(user.chat_id)
    ]
    assert len(sends) >= 8
    for params in sends:
        assert params.get("disable_notification") is True, params.get("text")
        assert (params.get("link_preview_options") or {}).get("is_disabled") is True


def test_ratings_and_dates_as_people_type_them(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    begin(user)
    assert to_the_date(user).has_button(t("log.today_button"))
    day = today() - dt.timedelta(days=2)
    reply(user, lambda: user.send("2 days ago"))
    reply(user, lambda: user.send("Work"))
    above = news(user, lambda: user.send("11"), 2)[0]
    assert above.html == t("input.rating_above")  # not the same reply as for "purple"
    assert news(user, lambda: user.send("purple"), 2)[0].html == t("input.rating_unreadable")
    reply(user, lambda: user.send("7 👍"))
    reply(user, lambda: user.send("seven/10"))
    [row] = chart(data_dir, user)
    assert (row.session_date, row.trust, row.safety) == (day, 7, 7)


def test_editing_a_chart_answer_updates_the_entry(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    begin(user)
    to_the_date(user)
    reply(user, lambda: user.press(t("log.today_button")))
    mark = user.mark()
    topic_id = user.send("Wrok stress")  # a typo, mended below
    wait_news(user, mark)
    [row] = chart(data_dir, user)
    assert row.topic == "Wrok stress"
    mended = reply(user, lambda: user.edit(topic_id, "Work stress"))
    assert mended.html == t("errors.edited_saved")
    [row] = chart(data_dir, user)
    assert row.topic == "Work stress" and row.trust is None  # nothing else moved
    # A message that answered nothing (not a rating) gets the kind word, and changes nothing.
    mark = user.mark()
    other = user.send("hello")
    wait_news(user, mark, 2)
    assert reply(user, lambda: user.edit(other, "hello again")).html == t("errors.edited")
    assert chart(data_dir, user)[0].topic == "Work stress"


def protection(fake: FakeTelegram, user: FakeUser, act: Callable[[], object]) -> set[object]:
    """Does something that shows what the person wrote; the protect_content of every message
    the bot sent for it (None where not set)."""
    calls = fake.request_count()
    mark = user.mark()
    act()
    wait_news(user, mark)
    sends = [
        r
        for r in fake.requests[calls:]
        if r.method in ("sendMessage", "sendPhoto") and r.chat_id == user.chat_id
    ]
    return {r.params.get("protect_content") for r in fake.wait_finished(sends)}


def week_summary(fake: FakeTelegram, user: FakeUser) -> set[object]:
    """/summary's This week: the protection of its messages (the choice before names nothing)."""
    choice = reply(user, lambda: user.command("summary"))
    week = t("summary.week_button")
    return protection(
        fake,
        user,
        lambda: until(user, lambda: user.press(week, choice), lambda m: m.photo is not None),
    )


def test_protect_my_messages_is_on_until_the_person_turns_it_off(
    bot: BotProcess, user: FakeUser, fake: FakeTelegram, data_dir: Path
) -> None:
    begin(user)
    log_entry(user, today(), 6, 7)
    assert protection(fake, user, lambda: user.command("review")) == {True}
    assert week_summary(fake, user) == {True}

    shown = reply(user, lambda: user.command("settings"))
    assert t("settings.protect_on_line") in shown.html
    allowed = reply(user, lambda: user.press(t("settings.protect_off_button"), shown))
    assert allowed.html.startswith(t("settings.protect_off"))
    assert t("settings.protect_off_line") in allowed.html
    assert allowed.has_button(t("settings.protect_on_button"))
    assert not stored_person(data_dir, user).protect_messages
    assert protection(fake, user, lambda: user.command("review")) == {None}
    assert week_summary(fake, user) == {False}

    shown = reply(user, lambda: user.command("settings"))
    again = reply(user, lambda: user.press(t("settings.protect_on_button"), shown))
    assert again.html.startswith(t("settings.protect_on"))
    assert stored_person(data_dir, user).protect_messages
    assert protection(fake, user, lambda: user.command("review")) == {True}
    # The chart entry itself was never touched by any of it.
    [row] = chart(data_dir, user)
    assert (row.trust, row.safety) == (6, 7)


def stored_person(data_dir: Path, user: FakeUser) -> PersonInfo:
    found = with_store(data_dir, lambda store: store.get_person(user.user_id))
    assert found is not None
    return found
