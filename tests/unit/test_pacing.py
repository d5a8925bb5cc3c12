"""The pacer: bulk sends evenly spaced and one per chat per second; replies not queued; 429s."""

from __future__ import annotations

from typing import Any

import pytest
from telegram.error import Forbidden, RetryAfter, TimedOut

from bot.pacing import BULK, Pacer


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_bulk_slots_are_evenly_spaced_under_the_overall_limit() -> None:
    clock = Clock()
    pacer = Pacer(per_second=28.6, clock=clock)
    waits = [pacer._take_slot(chat) for chat in range(60)]
    starts = [clock.now + w for w in waits]
    # Any one-second window holds at most 29 sends.
    assert max(sum(1 for s in starts if t <= s < t + 1.0) for t in starts) <= 29
    assert waits[0] == 0.0
    assert waits[1] == pytest.approx(1 / 28.6)


def test_one_chat_gets_at_most_one_bulk_message_per_second() -> None:
    clock = Clock()
    pacer = Pacer(per_second=28.6, clock=clock)
    assert pacer._take_slot(7) == 0.0
    assert pacer._chat_wait(7) == pytest.approx(1.0)
    # Another chat is not held up by the first one's second message.
    assert pacer._chat_wait(8) == 0.0
    assert pacer._take_slot(8) == pytest.approx(1 / 28.6)


def test_a_reply_is_not_queued_but_takes_the_next_bulk_slot() -> None:
    clock = Clock()
    pacer = Pacer(per_second=10, clock=clock)
    for chat in range(50):
        pacer._take_slot(chat)  # a burst is queued for the next five seconds
    before = pacer._next_slot
    pacer._push_back()
    assert pacer._next_slot == pytest.approx(before + 0.1)


async def test_retry_after_is_honoured_and_the_send_retried() -> None:
    pacer = Pacer()
    calls: list[int] = []

    async def send(*_: Any, **__: Any) -> dict[str, Any]:
        calls.append(1)
        if len(calls) < 3:
            raise RetryAfter(0)
        return {"ok": True}

    result = await pacer.process_request(send, (), {}, "sendMessage", {"chat_id": 1}, BULK)
    assert result == {"ok": True}
    assert len(calls) == 3


async def test_forbidden_is_not_retried_and_retries_are_bounded() -> None:
    pacer = Pacer(max_retries=2)
    calls: list[int] = []

    async def blocked(*_: Any, **__: Any) -> bool:
        calls.append(1)
        raise Forbidden("Forbidden: bot was blocked by the user")

    with pytest.raises(Forbidden):
        await pacer.process_request(blocked, (), {}, "sendMessage", {"chat_id": 1}, BULK)
    assert len(calls) == 1

    async def always_429(*_: Any, **__: Any) -> bool:
        calls.append(1)
        raise RetryAfter(0)

    calls.clear()
    with pytest.raises(RetryAfter):
        await pacer.process_request(always_429, (), {}, "sendMessage", {"chat_id": 1}, None)
    assert len(calls) == 3


async def test_a_reply_that_times_out_is_not_sent_again() -> None:
    pacer = Pacer()
    calls: list[int] = []

    async def slow(*_: Any, **__: Any) -> bool:
        calls.append(1)
        raise TimedOut()

    with pytest.raises(TimedOut):
        await pacer.process_request(slow, (), {}, "sendMessage", {"chat_id": 1}, None)
    assert len(calls) == 1


def test_no_more_than_the_limit_of_sends_in_any_second_even_after_a_late_wake_up() -> None:
    clock = Clock()
    pacer = Pacer(per_second=28.6, window_limit=29, clock=clock)
    # The event loop woke late: 40 bulk sends whose slots have all passed want to go now.
    for _ in range(29):
        assert pacer._window_wait() == 0.0
        pacer._record("sendMessage")
    assert pacer._window_wait() == pytest.approx(1.02)
    pacer._record("answerCallbackQuery")  # not a message: not counted
    clock.now += 1.03
    assert pacer._window_wait() == 0.0
