"""Taking updates at least once: Telegram is told an update was taken only once it was handled.

PTB's long polling confirms what it fetched with its next getUpdates call, which it makes at
once, while the handlers may still be running (waiting for the database, say). A crash then
would lose those updates: Telegram never sends a confirmed update again. So the offset of every
getUpdates call is held back at the oldest update this process has not finished handling; after
a crash Telegram sends it (and those after it) again, and the processed-update ledger keeps the
ones whose writes did commit from being taken twice. While this process runs, an update it
already has is left out of what Telegram sends again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from http import HTTPStatus

from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram._utils.types import JSONDict, ODVInput
from telegram.request import BaseRequest, RequestData
from telegram.request._requestparameter import RequestParameter

# With an update still being handled Telegram answers every poll at once with that update
# again; waiting a little for it to finish keeps that from becoming a busy loop.
HELD_WAIT = 1.0


class InFlight:
    """The updates fetched and not yet finished, and those fetched at or after the offset."""

    def __init__(self) -> None:
        self._running: set[int] = set()
        self._seen: set[int] = set()
        self._changed = asyncio.Event()
        self._waiters: dict[int, asyncio.Future[None]] = {}

    def offset(self, requested: int) -> int:
        """The offset to send: the oldest update still running, else what PTB asked for."""
        offset = min(self._running, default=requested)
        self._seen = {update_id for update_id in self._seen if update_id >= offset}
        return offset

    def fresh(self, updates: list[JSONDict]) -> list[JSONDict]:
        """The updates not fetched before (now running); repeats of held ones are left out."""
        found = []
        for update in updates:
            update_id = update.get("update_id") if isinstance(update, dict) else None
            if isinstance(update_id, int):
                if update_id in self._seen:
                    continue
                self._seen.add(update_id)
                self._running.add(update_id)
            found.append(update)
        return found

    def finished(self, update_id: int) -> None:
        """An update was handled (or failed, or was skipped): it need not be held any more."""
        self._running.discard(update_id)
        self._changed.set()
        waiter = self._waiters.pop(update_id, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def expect(self, update_id: int) -> asyncio.Future[None]:
        """A future done once this update (about to be queued by the webhook) is handled."""
        if update_id not in self._waiters:
            self._waiters[update_id] = asyncio.get_running_loop().create_future()
        return self._waiters[update_id]

    async def wait_finished(self) -> None:
        """Wait until some update finishes, at most HELD_WAIT seconds."""
        self._changed.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), HELD_WAIT)


class HeldOffsetRequest(BaseRequest):
    """The getUpdates transport: holds the offset back at the oldest unfinished update."""

    def __init__(self, inner: BaseRequest, in_flight: InFlight) -> None:
        self._inner = inner
        self._in_flight = in_flight

    @property
    def read_timeout(self) -> float | None:
        """The wrapped transport's read timeout."""
        return self._inner.read_timeout

    async def initialize(self) -> None:
        """Initialize the wrapped transport."""
        await self._inner.initialize()

    async def shutdown(self) -> None:
        """Shut the wrapped transport down."""
        await self._inner.shutdown()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Send through the wrapped transport; getUpdates with the held offset, leaving out
        updates already taken."""
        polling = request_data is not None and url.endswith("/getUpdates")
        if request_data is not None and polling:
            params = request_data.parameters
            requested = params.get("offset")
            offset = self._in_flight.offset(requested if isinstance(requested, int) else 0)
            if offset != requested and offset > 0:
                request_data = RequestData(
                    [
                        RequestParameter.from_input(name, value)
                        for name, value in {**params, "offset": offset}.items()
                    ]
                )
        status, payload = await self._inner.do_request(
            url,
            method,
            request_data,
            read_timeout=read_timeout,
            write_timeout=write_timeout,
            connect_timeout=connect_timeout,
            pool_timeout=pool_timeout,
        )
        if not polling or status != HTTPStatus.OK:
            return status, payload
        body = self.parse_json_payload(payload)
        result = body.get("result")
        if not isinstance(result, list) or not result:
            return status, payload
        fresh = self._in_flight.fresh(result)
        if len(fresh) == len(result):
            return status, payload
        if not fresh:
            await self._in_flight.wait_finished()
        return status, json.dumps({**body, "result": fresh}).encode()
