"""Several people at the same moment: nobody's answers, prompts or replies end up with anyone else.

The real bot handles different chats concurrently and each chat's updates in order. Messages are
sent back to back, interleaved between people, often without waiting for any reply in between;
what each person sees and what is stored for them must be exactly their own flow.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from pathlib import Path

from conversations.worksheet.content import t
from conversations.worksheet.dates import show_date
from conversations.worksheet.words import prompt_text
from tests.botproc import BotProcess
from tests.e2e.helpers import begin, chart, fields, new_messages, query, stored, to_the_date, today
from tests.fake_telegram import BotMessage, FakeTelegram, FakeUser
from tests.worksheet import chat, reflect_items

TIMEOUT = 60.0
PROMPTS = reflect_items()
KEYS = [f"reflect.{item['key']}" for item in PROMPTS]
LOG_STEPS = ["log.topic", "log.trust", "log.safety", "log.role"]


# Reading the chats ----------------------------------------------------------------------------


def asks(index: int) -> Callable[[BotMessage], bool]:
    """Whether a message asks reflection prompt `index` (0-based)."""
    text = PROMPTS[index]["text"]
    return lambda m: m.event == "new" and bool(m.html and m.html.endswith(text))


def is_html(html: str) -> Callable[[BotMessage], bool]:
    """Whether a message is new and exactly this HTML."""
    return lambda m: m.event == "new" and m.html == html


def wait(user: FakeUser, done: Callable[[BotMessage], bool], mark: int) -> BotMessage:
    """Waits (generously) for a message in a person's chat after a mark."""
    return user.wait_for(done, after=mark, timeout=TIMEOUT)


def assert_nothing_foreign(user: FakeUser, foreign: Iterable[str]) -> None:
    """No message or edit in the person's chat shows anything another person typed."""
    seen = "\n".join(event.text for event in user.events())
    for phrase in foreign:
        assert phrase not in seen, f"{phrase!r} reached chat {user.chat_id}\n{user.dump()}"


def reflection_flow(messages: list[BotMessage], answered: int, *, done: bool) -> None:
    """The messages are exactly /reflect's: the intro, one prompt per answer and the next one."""
    expected: list[Callable[[BotMessage], bool]] = [is_html(t("reflect.intro"))]
    expected += [asks(index) for index in range(min(answered + 1, len(PROMPTS)))]
    if done:
        expected.append(is_html(t("reflect.done")))
    described = [m.describe() for m in messages]
    assert len(messages) == len(expected), described
    for message, matches in zip(messages, expected, strict=True):
        assert matches(message), described


def answer_rows(data_dir: Path) -> list[tuple[int, str]]:
    """(telegram id, key) of every stored reflection, straight from the bot's database."""
    rows = query(
        data_dir,
        "SELECT person.telegram_id, answer.key FROM answer"
        " JOIN person ON person.id = answer.person_id"
        " WHERE answer.key LIKE 'reflect.%'",
    )
    return [(int(telegram_id), str(key)) for telegram_id, key in rows]


# /log's words for one entry -------------------------------------------------------------------


def log_prompt(key: str, day: dt.date) -> str:
    """A step's prompt for a session on `day`."""
    return f"{t('log.heading', date=show_date(day))}\n\n{chat(key)}"


def log_confirmation(day: dt.date, entry: tuple[str, int, int, str]) -> str:
    """The confirmation of a saved entry (what was typed, escaped)."""
    topic, trust, safety, role = entry
    return t(
        "log.saved",
        date=show_date(day),
        topic=topic,
        trust=t("log.rating_value", value=trust),
        safety=t("log.rating_value", value=safety),
        role=role,
    )


def log_flow(day: dt.date, entry: tuple[str, int, int, str]) -> list[str]:
    """What one entry shows after the date prompt: four prompts and the confirmation."""
    return [*(log_prompt(key, day) for key in LOG_STEPS), log_confirmation(day, entry)]


# Two people, step by step and back to back ----------------------------------------------------


def test_two_people_reflect_and_log_at_the_same_moment(
    bot: BotProcess, user: FakeUser, user2: FakeUser, data_dir: Path
) -> None:
    ana, ben = user, user2
    begin(ana)
    begin(ben)
    reflections = {
        ana: [f"Ana's reflection {n} <apples> & 🍎" for n in range(1, 11)],
        ben: [f"Ben's reflection {n}: «груши» 🍐" for n in range(1, 11)],
    }
    people = (ana, ben)

    # Both open /reflect at the same moment.
    marks = {person: person.mark() for person in people}
    for person in people:
        person.command("reflect")
    for person in people:
        wait(person, asks(0), marks[person])

    # The first three answers alternate one by one, each round waiting for both next prompts.
    for index in range(3):
        for person in people:
            person.send(reflections[person][index])
        for person in people:
            wait(person, asks(index + 1), marks[person])

    # The other seven alternate without any waiting at all: A, B, A, B, ...
    for index in range(3, len(PROMPTS)):
        for person in people:
            person.send(reflections[person][index])
    for person in people:
        wait(person, is_html(t("reflect.done")), marks[person])

    for person in people:
        reflection_flow(new_messages(person, marks[person]), len(PROMPTS), done=True)
        assert stored(data_dir, person, "reflect.") == dict(
            zip(KEYS, reflections[person], strict=True)
        )

    # Both open /log at the same moment and type a whole entry without waiting for any prompt
    # (ratings that get no word of care, so each confirmation is the entry alone).
    days = {ana: today(), ben: today() - dt.timedelta(days=2)}
    typed = {
        ana: ("Ana's topic <one> & more", 7, 5, "Ana's role: ask first"),
        ben: ("Ben's topic «два»", 4, 9, "Ben's role: slow down 🐢"),
    }
    dates = {ana: "today", ben: days[ben].strftime("%d.%m.%Y")}
    for person in people:  # the one-time question for a time zone, skipped, before the race
        to_the_date(person)
        mark = person.mark()
        person.command("cancel")
        person.wait_reply(mark)
    marks = {person: person.mark() for person in people}
    for person in people:
        person.command("log")
    for person in people:
        person.send(dates[person])
    for step in range(4):
        for person in people:
            person.send(str(typed[person][step]))
    firsts = {}
    for person in people:
        firsts[person] = wait(
            person, is_html(log_confirmation(days[person], typed[person])), marks[person]
        )
    for person in people:
        shown = [m.html for m in new_messages(person, marks[person])]
        assert shown == [
            t("log.intro"),
            prompt_text("log.date"),
            *log_flow(days[person], typed[person]),
        ]

    # A second entry each with the buttons: both tap, then both wait, step by step.
    days2 = {ana: today() - dt.timedelta(days=1), ben: today()}
    tapped = {
        ana: ("Ana's second topic", 5, 6, "Ana's second role"),
        ben: ("Ben's second topic", 8, 7, "Ben's second role"),
    }
    day_buttons = {ana: t("log.yesterday_button"), ben: t("log.today_button")}
    marks = {person: person.mark() for person in people}

    def both(act: Callable[[FakeUser], object], next_html: Callable[[FakeUser], str]) -> None:
        """Each person acts in turn, then each waits for the reply."""
        for person in people:
            act(person)
        for person in people:
            wait(person, is_html(next_html(person)), marks[person])

    both(
        lambda p: p.press(t("log.another_button"), firsts[p]),
        lambda p: prompt_text("log.date"),
    )
    both(
        lambda p: p.press(day_buttons[p], p.last()),
        lambda p: log_prompt("log.topic", days2[p]),
    )
    both(
        lambda p: p.send(tapped[p][0]),
        lambda p: log_prompt("log.trust", days2[p]),
    )
    both(
        lambda p: p.press(str(tapped[p][1]), p.last()),
        lambda p: log_prompt("log.safety", days2[p]),
    )
    both(
        lambda p: p.press(str(tapped[p][2]), p.last()),
        lambda p: log_prompt("log.role", days2[p]),
    )
    both(
        lambda p: p.send(tapped[p][3]),
        lambda p: log_confirmation(days2[p], tapped[p]),
    )
    for person in people:
        shown = [m.html for m in new_messages(person, marks[person])]
        assert shown == [prompt_text("log.date"), *log_flow(days2[person], tapped[person])]

    # Stored: each person's chart holds exactly their own two entries.
    for person in people:
        rows = sorted(
            [(days[person], *typed[person], True), (days2[person], *tapped[person], True)],
            key=lambda row: row[0],
        )
        assert [fields(r) for r in chart(data_dir, person)] == rows

    # Nothing one person typed ever reached the other's chat.
    def words_of(person: FakeUser) -> list[str]:
        entries = (typed[person], tapped[person])
        return [*reflections[person], *(text for e in entries for text in (e[0], e[3]))]

    assert_nothing_foreign(ana, words_of(ben))
    assert_nothing_foreign(ben, words_of(ana))
    assert stored(data_dir, ana, "reflect.") == dict(zip(KEYS, reflections[ana], strict=True))
    assert stored(data_dir, ben, "reflect.") == dict(zip(KEYS, reflections[ben], strict=True))


# Twenty people at once ------------------------------------------------------------------------


def test_twenty_people_answer_the_first_three_reflections_at_once(
    bot: BotProcess, fake: FakeTelegram, data_dir: Path
) -> None:
    people = [fake.user(2000 + i, f"Person {i}") for i in range(20)]
    for person in people:
        begin(person)

    def answer(person: FakeUser, number: int) -> str:
        return f"answer {number} of #{person.user_id}: ✓ <{number}> & Ünïcödé"

    # Everything is sent first, round by round, without waiting for a single reply...
    marks = {person.user_id: person.mark() for person in people}
    for person in people:
        person.command("reflect")
    for number in (1, 2, 3):
        for person in people:
            person.send(answer(person, number))

    # ...then every reply is waited for.
    for person in people:
        wait(person, asks(3), marks[person.user_id])
    fake.wait_idle(timeout=TIMEOUT)

    everything: list[str] = []
    for person in people:
        reflection_flow(new_messages(person, marks[person.user_id]), 3, done=False)
        answers = stored(data_dir, person, "reflect.")
        assert answers == {KEYS[n - 1]: answer(person, n) for n in (1, 2, 3)}, person.user_id
        everything += [text for text in answers.values() if text is not None]
        others = [answer(other, n) for other in people if other is not person for n in (1, 2, 3)]
        assert_nothing_foreign(person, others)

    # Every answer exactly once in the whole database, under the right person and prompt.
    expected = sorted(answer(person, n) for person in people for n in (1, 2, 3))
    assert sorted(everything) == expected
    rows = answer_rows(data_dir)
    assert sorted(rows) == sorted((p.user_id, KEYS[n - 1]) for p in people for n in (1, 2, 3))
