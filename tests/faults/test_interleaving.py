"""Two and twenty people at once, each typing their own canary answers in /reflect and /log.

Every answer the bot acknowledged is stored exactly once, under its person and prompt, and
nobody's text reaches anyone else's chat or data (the after-case checks of
tests/faults/conftest.py check the store; the chats are checked here).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from conversations.worksheet.content import t
from tests import worksheet as reflect
from tests.botproc import BotProcess
from tests.e2e.helpers import to_the_date, today, until
from tests.e2e.test_interleaving import log_confirmation, log_prompt
from tests.fake_telegram import FakeTelegram, FakeUser
from tests.faults.checks import Ledger
from tests.faults.reminders import begin_all
from tests.faults.walk import asks

WAIT = 90.0
KEYS = [p.key for p in reflect.prompts()]
TRUST, SAFETY = 7, 4


def no_foreign_text(people: Sequence[FakeUser], ledger: Ledger) -> None:
    """No chat shows a canary another person typed."""
    for person in people:
        seen = "\n".join(event.text for event in person.events())
        for owner, phrases in ledger.canaries.items():
            if owner != person.user_id:
                leaked = [phrase for phrase in phrases if phrase in seen]
                assert not leaked, f"{leaked} reached chat {person.chat_id}"


def log_entry(user: FakeUser, ledger: Ledger) -> None:
    """/log, step by step, each step acknowledged by the next prompt; the entry by its summary."""
    day = today()
    topic, role = ledger.canary(user), ledger.canary(user)
    to_the_date(user)
    steps = [
        ("today", "log.topic"),
        (topic, "log.trust"),
        (str(TRUST), "log.safety"),
        (str(SAFETY), "log.role"),
    ]
    for typed, prompt in steps:
        until(
            user,
            lambda s=typed: user.send(s),
            lambda m, p=prompt: m.html == log_prompt(p, day),
            WAIT,
        )
    saved = log_confirmation(day, (topic, TRUST, SAFETY, role))
    until(user, lambda: user.send(role), lambda m: m.html == saved, WAIT)
    ledger.session(
        user, topic, session_date=day, trust=TRUST, safety=SAFETY, role=role, complete=True
    )


def reflect_and_log(user: FakeUser, ledger: Ledger, answers: int) -> None:
    """One person's own pace: the first `answers` reflections, each acknowledged by the next
    question, then a session chart entry."""
    until(user, lambda: user.command("reflect"), asks("q1"), WAIT)
    for key, next_key in itertools.pairwise(KEYS[: answers + 1]):
        text = ledger.canary(user)
        until(user, lambda s=text: user.send(s), asks(next_key), WAIT)
        ledger.acknowledged(user, f"reflect.{key}", text)
    log_entry(user, ledger)


def test_two_people_typing_back_to_back_each_keep_only_their_own(
    bot: BotProcess, user: FakeUser, user2: FakeUser, ledger: Ledger
) -> None:
    """Two people answer all of /reflect alternately without waiting for a single reply, then
    log a session each: all ten answers of each are stored once, in their own places."""
    people = [user, user2]
    begin_all(people)
    marks = {p.user_id: p.mark() for p in people}
    for person in people:
        person.command("reflect")
    typed = {p.user_id: [ledger.canary(p) for _ in KEYS] for p in people}
    for index in range(len(KEYS)):
        for person in people:
            person.send(typed[person.user_id][index])
    for person in people:
        done = person.wait_for(
            lambda m: m.event == "new" and m.html == t("reflect.done"),
            after=marks[person.user_id],
            timeout=WAIT,
        )
        asked = [m.html for m in person.events(marks[person.user_id]) if m.event == "new"]
        assert asked[-1] == done.html and asked.count(done.html) == 1
        for key, text in zip(KEYS, typed[person.user_id], strict=True):
            ledger.acknowledged(person, f"reflect.{key}", text)
    with ThreadPoolExecutor(len(people)) as pool:
        list(pool.map(lambda p: log_entry(p, ledger), people))
    no_foreign_text(people, ledger)


def test_twenty_people_at_their_own_pace_each_keep_only_their_own(
    bot: BotProcess, fake: FakeTelegram, ledger: Ledger
) -> None:
    """Twenty people at once, each in their own thread: three reflections and a session entry
    each, every step acknowledged: all stored once, under the right person."""
    people = [fake.user(4000 + n, f"Person {n}") for n in range(20)]
    begin_all(people)
    with ThreadPoolExecutor(len(people)) as pool:
        list(pool.map(lambda p: reflect_and_log(p, ledger, 3), people))
    no_foreign_text(people, ledger)
