"""The pacer: one window for every send, bulk in order and spread, replies first, 429s per chat.

The window is driven by a clock the test moves by hand and by calling its dispatcher, as its own
timer would; nothing here waits for real time.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from telegram.error import Forbidden, RetryAfter, TimedOut

from bot.pacing import BULK, Pacer, Slot, Window, is_message


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Sent:
    """One send the window let go: what it was and when."""

    name: str
    at: float
    bulk: bool


@dataclass
class Run:
    """A window, its clock, and the sends asked for and let go so far (in the order let go)."""

    window: Window
    clock: Clock
    latency: float = 0.0  # how long each send's answer takes
    asked: dict[str, asyncio.Future[Slot]] = field(default_factory=dict)
    sent: list[Sent] = field(default_factory=list)
    _answers: list[tuple[float, Slot]] = field(default_factory=list)

    async def ask(
        self, name: str, chat: int | None, *, bulk: bool = False, counted: bool = True
    ) -> None:
        future = self.window.request(chat, bulk=bulk, counted=counted)
        self.asked[name] = future
        future.add_done_callback(lambda done: self._let_go(name, bulk, done))
        await asyncio.sleep(0)  # the callbacks of what was let go run, in the order let go

    def _let_go(self, name: str, bulk: bool, future: asyncio.Future[Slot]) -> None:
        """Note a send let go; its answer comes `latency` later."""
        if not future.cancelled():
            self.sent.append(Sent(name, self.clock.now, bulk))
            self._answers.append((self.clock.now + self.latency, future.result()))

    async def advance(self, seconds: float, step: float = 0.001) -> None:
        """Move the clock on in small steps, answering sends and dispatching as the timer would."""
        end = self.clock.now + seconds
        while self.clock.now < end - 1e-9:
            self.clock.now = min(end, self.clock.now + step)
            for answer in [a for a in self._answers if a[0] <= self.clock.now]:
                self._answers.remove(answer)
                self.window.release(answer[1])
            self.window.dispatch()
            await asyncio.sleep(0)

    def names(self, *, bulk: bool | None = None) -> list[str]:
        return [s.name for s in self.sent if bulk is None or s.bulk == bulk]

    def pending(self) -> set[str]:
        return {name for name, future in self.asked.items() if not future.done()}


@pytest.fixture
def run() -> Iterator[Run]:
    clock = Clock()
    window = Window(limit=10, reserve=2, per_chat=1.0, span=1.0, clock=clock)
    yield Run(window, clock)
    window.close()


def most_in_any_second(times: list[float]) -> int:
    """The most of these moments in any one-second window [t, t + 1)."""
    times = sorted(times)
    return max((sum(1 for s in times if t <= s < t + 1.0 - 1e-9) for t in times), default=0)


async def test_every_send_counts_in_one_window_and_bulk_leaves_the_reserve(run: Run) -> None:
    run.latency = 0.05
    for chat in range(40):
        await run.ask(f"bulk{chat}", chat, bulk=True)
    await run.advance(0.5)
    await run.ask("reply1", 1000)
    await run.ask("reply2", 1000)
    await run.advance(0.3)
    await run.ask("reply3", 1001)
    await run.advance(5.0)
    assert run.pending() == set()
    everything = [s.at for s in run.sent]
    bulk = [s.at for s in run.sent if s.bulk]
    # Replies and bulk together never more than the limit in any second; bulk alone never into
    # the replies' reserve. A send stays in the window until a second after its answer came.
    assert most_in_any_second(everything) <= 10
    assert most_in_any_second(bulk) <= 8
    # Bulk in the order it came, spread over the window (not sent in one clump): at least half
    # a spacing (a second / 8) apart.
    assert run.names(bulk=True) == [f"bulk{chat}" for chat in range(40)]
    assert min(later - earlier for earlier, later in itertools.pairwise(bulk)) >= 1 / 16 - 1e-9


async def test_a_reply_goes_at_once_while_bulk_fills_its_share(run: Run) -> None:
    for chat in range(20):
        await run.ask(f"bulk{chat}", chat, bulk=True)
    await run.advance(0.95)  # bulk has taken its 8 of the 10
    assert len(run.names(bulk=True)) == 8
    await run.ask("reply", 1000)
    await run.ask("reply, second message", 1000)
    assert run.names()[-2:] == ["reply", "reply, second message"]


async def test_a_reply_takes_the_next_free_place_before_bulk(run: Run) -> None:
    for chat in range(30):
        await run.ask(f"bulk{chat}", chat, bulk=True)
    await run.advance(0.95)
    await run.ask("reply1", 1000)
    await run.ask("reply2", 1000)
    await run.ask("reply3", 1001)  # the window is full: this one waits
    assert run.pending() >= {"reply3"}
    await run.advance(0.2)
    # The first place to come free went to the reply, not to the bulk queued before it.
    after_full = run.names()[10:]
    assert after_full[0] == "reply3"
    assert all(name.startswith("bulk") for name in after_full[1:])


async def test_one_bulk_message_a_second_per_chat_without_holding_up_other_chats(
    run: Run,
) -> None:
    await run.ask("to 7, first", 7, bulk=True)
    await run.ask("to 7, second", 7, bulk=True)
    await run.ask("to 8", 8, bulk=True)
    await run.advance(0.9)
    assert run.names() == ["to 7, first", "to 8"]
    await run.advance(0.2)
    assert run.names() == ["to 7, first", "to 8", "to 7, second"]
    seven = [s.at for s in run.sent if s.name.startswith("to 7")]
    assert seven[1] - seven[0] >= 1.0


async def test_a_429_for_one_chat_delays_that_chat_only(run: Run) -> None:
    run.window.pause_chat(7, 5.0)
    await run.ask("reply to 7", 7)
    await run.ask("bulk to 7", 7, bulk=True)
    await run.ask("reply to 8", 8)
    await run.ask("bulk to 9", 9, bulk=True)
    await run.advance(4.9)
    assert run.names() == ["reply to 8", "bulk to 9"]
    await run.advance(0.2)
    assert run.names() == ["reply to 8", "bulk to 9", "reply to 7"]
    # Bulk to 7 then keeps one second from the reply, as it would from any message to 7.
    await run.advance(1.0)
    assert run.names() == ["reply to 8", "bulk to 9", "reply to 7", "bulk to 7"]


async def test_a_429_without_a_chat_pauses_every_send(run: Run) -> None:
    run.window.pause_chat(None, 3.0)
    await run.ask("reply to 8", 8)
    await run.ask("bulk to 9", 9, bulk=True)
    await run.ask("a call without a chat", None, counted=False)
    await run.advance(2.9)
    assert run.names() == []
    await run.advance(0.2)
    assert set(run.names()) == {"reply to 8", "bulk to 9", "a call without a chat"}


async def test_calls_that_are_not_messages_take_no_place_in_the_window(run: Run) -> None:
    for chat in range(10):
        await run.ask(f"reply{chat}", chat)
    await run.ask("one more reply", 99)
    await run.ask("answerCallbackQuery", None, counted=False)
    assert run.pending() == {"one more reply"}
    assert run.window.in_window() == (10, 0)
    assert is_message("sendMessage") and is_message("editMessageReplyMarkup")
    assert not is_message("answerCallbackQuery") and not is_message("getMe")


async def test_a_sender_that_gives_up_leaves_no_place_taken(run: Run) -> None:
    for chat in range(10):
        await run.ask(f"reply{chat}", chat)
    gave_up = asyncio.ensure_future(run.window.acquire(50))
    await asyncio.sleep(0)
    assert run.window.waiting() == 1
    gave_up.cancel()
    with pytest.raises(asyncio.CancelledError):
        await gave_up
    assert run.window.waiting() == 0

    # Let go the moment its sender gave up: the place is given back at once.
    too_late = asyncio.ensure_future(run.window.acquire(51))
    await asyncio.sleep(0)
    for slot in [future.result() for future in run.asked.values()]:
        run.window.release(slot)
    run.clock.now += 1.5
    run.window.dispatch()  # lets 51 go ...
    too_late.cancel()  # ... but its sender is cancelled before it runs
    with pytest.raises(asyncio.CancelledError):
        await too_late
    run.clock.now += 1.01
    assert run.window.in_window() == (0, 0)


# The pacer around the window: retries ---------------------------------------------------------


async def test_a_429_for_one_chat_is_waited_out_there_while_other_chats_go_on() -> None:
    pacer = Pacer()
    calls: list[str] = []
    limited = asyncio.Event()

    async def to_one(*_: Any, **__: Any) -> dict[str, Any]:
        calls.append("one")
        limited.set()
        raise RetryAfter(60)

    async def to_two(*_: Any, **__: Any) -> dict[str, Any]:
        calls.append("two")
        return {"ok": True}

    waiting = asyncio.ensure_future(
        pacer.process_request(to_one, (), {}, "sendMessage", {"chat_id": 1}, None)
    )
    await limited.wait()
    await asyncio.sleep(0)  # the 429 is taken in and the call queued again
    result = await pacer.process_request(to_two, (), {}, "sendMessage", {"chat_id": 2}, None)
    bulk = await pacer.process_request(to_two, (), {}, "sendMessage", {"chat_id": 3}, BULK)
    assert result == bulk == {"ok": True}
    assert calls == ["one", "two", "two"]
    assert not waiting.done() and pacer.window.waiting() == 1  # chat 1's retry, in an hour
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    await pacer.shutdown()


async def test_a_429_without_a_chat_holds_every_chat() -> None:
    pacer = Pacer()
    calls: list[str] = []
    limited = asyncio.Event()

    async def no_chat(*_: Any, **__: Any) -> bool:
        calls.append("callback answer")
        limited.set()
        raise RetryAfter(60)

    async def to_two(*_: Any, **__: Any) -> bool:
        calls.append("two")
        return True

    first = asyncio.ensure_future(
        pacer.process_request(no_chat, (), {}, "answerCallbackQuery", {}, None)
    )
    await limited.wait()
    await asyncio.sleep(0)  # the 429 is taken in and the call queued again
    second = asyncio.ensure_future(
        pacer.process_request(to_two, (), {}, "sendMessage", {"chat_id": 2}, None)
    )
    for _ in range(20):
        await asyncio.sleep(0)
    assert calls == ["callback answer"]
    assert pacer.window.waiting() == 2
    for task in (first, second):
        task.cancel()
    await asyncio.gather(first, second, return_exceptions=True)
    await pacer.shutdown()


async def test_retry_after_is_honoured_and_the_send_retried() -> None:
    pacer = Pacer(per_chat_interval=0.0)
    calls: list[int] = []

    async def send(*_: Any, **__: Any) -> dict[str, Any]:
        calls.append(1)
        if len(calls) < 3:
            raise RetryAfter(0)
        return {"ok": True}

    result = await pacer.process_request(send, (), {}, "sendMessage", {"chat_id": 1}, BULK)
    assert result == {"ok": True}
    assert len(calls) == 3
    await pacer.shutdown()


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
    await pacer.shutdown()


async def test_a_reply_that_times_out_is_not_sent_again() -> None:
    pacer = Pacer()
    calls: list[int] = []

    async def slow(*_: Any, **__: Any) -> bool:
        calls.append(1)
        raise TimedOut()

    with pytest.raises(TimedOut):
        await pacer.process_request(slow, (), {}, "sendMessage", {"chat_id": 1}, None)
    assert len(calls) == 1
    await pacer.shutdown()
