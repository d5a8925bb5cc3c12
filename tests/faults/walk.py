"""Walking through /reflect in the fault tests: each answer is a canary the ledger remembers."""

from __future__ import annotations

from collections.abc import Callable

from tests import worksheet as reflect
from tests.e2e.helpers import begin
from tests.fake_telegram import BotMessage, FakeUser
from tests.faults.checks import Ledger


def asks(key: str) -> Callable[[BotMessage], bool]:
    """Whether a message is the reflection prompt for `key`."""
    words = next(p.text for p in reflect.prompts() if p.key == key)
    return lambda m: m.event == "new" and m.html == words


def open_reflect(user: FakeUser) -> None:
    """Agree, open /reflect and wait for its first question."""
    begin(user)
    mark = user.mark()
    user.command("reflect")
    user.wait_for(asks("q1"), after=mark)


def answer(user: FakeUser, ledger: Ledger, key: str, next_key: str) -> str:
    """Type a canary answer to `key`; the next question acknowledges it."""
    text = ledger.canary(user)
    mark = user.mark()
    user.send(text)
    user.wait_for(asks(next_key), after=mark)
    ledger.acknowledged(user, f"reflect.{key}", text)
    return text
