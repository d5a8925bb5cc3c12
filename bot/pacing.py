"""Sending under Telegram's limits: one window for every send, bulk in order, 429s per chat.

Telegram allows about 30 messages per second overall and, in a burst, about one per second per
chat. One sliding one-second window counts every message the bot sends, replies and bulk alike
(reminders and weekly summaries are "bulk": nobody is waiting for them), from the moment it is
let go until a second after its answer came. A reply goes as soon as the window has room, and
when it is full takes the next place to come free, before any bulk. Bulk never takes the last
few places (a reserve for replies), is spread evenly over the second rather than sent in clumps,
keeps one second between messages to one chat, and is handed out by one dispatcher in the order
it arrived (reminders arrive in due order). So there is no 429 from the bot's own pace, and no
reply waits behind bulk: at most for the next place, a few dozen milliseconds while bulk runs.

A 429 from a call to one chat delays that chat's sends by its `retry_after` (the call is then
sent again); other chats go on. A 429 from a call without a chat pauses every send.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import math
import time
from collections import deque
from collections.abc import Callable, Coroutine, Hashable
from dataclasses import dataclass, field
from typing import Any, TypedDict

from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import BaseRateLimiter

logger = logging.getLogger(__name__)

Result = bool | dict[str, Any] | list[dict[str, Any]]

LIMIT = 30  # messages in any one second, Telegram's overall limit
RESERVE = 2  # of those, kept from bulk for replies (one reply step is up to two messages)
PER_CHAT = 1.0  # seconds between bulk messages to one chat
# A send stays in the window from the moment it is let go until a second after its answer came
# (Telegram counted it somewhere in between), and a little longer for the timers' jitter.
SPAN = 1.01
COUNTED = ("send", "edit", "copy", "forward")  # the calls Telegram's message limits count


def _seconds(value: float | dt.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


def is_message(endpoint: str) -> bool:
    """Whether a Bot API call is a message that Telegram's limits count."""
    return endpoint.startswith(COUNTED)


class PaceArgs(TypedDict, total=False):
    """Per-call options: `bulk=True` for messages nobody is waiting for."""

    bulk: bool


BULK: PaceArgs = {"bulk": True}


@dataclass(eq=False, slots=True)
class Slot:
    """One send's place in the window: held from when it is let go until `until`."""

    bulk: bool
    counted: bool
    until: float = math.inf  # in flight: counted until its answer comes, and SPAN after


@dataclass(eq=False, slots=True)
class _Waiter:
    chat: Hashable | None
    bulk: bool
    counted: bool
    future: asyncio.Future[Slot] = field(repr=False)


class Window:
    """The one sliding window and the dispatcher that lets sends go (no Telegram in here).

    `acquire` waits until a send may go and returns its slot; `release` is called when the
    send's answer came. Replies are let go first, as soon as the window has room and their chat
    (and everything) is not paused by a 429; then bulk in the order it arrived, while it holds
    fewer than `limit - reserve` of the window and the whole window has room, one each
    `span / (limit - reserve)` seconds, to a chat that had no message in the last `per_chat`
    seconds. Calls that are not messages take no place, but wait out a 429 all the same. What
    waits is woken by one timer, set for the next moment something could change.
    """

    def __init__(
        self,
        *,
        limit: int = LIMIT,
        reserve: int = RESERVE,
        per_chat: float = PER_CHAT,
        span: float = SPAN,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 0 <= reserve < limit:
            raise ValueError("the reserve must leave bulk at least one slot")
        self.limit = limit
        self.reserve = reserve
        self._per_chat = per_chat
        self._span = span
        self._clock = clock
        self._slots: list[Slot] = []  # counted sends still in the window
        self._replies: deque[_Waiter] = deque()
        self._bulk: deque[_Waiter] = deque()
        self._chat_next: dict[Hashable, float] = {}  # a chat's next bulk message, not before
        self._chat_resume: dict[Hashable, float] = {}  # a chat's 429: nothing to it before
        self._resume_at = 0.0  # a 429 without a chat: nothing at all before
        # Bulk is spread over the window, not sent in clumps: a clump leaves the window all at
        # once a second later, so a reply that finds the window full would wait for it.
        self._spacing = span / (limit - reserve)
        self._bulk_next = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = math.inf

    # What senders call ---------------------------------------------------------------------

    async def acquire(
        self, chat: Hashable | None = None, *, bulk: bool = False, counted: bool = True
    ) -> Slot:
        """Wait until a send to `chat` may go; the returned slot must be released after it."""
        future = self.request(chat, bulk=bulk, counted=counted)
        try:
            return await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.release(future.result())  # let go, but its sender is gone
            raise

    def request(
        self, chat: Hashable | None = None, *, bulk: bool = False, counted: bool = True
    ) -> asyncio.Future[Slot]:
        """Queue a send; its future is done (with its slot) when it may go."""
        future: asyncio.Future[Slot] = asyncio.get_running_loop().create_future()
        waiter = _Waiter(chat, bulk, counted, future)
        (self._bulk if bulk else self._replies).append(waiter)
        self.dispatch()
        return future

    def release(self, slot: Slot) -> None:
        """The send's answer came (or it failed): it leaves the window `span` from now."""
        if slot.until == math.inf:
            slot.until = self._clock() + self._span
            if slot.counted:
                self.dispatch()

    def pause_chat(self, chat: Hashable | None, seconds: float) -> None:
        """Telegram's 429 for a call to `chat`: nothing more to it for `seconds` (no chat: to
        nobody)."""
        until = self._clock() + max(0.0, seconds)
        if chat is None:
            self._resume_at = max(self._resume_at, until)
        else:
            self._chat_resume[chat] = max(self._chat_resume.get(chat, 0.0), until)
        self.dispatch()

    def close(self) -> None:
        """Stop the timer (the bot is shutting down)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer, self._timer_at = None, math.inf

    # What the window holds -------------------------------------------------------------------

    def in_window(self) -> tuple[int, int]:
        """(all sends, bulk sends) in the window now."""
        now = self._clock()
        self._slots = [slot for slot in self._slots if slot.until > now]
        return len(self._slots), sum(1 for slot in self._slots if slot.bulk)

    def waiting(self) -> int:
        """How many sends wait (replies and bulk)."""
        return sum(1 for w in (*self._replies, *self._bulk) if not w.future.done())

    # The dispatcher ----------------------------------------------------------------------------

    def _ready_at(self, waiter: _Waiter, now: float) -> float:
        """When the waiter's chat (and everything) may be sent to again (<= now: it may)."""
        ready = self._resume_at
        chat = waiter.chat
        if chat is not None:
            ready = max(ready, self._chat_resume.get(chat, 0.0))
            if waiter.bulk:
                ready = max(ready, self._chat_next.get(chat, 0.0))
        return ready

    def _grant(self, waiter: _Waiter, now: float) -> None:
        slot = Slot(waiter.bulk, waiter.counted)
        if waiter.counted:
            self._slots.append(slot)
            if waiter.chat is not None:
                chat_next = now + self._per_chat
                self._chat_next[waiter.chat] = max(self._chat_next.get(waiter.chat, 0), chat_next)
        waiter.future.set_result(slot)

    def dispatch(self) -> None:
        """Let go every send that may go now, replies first; set the timer for the rest."""
        now = self._clock()
        total, bulk = self.in_window()
        wake = math.inf  # the next moment a paused chat or the window could let one go
        blocked_by_room = False

        kept: deque[_Waiter] = deque()
        for waiter in self._replies:
            if waiter.future.done():  # cancelled
                continue
            ready = self._ready_at(waiter, now)
            if ready > now:
                wake = min(wake, ready)
            elif waiter.counted and total >= self.limit:
                blocked_by_room = True
            else:
                self._grant(waiter, now)
                total += waiter.counted
                continue
            kept.append(waiter)
        self._replies = kept

        # Bulk in order of arrival, evenly spaced: one whose chat is not ready keeps its place
        # but does not hold up those behind it. Only the front is looked at while there is room.
        skipped: list[_Waiter] = []
        share = self.limit - self.reserve
        while self._bulk:
            waiter = self._bulk[0]
            if waiter.future.done():
                self._bulk.popleft()
                continue
            if waiter.counted:
                if total >= self.limit or bulk >= share:
                    blocked_by_room = True
                    break
                if self._bulk_next > now:
                    wake = min(wake, self._bulk_next)
                    break
            self._bulk.popleft()
            ready = self._ready_at(waiter, now)
            if ready > now:
                wake = min(wake, ready)
                skipped.append(waiter)
                continue
            self._grant(waiter, now)
            if waiter.counted:
                total += 1
                bulk += 1
                # The next bulk send a spacing later; after a late timer, half a spacing.
                self._bulk_next = max(self._bulk_next, now - self._spacing / 2) + self._spacing
        self._bulk.extendleft(reversed(skipped))

        if blocked_by_room:
            # In-flight sends wake the dispatcher by their release; sent ones by leaving.
            leaving = [slot.until for slot in self._slots if slot.until != math.inf]
            if leaving:
                wake = min(wake, min(leaving))
        self._prune(now)
        self._set_timer(wake, now)

    def _prune(self, now: float) -> None:
        if len(self._chat_next) > 10_000:
            self._chat_next = {c: t for c, t in self._chat_next.items() if t > now}
        if len(self._chat_resume) > 1_000:
            self._chat_resume = {c: t for c, t in self._chat_resume.items() if t > now}

    def _set_timer(self, wake: float, now: float) -> None:
        if wake == self._timer_at:
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer, self._timer_at = None, math.inf
        if wake != math.inf:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(max(0.0, wake - now), self._on_timer)
            self._timer_at = wake

    def _on_timer(self) -> None:
        self._timer, self._timer_at = None, math.inf
        self.dispatch()


class Pacer(BaseRateLimiter[PaceArgs]):
    """PTB's rate limiter for the bot: every call through the Window; 429s and brief network
    errors retried (bulk only for the latter: a reply that timed out may have arrived)."""

    def __init__(
        self,
        *,
        limit: int = LIMIT,
        reserve: int = RESERVE,
        per_chat_interval: float = PER_CHAT,
        max_retries: int = 4,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.window = Window(limit=limit, reserve=reserve, per_chat=per_chat_interval, clock=clock)
        self._max_retries = max_retries

    async def initialize(self) -> None:
        """Nothing to prepare."""

    async def shutdown(self) -> None:
        """Stop the window's timer."""
        self.window.close()

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Result]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: PaceArgs | None,
    ) -> Result:
        """Send one request when the window lets it, retried on 429 and brief network errors."""
        bulk = bool(rate_limit_args and rate_limit_args.get("bulk"))
        chat = data.get("chat_id")
        message = is_message(endpoint)
        for attempt in range(self._max_retries + 1):
            slot = await self.window.acquire(chat, bulk=bulk, counted=message)
            try:
                try:
                    return await callback(*args, **kwargs)
                finally:
                    self.window.release(slot)
            except RetryAfter as error:
                delay = _seconds(error.retry_after)
                self.window.pause_chat(chat, delay)
                logger.warning(
                    "Telegram asked to wait %.1f s (%s, %s)",
                    delay,
                    endpoint,
                    "one chat" if chat is not None else "every chat",
                )
                if attempt == self._max_retries:
                    raise
            except (BadRequest, Forbidden):
                raise
            except (TimedOut, NetworkError) as error:
                if not bulk or attempt == self._max_retries:
                    raise
                logger.warning("Retrying %s after %s", endpoint, type(error).__name__)
                await asyncio.sleep(min(2.0**attempt, 30.0))
        raise AssertionError("unreachable")  # pragma: no cover
