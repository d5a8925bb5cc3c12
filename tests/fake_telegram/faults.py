"""Thread-safe fault injection: forced errors, stalls, dropped connections and rate limits."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from dataclasses import dataclass

from .models import ApiError

DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


@dataclass
class _Rule:
    """Which calls a fault applies to, and how many more times."""

    method: str
    chat_id: int | None
    remaining: int | None

    def matches(self, method: str, chat_id: int | None) -> bool:
        """Whether a call to method in chat_id is affected."""
        if self.remaining is not None and self.remaining <= 0:
            return False
        if self.method not in ("*", method.lower()):
            return False
        return self.chat_id is None or self.chat_id == chat_id

    def consume(self) -> None:
        """Use up one application of the fault."""
        if self.remaining is not None:
            self.remaining -= 1


@dataclass
class _Failure(_Rule):
    """Answer matching calls with an error."""

    error: ApiError | None = None


@dataclass
class _Stall(_Rule):
    """Delay matching calls (before processing them, or, as a hold, before answering)."""

    seconds: float = 0.0


@dataclass
class _Drop(_Rule):
    """Close the connection instead of answering."""

    after_processing: bool = False


def make_error(status: int, description: str | None, retry_after: int | None) -> ApiError:
    """Build an injected error with Telegram-like defaults."""
    if status == 429:
        wait = 1 if retry_after is None else retry_after
        return ApiError(429, description or f"Too Many Requests: retry after {wait}", wait)
    text = description or DEFAULT_DESCRIPTIONS.get(status, f"Error {status}")
    return ApiError(status, text, retry_after)


class FaultInjector:
    """All active faults; safe to change from test threads while the server runs."""

    def __init__(self, send_methods: frozenset[str]) -> None:
        """Start with no faults; send_methods are the calls the rate limit counts."""
        self._lock = threading.Lock()
        self._send_methods = frozenset(m.lower() for m in send_methods)
        self._failures: list[_Failure] = []
        self._stalls: list[_Stall] = []
        self._holds: list[_Stall] = []
        self._drops: list[_Drop] = []
        self._per_second: int | None = None
        self._window: deque[float] = deque()
        self._count_429 = 0

    def add_failure(
        self, method: str, chat_id: int | None, times: int | None, error: ApiError
    ) -> None:
        """Fail the next matching calls with error."""
        with self._lock:
            self._failures.append(_Failure(method.lower(), chat_id, times, error))

    def add_stall(
        self, method: str, chat_id: int | None, times: int | None, seconds: float
    ) -> None:
        """Delay the next matching calls by seconds."""
        with self._lock:
            self._stalls.append(_Stall(method.lower(), chat_id, times, seconds))

    def add_hold(self, method: str, chat_id: int | None, times: int | None, seconds: float) -> None:
        """Process the next matching calls at once but answer them only after seconds."""
        with self._lock:
            self._holds.append(_Stall(method.lower(), chat_id, times, seconds))

    def add_drop(
        self, method: str, chat_id: int | None, times: int | None, after_processing: bool
    ) -> None:
        """Drop the connection of the next matching calls."""
        with self._lock:
            self._drops.append(_Drop(method.lower(), chat_id, times, after_processing))

    def set_rate_limit(self, per_second: int | None) -> None:
        """Limit sends per sliding second (None disables)."""
        with self._lock:
            self._per_second = per_second
            self._window.clear()

    def reset(self) -> None:
        """Remove every fault and the rate limit (the 429 counter is kept)."""
        with self._lock:
            self._failures.clear()
            self._stalls.clear()
            self._holds.clear()
            self._drops.clear()
            self._per_second = None
            self._window.clear()

    @property
    def count_429(self) -> int:
        """How many 429 responses were sent."""
        with self._lock:
            return self._count_429

    def note_status(self, status: int) -> None:
        """Count a response status."""
        if status == 429:
            with self._lock:
                self._count_429 += 1

    def take_stall(self, method: str, chat_id: int | None) -> float:
        """Seconds to delay this call (consumes the stall)."""
        with self._lock:
            rule = next((r for r in self._stalls if r.matches(method, chat_id)), None)
            if rule is None:
                return 0.0
            rule.consume()
            return rule.seconds

    def take_hold(self, method: str, chat_id: int | None) -> float:
        """Seconds to hold this call's answer after processing it (consumes the hold)."""
        with self._lock:
            rule = next((r for r in self._holds if r.matches(method, chat_id)), None)
            if rule is None:
                return 0.0
            rule.consume()
            return rule.seconds

    def take_drop(self, method: str, chat_id: int | None) -> _Drop | None:
        """Drop rule for this call, if any (consumed)."""
        with self._lock:
            rule = next((r for r in self._drops if r.matches(method, chat_id)), None)
            if rule is not None:
                rule.consume()
            return rule

    def take_failure(self, method: str, chat_id: int | None) -> ApiError | None:
        """Injected error for this call, if any (consumed)."""
        with self._lock:
            rule = next((r for r in self._failures if r.matches(method, chat_id)), None)
            if rule is None:
                return None
            rule.consume()
            return rule.error

    def check_rate(self, method: str) -> ApiError | None:
        """429 if this send exceeds the sliding one-second window, else count it."""
        if method.lower() not in self._send_methods:
            return None
        with self._lock:
            if self._per_second is None:
                return None
            now = time.monotonic()
            while self._window and now - self._window[0] >= 1.0:
                self._window.popleft()
            if len(self._window) >= self._per_second:
                wait = max(1, math.ceil(1.0 - (now - self._window[0])))
                return ApiError(429, f"Too Many Requests: retry after {wait}", wait)
            self._window.append(now)
            return None
