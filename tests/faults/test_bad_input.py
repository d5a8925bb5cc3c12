"""Bad input: odd text, bad ratings and dates, forged and stale buttons, edits, media, commands.

Every case is a person typing or pressing something the bot did not ask for. The bot answers
kindly, stores exactly what was typed when it is an answer (escaped wherever it is shown), never
stores a bad rating or date, and never lets a button reach another person's data.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from pathlib import Path

from conversations.worksheet.content import t
from conversations.worksheet.dates import show_date
from conversations.worksheet.parsing import rating_problem
from conversations.worksheet.words import prompt_text
from tests.botproc import BotProcess
from tests.e2e.helpers import begin, chart, fields, news, reply, stored, to_the_date, today
from tests.fake_telegram import BotMessage, FakeTelegram, FakeUser
from tests.faults.checks import Ledger
from tests.worksheet import chat, reflect_items

PROMPTS = reflect_items()
KEYS = [f"reflect.{item['key']}" for item in PROMPTS]
BAD_RATINGS = ["0", "11", "-1", "7.5", "purple", "٧", "０", "²", "7" * 5000]


def asks(index: int) -> Callable[[BotMessage], bool]:
    """Whether a message asks reflection prompt `index` (0-based)."""
    text = PROMPTS[index]["text"]
    return lambda m: bool(m.html and m.html.endswith(text))


def log_prompt(key: str, day: dt.date) -> str:
    """/log's prompt for one step of a session on `day`."""
    return f"{t('log.heading', date=show_date(day))}\n\n{chat(key)}"


def open_reflect(user: FakeUser) -> None:
    """Agree and open /reflect at its first prompt."""
    begin(user)
    intro, first = news(user, lambda: user.command("reflect"), 2)
    assert intro.html == t("reflect.intro") and asks(0)(first)


def log_until_trust(user: FakeUser, topic: str) -> dt.date:
    """Agree, open /log, tap Today and give a topic; returns the session's date."""
    begin(user)
    to_the_date(user)
    day = today()
    reply(user, lambda: user.press(t("log.today_button")))
    assert reply(user, lambda: user.send(topic)).html == log_prompt("log.trust", day)
    return day


def polls_of(fake: FakeTelegram) -> Callable[[], int]:
    """How many times the bot has called getUpdates so far."""
    return lambda: sum(1 for r in fake.requests if r.method == "getUpdates")


def no_errors(bot: BotProcess) -> None:
    """The bot logged no error while handling the input."""
    assert "Error while handling update" not in bot.logs()


def test_odd_written_answers_are_stored_exactly_as_typed(
    bot: BotProcess, user: FakeUser, data_dir: Path, ledger: Ledger
) -> None:
    """4096 characters ending in multi-byte emoji, RTL text with zero-width characters and
    combining marks, HTML and Markdown characters and formula-like text are each stored exactly
    as typed; empty-looking answers get a kind word, store nothing and the prompt comes again."""
    canary = ledger.canary(user)
    long_text = canary + " " + "a" * (4096 - len(canary) - 3) + "👩🏽"
    assert len(long_text) == 4096
    answers = [
        long_text,
        f"{canary} שלום עולם مرحبا \u200f\u200b\u200c\u200d e\u0301 n\u0303 Z\u0336\u0337",
        f"{canary} <b>bold</b> <script>alert(1)</script> &amp; *star* _under_ `tick` [a](b)",
        f'=HYPERLINK("http://example.invalid","x") +1 -2 @SUM(A1) {canary}',
    ]
    open_reflect(user)
    for index, answer in enumerate(answers):
        for empty in ("   ", "\n\t ", "\u3000"):
            kind_word, again = news(user, lambda e=empty: user.send(e), 2)
            assert kind_word.html == t("common.empty") and asks(index)(again)
        assert asks(index + 1)(reply(user, lambda a=answer: user.send(a)))
        ledger.acknowledged(user, KEYS[index], answer)
    assert stored(data_dir, user, "reflect.") == dict(zip(KEYS, answers, strict=False))
    no_errors(bot)


def test_special_characters_are_shown_back_escaped_and_unchanged(
    bot: BotProcess, user: FakeUser, data_dir: Path, ledger: Ledger
) -> None:
    """A chart entry whose topic and note hold HTML, Markdown, RTL and formula-like text is
    confirmed showing exactly what was typed (the fake refuses HTML that does not parse)."""
    topic = f"{ledger.canary(user)} <i>x</i> & *y* =1+1 \u202eRTL\u202c"
    role = f"{ledger.canary(user)} </b><a href='x'>z</a> e\u0301 `code`"
    day = log_until_trust(user, topic)
    reply(user, lambda: user.send("7"))
    reply(user, lambda: user.send("8"))
    done = reply(user, lambda: user.send(role))
    assert topic in done.text and role in done.text
    [row] = chart(data_dir, user)
    assert fields(row) == (day, topic, 7, 8, role, True)
    ledger.session(user, topic, trust=7, safety=8, role=role, complete=True)
    no_errors(bot)


def test_bad_ratings_are_refused_kindly_and_never_stored(
    bot: BotProcess, user: FakeUser, data_dir: Path, ledger: Ledger
) -> None:
    """0, 11, -1, 7.5, a colour, Arabic-Indic and full-width digits, a superscript and 5,000
    digits each get why it is not a rating ("above 10", "a whole number") and the same prompt
    again; nothing is stored until a real rating comes."""
    topic = ledger.canary(user)
    day = log_until_trust(user, topic)
    for bad in BAD_RATINGS:
        kind_word, again = news(user, lambda b=bad: user.send(b), 2)
        assert kind_word.html == t(rating_problem(bad) or "?"), bad[:20]
        assert again.html == log_prompt("log.trust", day)
        assert chart(data_dir, user)[0].trust is None
    assert reply(user, lambda: user.send("7")).html == log_prompt("log.safety", day)
    assert chart(data_dir, user)[0].trust == 7
    ledger.session(user, topic, trust=7, session_date=day)
    no_errors(bot)


def test_bad_dates_are_refused_kindly_and_never_stored(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    """31.02.2026, tomorrow, a date in the far past and nonsense each get a kind reason and the
    date prompt again; no chart row is made until a usable date comes."""
    begin(user)
    to_the_date(user)
    tomorrow = today() + dt.timedelta(days=1)
    far_past = dt.date(1901, 3, 4)
    cases = [
        ("31.02.2026", t("log.date_invalid")),
        (tomorrow.strftime("%d.%m.%Y"), t("log.date_future")),
        (far_past.strftime("%d.%m.%Y"), t("log.date_too_old", date=show_date(far_past))),
        ("the day after the big storm", t("log.date_invalid")),
    ]
    for text, expected in cases:
        reason, again = news(user, lambda x=text: user.send(x), 2)
        assert reason.html == expected, text
        assert again.html == prompt_text("log.date")
        assert chart(data_dir, user) == []
    assert reply(user, lambda: user.send("today")).html == log_prompt("log.topic", today())
    assert [r.session_date for r in chart(data_dir, user)] == [today()]
    no_errors(bot)


def test_forged_and_stale_buttons_change_nothing_and_reach_no_one_else(
    bot: BotProcess, user: FakeUser, user2: FakeUser, data_dir: Path, ledger: Ledger
) -> None:
    """Buttons carrying another person's chart ids, unknown prefixes, 64 bytes of junk, or from
    an earlier message are answered "out of date" (or "no longer there") and change nothing:
    the other person's row is untouched and none of their words reach this chat."""
    theirs = ledger.canary(user2)
    log_until_trust(user2, theirs)
    for step in ("trust", "safety", "role"):
        reply(user2, lambda s=step: user2.press(f"log:skip:{s}"))
    [their_row] = chart(data_dir, user2)
    ledger.session(user2, theirs, complete=True)

    open_reflect(user)
    first_prompt = user.last()
    answer = ledger.canary(user)
    assert asks(1)(reply(user, lambda: user.send(answer)))
    ledger.acknowledged(user, KEYS[0], answer)

    uid = their_row.uid
    forged = [
        f"review:entry:{uid}",
        f"review:remove:{uid}",
        f"review:fix:{uid}:trust",
        f"review:yes:s.{uid}",
        f"log:new:{today()}x",
        "zz:unknown:1",
        os.urandom(32).hex(),
        "reflect:skip:ask.q1",  # a real button, but for a prompt already answered
    ]
    for data in forged:
        pressed = user.press_data(data)
        user.wait_callback_answer(pressed)
    # The Skip on the first prompt's own message, pressed again: out of date too.
    user.wait_callback_answer(user.press_data("reflect:skip:ask.q1", first_prompt))
    user2.wait_no_reply(user2.mark(), 0.5)
    assert chart(data_dir, user2) == [their_row]
    assert theirs not in "\n".join(m.text for m in user.events())
    assert stored(data_dir, user, "reflect.") == {KEYS[0]: answer}
    # The second prompt is still the one waiting.
    second = ledger.canary(user)
    assert asks(2)(reply(user, lambda: user.send(second)))
    ledger.acknowledged(user, KEYS[1], second)
    no_errors(bot)


def test_the_same_button_twice_within_50_ms_and_the_same_update_twice(
    bot: BotProcess, fake: FakeTelegram, user: FakeUser, data_dir: Path, ledger: Ledger
) -> None:
    """The "Today" button pressed twice back to back makes one chart row; an answer whose
    update Telegram delivers again and again is stored once and moves the prompt on once."""
    begin(user)
    date_prompt = to_the_date(user)
    user.press(t("log.today_button"), date_prompt)
    user.press(t("log.today_button"), date_prompt)
    user.wait_for(lambda m: m.html == log_prompt("log.topic", today()))
    fake.wait_idle()
    assert len(chart(data_dir, user)) == 1

    topic = ledger.canary(user)
    polls = polls_of(fake)
    fake.withhold_confirmations()
    try:
        mark = user.mark()
        user.send(topic)
        user.wait_for(lambda m: m.html == log_prompt("log.trust", today()), after=mark)
        # Two more polls: the unconfirmed answer is delivered again each time.
        enough = polls() + 2
        assert fake.world.wait_until(lambda: polls() >= enough or None, 15.0)
    finally:
        fake.withhold_confirmations(False)
    fake.wait_idle()
    prompts = [m for m in user.events(mark) if m.event == "new"]
    assert [m.html for m in prompts] == [log_prompt("log.trust", today())]
    [row] = chart(data_dir, user)
    assert row.topic == topic
    ledger.session(user, topic, session_date=today())
    no_errors(bot)


def test_edits_media_and_commands_in_the_middle_of_a_section(
    bot: BotProcess, user: FakeUser, data_dir: Path, ledger: Ledger
) -> None:
    """An edited answer replaces the stored one; an edit of something else is explained; a
    photo, a sticker or a voice note where text is expected asks for text and stores nothing;
    a command in the middle leaves the section, keeps every answer, and the next message is not
    taken as an answer."""
    open_reflect(user)
    first = ledger.canary(user)
    mark = user.mark()
    message_id = user.send(first)
    user.wait_for(asks(1), after=mark)

    edited = ledger.canary(user) + " (edited)"
    mark = user.mark()
    user.edit(message_id, edited)
    assert user.wait_reply(mark).html == t("errors.edited_saved")
    ledger.acknowledged(user, KEYS[0], edited)

    for act in (user.send_photo, user.send_sticker, user.send_voice):
        word, again = news(user, act, 2)
        assert word.html == t("common.expect_text") and asks(1)(again)
    assert stored(data_dir, user, "reflect.") == {KEYS[0]: edited}

    help_reply = reply(user, lambda: user.command("help"))
    assert not asks(1)(help_reply) and not asks(2)(help_reply)
    stray = ledger.canary(user)
    mark = user.mark()
    stray_id = user.send(stray)
    assert user.wait_reply(mark).html == t("errors.not_understood")
    mark = user.mark()
    user.edit(stray_id, stray + " again")
    assert user.wait_reply(mark).html == t("errors.edited")
    assert stored(data_dir, user, "reflect.") == {KEYS[0]: edited}
    no_errors(bot)
