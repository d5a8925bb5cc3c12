"""Webhook delivery: while a webhook is set, pending updates are POSTed to it as Telegram does.

One request at a time per chat, in update order (different chats in parallel, at most
max_connections at once); an update leaves the queue when the bot answers 2xx, otherwise it is
tried again after a short back-off that grows from 0.2 s to 2 s, for as long as the webhook is set.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass

import aiohttp

from .models import JsonDict
from .state import World

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
DEFAULT_MAX_CONNECTIONS = 40
FIRST_BACKOFF = 0.2
MAX_BACKOFF = 2.0
REQUEST_TIMEOUT = 30.0
# Safety net: the dispatcher looks at the queue at least this often even without a wake-up.
RESCAN_SECONDS = 0.5


@dataclass(frozen=True)
class WebhookDelivery:
    """One attempt to POST an update to the webhook, and what came of it."""

    update_id: int
    url: str
    time: float
    status: int | None
    error: str | None
    secret_sent: bool

    @property
    def ok(self) -> bool:
        """Whether the bot answered 2xx (the update left the queue)."""
        return self.status is not None and 200 <= self.status < 300


def chat_key(update: JsonDict) -> int | str:
    """Updates of one chat are delivered one at a time and in order; this is the chat."""
    body = next(value for key, value in update.items() if key != "update_id")
    if isinstance(body, dict):
        message = body.get("message")
        for holder in (body, message if isinstance(message, dict) else {}):
            chat = holder.get("chat")
            if isinstance(chat, dict) and isinstance(chat.get("id"), int):
                return int(chat["id"])
        sender = body.get("from")
        if isinstance(sender, dict) and isinstance(sender.get("id"), int):
            return int(sender["id"])
    return f"update-{update['update_id']}"


class WebhookDeliverer:
    """Runs on the fake server's event loop; wake() after the queue or the webhook changed."""

    def __init__(self, world: World) -> None:
        """Idle until start()."""
        self.world = world
        self.deliveries: list[WebhookDelivery] = []
        self._wakeup: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._workers: dict[int | str, asyncio.Task[None]] = {}
        self._session: aiohttp.ClientSession | None = None
        self._slots: asyncio.Semaphore | None = None
        self._slot_count = 0
        self._stopping = False

    async def start(self) -> None:
        """Start the dispatcher (on the running loop)."""
        self._wakeup = asyncio.Event()
        timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
        self._session = aiohttp.ClientSession(timeout=timeout)
        self._task = asyncio.get_running_loop().create_task(self._dispatch())

    async def stop(self) -> None:
        """Cancel the dispatcher and every delivery in flight."""
        self._stopping = True
        tasks = [t for t in (self._task, *self._workers.values()) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._workers.clear()
        if self._session is not None:
            await self._session.close()

    def wake(self) -> None:
        """Look at the queue again (runs on the loop)."""
        if self._wakeup is not None:
            self._wakeup.set()

    async def _dispatch(self) -> None:
        """Give every chat with pending updates a worker while the webhook is set."""
        assert self._wakeup is not None
        while not self._stopping:
            self._wakeup.clear()
            for key in self._pending_chats():
                if key not in self._workers:
                    task = asyncio.get_running_loop().create_task(self._work(key))
                    self._workers[key] = task
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(RESCAN_SECONDS):
                    await self._wakeup.wait()

    def _pending_chats(self) -> list[int | str]:
        """Chats with deliverable updates, oldest first ([] while no webhook is set)."""
        with self.world.cond:
            if not self.world.webhook.get("url"):
                return []
            keys = dict.fromkeys(
                chat_key(u) for u in self.world.take_updates(len(self.world.updates))
            )
            return list(keys)

    def _next_update(self, key: int | str) -> tuple[JsonDict, JsonDict] | None:
        """The webhook settings and the oldest pending update of one chat, if any."""
        with self.world.cond:
            hook = dict(self.world.webhook)
            if not hook.get("url"):
                return None
            for update in self.world.take_updates(len(self.world.updates)):
                if chat_key(update) == key:
                    return hook, update
            return None

    def _slots_for(self, hook: JsonDict) -> asyncio.Semaphore:
        """The semaphore limiting parallel requests to the webhook's max_connections."""
        wanted = hook.get("max_connections")
        count = wanted if isinstance(wanted, int) and wanted > 0 else DEFAULT_MAX_CONNECTIONS
        if self._slots is None or count != self._slot_count:
            self._slots, self._slot_count = asyncio.Semaphore(count), count
        return self._slots

    async def _work(self, key: int | str) -> None:
        """Deliver one chat's updates in order until none is left or the webhook is gone."""
        backoff = 0.0
        try:
            while not self._stopping:
                found = self._next_update(key)
                if found is None:
                    return
                hook, update = found
                async with self._slots_for(hook):
                    delivery = await self._post(hook, update)
                self._record(delivery)
                if delivery.ok:
                    backoff = 0.0
                    continue
                backoff = min(MAX_BACKOFF, max(FIRST_BACKOFF, backoff * 2))
                await asyncio.sleep(backoff)
        finally:
            if self._workers.get(key) is asyncio.current_task():
                del self._workers[key]

    async def _post(self, hook: JsonDict, update: JsonDict) -> WebhookDelivery:
        """One POST of an update to the webhook URL."""
        assert self._session is not None
        url = str(hook["url"])
        headers = {"Content-Type": "application/json"}
        secret = hook.get("secret_token")
        if secret:
            headers[SECRET_HEADER] = str(secret)
        status: int | None = None
        error: str | None = None
        try:
            async with self._session.post(url, data=json.dumps(update), headers=headers) as reply:
                status = reply.status
                if not 200 <= status < 300:
                    error = f"Wrong response from the webhook: {status} {reply.reason or ''}"
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            error = f"Connection failed: {type(exc).__name__}"
        return WebhookDelivery(
            int(update["update_id"]), url, time.time(), status, error, bool(secret)
        )

    def _record(self, delivery: WebhookDelivery) -> None:
        """Log the attempt; on 2xx the update leaves the queue, otherwise note the error."""
        with self.world.cond:
            self.deliveries.append(delivery)
            if delivery.ok:
                self.world.updates = [
                    u for u in self.world.updates if u["update_id"] != delivery.update_id
                ]
            elif self.world.webhook.get("url"):
                self.world.webhook["last_error_date"] = int(delivery.time)
                self.world.webhook["last_error_message"] = delivery.error
            self.world.cond.notify_all()
