"""Driving an Application in-process: a Bot API answered locally, people who wait for replies.

`LocalRequest` is a `telegram.request.BaseRequest` that answers every Bot API call from memory
(optionally after a delay, the round trip), keeping each chat's messages so that a simulated
person can press a button on the message that carries it. `Tracker` hooks the application's
update processor to learn when each update has been handled (all its replies sent) and in which
order each chat's updates were handled. `Person` puts updates on `application.update_queue`, so
the application's own fetcher and concurrent update processor handle them, and waits for each to
be handled before sending the next (a closed loop).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import defaultdict
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.ext import Application
from telegram.request import BaseRequest, RequestData

from bench.common import BenchError

BOT_ID = 123456789
BOT_USER = {"id": BOT_ID, "is_bot": True, "first_name": "Bench", "username": "bench_bot"}
# Methods that put a new message in the chat.
SENDS = frozenset({"sendMessage", "sendPhoto", "sendDocument"})
EDITS = frozenset({"editMessageText", "editMessageReplyMarkup", "editMessageCaption"})


@dataclass
class Chat:
    """One private chat as the local Bot API sees it."""

    chat_id: int
    next_id: int = 1
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    sent: list[str] = field(default_factory=list)  # text of each message the bot sent

    def new_id(self) -> int:
        """The next message id in this chat (people's and the bot's messages share them)."""
        value = self.next_id
        self.next_id += 1
        return value


class LocalRequest(BaseRequest):
    """Answers Bot API calls in memory, after `delay` seconds, counting them per method."""

    def __init__(self, delay: float = 0.0, *, pool: int | None = None) -> None:
        self.delay = delay
        self.chats: dict[int, Chat] = {}
        self.calls: dict[str, int] = defaultdict(int)
        self.photos: dict[int, int] = defaultdict(int)  # sendPhoto calls per chat
        self._photo = asyncio.Event()
        self.error_texts: set[str] = set()
        self.errors_sent = 0
        # Like an HTTP connection pool: at most `pool` calls in flight at once.
        self._pool = asyncio.Semaphore(pool) if pool else None

    @property
    def read_timeout(self) -> float | None:
        """No network, so no timeout."""
        return None

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def photo_sent(self, chat_id: int, count: int) -> None:
        """Until a chat has had `count` photos (a summary's chart comes in a task of its own,
        after the update that asked for it was handled); a minute at most."""
        async with asyncio.timeout(60):
            while self.photos[chat_id] < count:
                self._photo.clear()
                await self._photo.wait()

    def chat(self, chat_id: int) -> Chat:
        """A chat by id (created on first use)."""
        found = self.chats.get(chat_id)
        if found is None:
            found = self.chats[chat_id] = Chat(chat_id)
        return found

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        """One Bot API call: wait the round trip, then answer it."""
        if self._pool is not None:
            async with self._pool:
                return await self._answer(url, request_data)
        return await self._answer(url, request_data)

    async def _answer(self, url: str, request_data: RequestData | None) -> tuple[int, bytes]:
        if self.delay:
            await asyncio.sleep(self.delay)
        name = url.rsplit("/", 1)[-1]
        params = request_data.parameters if request_data is not None else {}
        self.calls[name] += 1
        result = self.result(name, params)
        return 200, json.dumps({"ok": True, "result": result}).encode()

    def result(self, name: str, params: dict[str, Any]) -> Any:
        """What Telegram would answer (only what the bot reads back)."""
        if name == "getMe":
            return {
                **BOT_USER,
                "can_join_groups": False,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
            }
        if name == "getUpdates":
            return []
        if name in SENDS:
            chat = self.chat(int(params["chat_id"]))
            text = params.get("text") or params.get("caption") or ""
            if text in self.error_texts:
                self.errors_sent += 1
            chat.sent.append(text)
            message = self._message(chat, chat.new_id(), text, params.get("reply_markup"))
            if name == "sendPhoto":
                self.photos[chat.chat_id] += 1
                self._photo.set()
                message["photo"] = [
                    {"file_id": "p", "file_unique_id": "p", "width": 1200, "height": 800}
                ]
                message.pop("text", None)
                message["caption"] = text
            chat.messages[message["message_id"]] = message
            return message
        if name in EDITS:
            if "chat_id" not in params:
                return True
            chat = self.chat(int(params["chat_id"]))
            message = chat.messages.get(int(params["message_id"]))
            if message is None:
                return True
            if name == "editMessageText":
                message["text"] = params.get("text", "")
            if "reply_markup" in params:
                message["reply_markup"] = params["reply_markup"]
            else:
                message.pop("reply_markup", None)
            return message
        return True  # answerCallbackQuery, setMyCommands, deleteMessage, leaveChat, ...

    @staticmethod
    def _message(chat: Chat, message_id: int, text: str, markup: Any) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": chat.chat_id, "type": "private", "first_name": "P"},
            "from": BOT_USER,
            "text": text,
        }
        if markup:
            message["reply_markup"] = markup if isinstance(markup, dict) else json.loads(markup)
        return message


@dataclass
class Handled:
    """When an update was put on the queue and when it had been handled."""

    chat_id: int
    sent_at: float
    done: asyncio.Future[float]


class Tracker:
    """Learns from the update processor when each update is handled, and in which order."""

    def __init__(self, application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        self.application = application
        self.pending: dict[int, Handled] = {}
        self.latencies: list[float] = []
        self.handled_count: dict[int, int] = defaultdict(int)
        self.order: dict[int, list[int]] = defaultdict(list)
        self.sent_order: dict[int, list[int]] = defaultdict(list)
        # Fresh ids, never used before on this database (the bot skips an update id it has
        # already handled, e.g. one from an earlier run against the same file).
        self._ids = itertools.count(int(time.time() * 1_000_000))
        processor = application.update_processor
        inner = processor.do_process_update

        async def tracked(update: object, coroutine: Awaitable[Any]) -> None:
            try:
                await inner(update, coroutine)
            finally:
                if isinstance(update, Update):
                    self._handled(update.update_id)

        # The processor is the application's own (PTB's or bot.processor's); only its end is
        # observed, through the instance, so the bot's code is unchanged.
        processor.do_process_update = tracked  # type: ignore[method-assign]

    def next_update_id(self) -> int:
        """A fresh update id."""
        return next(self._ids)

    def _handled(self, update_id: int) -> None:
        now = time.perf_counter()
        self.handled_count[update_id] += 1
        entry = self.pending.pop(update_id, None)
        if entry is None:
            return
        self.order[entry.chat_id].append(update_id)
        self.latencies.append(now - entry.sent_at)
        if not entry.done.done():
            entry.done.set_result(now)

    async def put(self, chat_id: int, payload: dict[str, Any]) -> float:
        """Queue one update and wait until it has been handled; returns its latency."""
        update_id = self.next_update_id()
        payload["update_id"] = update_id
        update = Update.de_json(payload, self.application.bot)
        loop = asyncio.get_running_loop()
        entry = Handled(chat_id, time.perf_counter(), loop.create_future())
        self.pending[update_id] = entry
        self.sent_order[chat_id].append(update_id)
        await self.application.update_queue.put(update)
        finished = await entry.done
        return finished - entry.sent_at

    def check(self) -> list[str]:
        """Lost, duplicated or reordered updates (each a sentence); empty when all is well."""
        problems: list[str] = []
        if self.pending:
            problems.append(f"{len(self.pending)} updates never handled")
        duplicated = sum(1 for n in self.handled_count.values() if n > 1)
        if duplicated:
            problems.append(f"{duplicated} updates handled more than once")
        reordered = sum(1 for c, ids in self.sent_order.items() if self.order.get(c) != ids)
        if reordered:
            problems.append(f"{reordered} chats had updates handled out of order")
        return problems


class Person:
    """A simulated person in a private chat who waits for each reply before acting again."""

    def __init__(self, tracker: Tracker, request: LocalRequest, user_id: int) -> None:
        self.tracker = tracker
        self.request = request
        self.user_id = user_id
        self.user = {"id": user_id, "is_bot": False, "first_name": "P", "language_code": "en"}
        self.chat_json = {"id": user_id, "type": "private", "first_name": "P"}
        self.latencies: list[float] = []
        self._queries = itertools.count(1)

    @property
    def chat(self) -> Chat:
        """This person's chat with the bot."""
        return self.request.chat(self.user_id)

    def _message(self, text: str) -> dict[str, Any]:
        return {
            "message_id": self.chat.new_id(),
            "date": int(time.time()),
            "chat": self.chat_json,
            "from": self.user,
            "text": text,
        }

    async def _put(self, payload: dict[str, Any]) -> None:
        self.latencies.append(await self.tracker.put(self.user_id, payload))

    async def send(self, text: str) -> None:
        """Type a message."""
        await self._put({"message": self._message(text)})

    async def command(self, name: str) -> None:
        """Send /name."""
        message = self._message(f"/{name}")
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(name) + 1}]
        await self._put({"message": message})

    async def press(self, data: str) -> None:
        """Tap the button with this callback data on the newest message that has it."""
        for message in reversed(list(self.chat.messages.values())):
            markup = message.get("reply_markup") or {}
            rows = markup.get("inline_keyboard") or []
            if any(button.get("callback_data") == data for row in rows for button in row):
                query = {
                    "id": f"{self.user_id}-{next(self._queries)}",
                    "from": self.user,
                    "chat_instance": str(self.user_id),
                    "data": data,
                    "message": message,
                }
                await self._put({"callback_query": query})
                return
        last = self.chat.sent[-1][:120] if self.chat.sent else "nothing"
        raise BenchError(f"person {self.user_id}: no button {data!r}; last message: {last!r}")
