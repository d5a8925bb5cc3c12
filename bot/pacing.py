"""Sending under Telegram's limits: bulk messages paced evenly, replies at once, 429s honoured.

Reminders and weekly summaries are "bulk": they are spaced evenly at just under 30 messages
per second overall and at most one per second per chat. A reply to something a person just did
is never queued behind a burst; it is sent at once and takes the next bulk slot instead, so the
total stays under the limit. A 429 pauses every send for its `retry_after`, then retries.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any, TypedDict

from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import BaseRateLimiter

logger = logging.getLogger(__name__)

Result = bool | dict[str, Any] | list[dict[str, Any]]


def _seconds(value: float | dt.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


class PaceArgs(TypedDict, total=False):
    """Per-call options: `bulk=True` for messages nobody is waiting for."""

    bulk: bool


BULK: PaceArgs = {"bulk": True}
WINDOW = 1.02  # seconds, a little over Telegram's one, for clock and network jitter


class Pacer(BaseRateLimiter[PaceArgs]):
    """Paces bulk sends evenly; lets replies through; honours retry_after; retries briefly."""

    def __init__(
        self,
        *,
        per_second: float = 28.6,
        per_chat_interval: float = 1.0,
        max_retries: int = 4,
        window_limit: int = 29,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._interval = 1.0 / per_second
        self._per_chat = per_chat_interval
        self._max_retries = max_retries
        self._clock = clock
        self._next_slot = 0.0
        self._chat_next: dict[object, float] = {}
        self._resume_at = 0.0
        # Actual send times of the last second: even spacing drifts when the event loop wakes a
        # sleeper late, and a sliding window is what Telegram (and the tests' server) counts.
        self._window: deque[float] = deque()
        self._window_limit = window_limit

    async def initialize(self) -> None:
        """Nothing to prepare."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    def _chat_wait(self, chat: object) -> float:
        """How long until a chat may get its next bulk message."""
        return max(0.0, self._chat_next.get(chat, 0.0) - self._clock())

    def _take_slot(self, chat: object) -> float:
        """Reserve the next bulk slot (the chat must be ready); returns how long to wait for it."""
        now = self._clock()
        start = max(now, self._next_slot, self._resume_at)
        self._next_slot = start + self._interval
        if chat is not None:
            self._chat_next[chat] = start + self._per_chat
            if len(self._chat_next) > 10_000:
                self._chat_next = {c: t for c, t in self._chat_next.items() if t > now}
        return start - now

    def _window_wait(self) -> float:
        """How long until one more bulk message fits the last second's sends (0: now)."""
        now = self._clock()
        while self._window and self._window[0] <= now - WINDOW:
            self._window.popleft()
        if len(self._window) < self._window_limit:
            return 0.0
        return self._window[0] + WINDOW - now

    def _record(self, endpoint: str) -> None:
        """Count a message that Telegram's limit counts."""
        if endpoint.startswith(("send", "edit", "copy", "forward")):
            self._window.append(self._clock())

    def _push_back(self) -> None:
        """A reply went out at once: the next bulk message waits one slot longer."""
        self._next_slot = max(self._next_slot, self._clock()) + self._interval

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Result]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: PaceArgs | None,
    ) -> Result:
        """Send one request, paced if bulk, retried on 429 and brief network errors."""
        bulk = bool(rate_limit_args and rate_limit_args.get("bulk"))
        chat = data.get("chat_id")
        for attempt in range(self._max_retries + 1):
            if bulk:
                # A chat that is not ready waits on its own, without holding up other chats.
                while (chat_wait := self._chat_wait(chat)) > 0:  # noqa: ASYNC110 (a clock)
                    await asyncio.sleep(chat_wait)
                wait = self._take_slot(chat)
            else:
                wait = max(0.0, self._resume_at - self._clock())
                self._push_back()
            if wait > 0:
                await asyncio.sleep(wait)
            if bulk:
                while (room := self._window_wait()) > 0:  # noqa: ASYNC110 (a clock)
                    await asyncio.sleep(room)
            self._record(endpoint)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                delay = _seconds(error.retry_after)
                self._resume_at = max(self._resume_at, self._clock() + delay)
                logger.warning("Telegram asked to wait %.1f s (%s)", delay, endpoint)
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
