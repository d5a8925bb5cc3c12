"""Taking updates: into the inbox, confirmed to Telegram at once, handled in each chat's order.

Telegram sends at most 100 updates per getUpdates call and sends nothing newer than the offset
allows. Holding the offset until an update was handled kept one person's long queue in front of
everyone else's updates. So every update fetched (or posted to the webhook) is first stored in
the inbox (storage/inbox.py), a batch in one transaction, and only then confirmed: the next
getUpdates moves the offset past it at once, the webhook answers 200. The processor handles
each chat's updates in order and different chats at once (bot/processor.py); an update's row
goes once it has been handled. After a crash the rows left are handled first, at the next
start; the processed-update ledger keeps one whose writes had committed from storing anything
twice.

One person cannot fill the inbox either: past CAP updates waiting in one chat, further messages
and button presses are not kept (nothing was said about them yet, so nothing acknowledged is
lost). The person is told once per flood, kindly, that what came after was not kept; a button
press gets a short "one moment". A request for crisis help is always kept, and so is anything
that is not a message or a button.

When the inbox cannot be written (the database is locked, read-only or full), updates are
handled all the same, so the person hears that their answer could not be saved, but they are
held instead of stored: the offset stays at the oldest of them until it has been handled (the
webhook answers 200 only then), and while any is held, newer ones are held too, so that no
update is ever confirmed before an older one that is neither handled nor in the inbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import Counter
from collections.abc import Coroutine, Sequence
from http import HTTPStatus
from typing import Any

from telegram import Bot
from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram._utils.types import JSONDict, ODVInput
from telegram.request import BaseRequest, RequestData
from telegram.request._requestparameter import RequestParameter

from conversations.kit.callbacks import MENU
from conversations.kit.steps import help_row, keyboard
from conversations.worksheet.content import speaking, supported, t
from storage import Inbox
from storage.inbox import Pending

logger = logging.getLogger(__name__)

# Updates one chat may have waiting before further messages from it are not kept.
CAP = 20
# Seconds the inbox may take to store a batch (milliseconds, as a rule); longer, and the
# database is locked or failing: the updates are handled without it, held (see above).
PATIENCE = 2.0
# Telegram sends an update again while it is held (or when it never got the confirmation):
# with nothing new in a poll, waiting a little for one to finish keeps that from a busy loop.
REPEAT_WAIT = 1.0
CRISIS_BUTTON = MENU("crisis")
MESSAGES = ("message", "edited_message")


def chat_of(update: JSONDict) -> int:
    """The chat an update belongs to (its sender's id if it has no chat; 0 if neither)."""
    for kind, body in update.items():
        if kind == "update_id" or not isinstance(body, dict):
            continue
        message = body.get("message")
        for holder in (body, message if isinstance(message, dict) else {}):
            chat = holder.get("chat")
            if isinstance(chat, dict) and isinstance(chat.get("id"), int):
                return int(chat["id"])
        for field in ("from", "user"):
            sender = body.get(field)
            if isinstance(sender, dict) and isinstance(sender.get("id"), int):
                return int(sender["id"])
    return 0


def _asks_for_crisis_help(update: JSONDict) -> bool:
    query = update.get("callback_query")
    if isinstance(query, dict):
        return query.get("data") == CRISIS_BUTTON
    message = update.get("message")
    text = message.get("text") if isinstance(message, dict) else None
    if not isinstance(text, str) or not text.startswith("/"):
        return False
    words = text[1:].split(maxsplit=1)
    return bool(words) and words[0].split("@")[0].lower() == "crisis"


def _may_be_left_out(update: JSONDict) -> bool:
    """Whether an update may be left out when its chat has too many waiting: a message, an
    edit or a button press, but never one asking for crisis help."""
    if not any(kind in update for kind in (*MESSAGES, "callback_query")):
        return False
    return not _asks_for_crisis_help(update)


class Intake:
    """The inbox as the running bot sees it: what is waiting, per chat, and what was handled."""

    def __init__(self, inbox: Inbox, *, cap: int = CAP) -> None:
        self._inbox = inbox
        self._cap = cap
        self._chats: dict[int, int] = {}  # update id -> chat, for those waiting in the inbox
        self._waiting: Counter[int] = Counter()  # chat -> how many of its updates wait
        self._told: set[int] = set()  # chats told about this flood already
        self._handled: list[int] = []  # handled updates whose rows are still to be removed
        self._remover: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._bot: Bot | None = None
        # Handed on without the inbox (it could not be written): confirmed once handled.
        self._held: set[int] = set()
        self._held_waiters: dict[int, asyncio.Future[None]] = {}
        self._changed = asyncio.Event()
        # One past the newest update the last run left in the inbox.
        self.floor = 0

    def attach(self, bot: Bot) -> None:
        """The bot that tells a person their messages came too fast."""
        self._bot = bot

    def _track(self, update_id: int, chat_id: int) -> None:
        self._chats[update_id] = chat_id
        self._waiting[chat_id] += 1

    def _untrack(self, update_id: int) -> None:
        chat = self._chats.pop(update_id, None)
        if chat is None:
            return
        self._waiting[chat] -= 1
        if self._waiting[chat] <= 0:
            del self._waiting[chat]
            self._told.discard(chat)  # the flood is over

    async def recover(self) -> list[JSONDict]:
        """The updates a previous run left in the inbox, oldest first, to be handled first."""
        left = await self._inbox.pending()
        for item in left:
            self._track(item.update_id, item.chat_id)
        if left:
            self.floor = max(self.floor, left[-1].update_id + 1)
            logger.info("Handling %d updates left from the last run first", len(left))
        return [item.update for item in left]

    async def take(
        self, updates: Sequence[object], *, patience: float | None = PATIENCE
    ) -> tuple[list[object], bool]:
        """Store the new updates in the inbox, in one transaction, and return them to be handled
        (in the order given), and whether they are held instead. Updates already waiting are
        left out, and so are messages of a chat that has CAP updates waiting. If the inbox
        cannot be written within `patience` seconds, the updates are held (see hold): they
        must not be confirmed until handled (a write that succeeds later is tidied up)."""
        kept, refused = self._sort(updates)
        if refused:
            logger.info("Not kept: %d updates of a chat with %d waiting", len(refused), self._cap)
            self._refuse(refused)
        put = asyncio.ensure_future(self._store(kept))
        try:
            stored = await asyncio.wait_for(asyncio.shield(put), patience)
        except Exception as error:  # the write failed, or it is waiting for the database
            logger.warning(
                "Updates could not be stored in the inbox (%s); handling them without it",
                type(error).__name__,
            )
            if not put.done():
                put.add_done_callback(self._stored_late)
            self.hold([item.update for item in kept])
            stored = {item.update_id for item in kept}
            held = True
        else:
            held = False
        return [
            update
            for update in updates
            if not isinstance(update, dict)
            or not isinstance(update.get("update_id"), int)
            or update["update_id"] in stored
        ], held

    def _sort(self, updates: Sequence[object]) -> tuple[list[Pending], list[tuple[int, JSONDict]]]:
        """The updates to keep (counted as waiting from now on) and those not kept."""
        kept: list[Pending] = []
        refused: list[tuple[int, JSONDict]] = []
        for update in updates:
            update_id = update.get("update_id") if isinstance(update, dict) else None
            if not isinstance(update, dict) or not isinstance(update_id, int):
                continue  # passed on as it is: PTB says what is wrong with it
            if update_id in self._chats:
                continue
            chat = chat_of(update)
            if chat and self._waiting[chat] >= self._cap and _may_be_left_out(update):
                refused.append((chat, update))
                continue
            self._track(update_id, chat)
            kept.append(Pending(update_id, chat, update))
        return kept, refused

    async def _store(self, kept: list[Pending]) -> set[int]:
        try:
            stored = await self._inbox.put(kept)
        except BaseException:
            for item in kept:
                self._untrack(item.update_id)
            raise
        for item in kept:
            if item.update_id not in stored:
                self._untrack(item.update_id)  # in the inbox already, from another run
        return stored

    def _stored_late(self, put: asyncio.Future[set[int]]) -> None:
        """A write given up on succeeded after all: rows of updates handled meanwhile go."""
        if put.cancelled() or put.exception() is not None:
            return
        gone = [update_id for update_id in put.result() if update_id not in self._chats]
        if gone:
            self._handled.extend(gone)
            self._kick()

    def _refuse(self, refused: list[tuple[int, JSONDict]]) -> None:
        bot = self._bot
        if bot is None:
            return
        for chat, update in refused:
            query = update.get("callback_query")
            message: JSONDict = next(
                (update[k] for k in MESSAGES if isinstance(update.get(k), dict)), {}
            )
            body = query if isinstance(query, dict) else message
            # Telegram's language for them (the one chosen in /settings would need a read).
            code = body.get("from", {}).get("language_code")
            with speaking(supported(code if isinstance(code, str) else None)):
                if isinstance(query, dict):
                    if isinstance(query.get("id"), str):
                        text = t("errors.one_moment")
                        self._spawn(bot.answer_callback_query(query["id"], text=text))
                    continue
                private = message.get("chat", {}).get("type") == "private"
                if private and chat not in self._told:
                    self._told.add(chat)
                    text, markup = t("errors.too_fast"), keyboard(help_row()[:1])
                    self._spawn(bot.send_message(chat, text, reply_markup=markup))

    def _spawn(self, call: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.create_task(self._quietly(call))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _quietly(call: Coroutine[Any, Any, Any]) -> None:
        try:
            await call
        except Exception as error:  # blocked, gone, or Telegram unreachable: nothing to redo
            logger.warning("Could not say that messages came too fast: %s", type(error).__name__)

    def hold(self, updates: Sequence[object]) -> None:
        """Updates handed on without the inbox: they are confirmed only once handled."""
        for update in updates:
            update_id = update.get("update_id") if isinstance(update, dict) else None
            if isinstance(update_id, int):
                self._held.add(update_id)

    @property
    def holding(self) -> bool:
        """Whether any update is held (handed on without the inbox, not handled yet)."""
        return bool(self._held)

    def held_offset(self) -> int | None:
        """The oldest held update: getUpdates must not confirm it or anything after it."""
        return min(self._held, default=None)

    def expect(self, update_id: int) -> asyncio.Future[None]:
        """A future done once this held update (about to be queued by the webhook) is handled."""
        if update_id not in self._held_waiters:
            loop = asyncio.get_running_loop()
            self._held_waiters[update_id] = loop.create_future()
        return self._held_waiters[update_id]

    async def wait_changed(self) -> None:
        """Wait until a held update is handled, at most REPEAT_WAIT seconds."""
        self._changed.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), REPEAT_WAIT)

    def handled(self, update_id: int, done: bool = True) -> None:
        """An update's handling ended (the processor's `finished`): done, its row goes (or, if
        it was held, it may be confirmed); not done (cut short by a stop), it stays for the next
        start. Updates that came neither through the inbox nor held are ignored."""
        if update_id in self._held:
            if not done:
                return  # not confirmed, so Telegram sends it again after the restart
            self._held.discard(update_id)
            self._changed.set()
            waiter = self._held_waiters.pop(update_id, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(None)
        if update_id not in self._chats:
            return
        self._untrack(update_id)
        if done:
            self._handled.append(update_id)
            self._kick()

    def _kick(self) -> None:
        if self._remover is None or self._remover.done():
            self._remover = asyncio.create_task(self._remove())

    async def _remove(self) -> None:
        # One transaction for all that were handled meanwhile: under load, rows go in batches.
        while self._handled:
            ids, self._handled = self._handled, []
            try:
                await self._inbox.done(ids)
            except Exception as error:
                # Kept for the next try; left at a crash, they are handled again at the next
                # start, where the ledger keeps whatever they stored from being stored twice.
                self._handled = ids + self._handled
                logger.warning(
                    "Could not clear %d handled updates from the inbox: %s",
                    len(ids),
                    type(error).__name__,
                )
                return

    async def flush(self) -> None:
        """Wait for the rows of handled updates to go, and for the notes being sent."""
        if self._handled:
            self._kick()
        if self._remover is not None:
            await self._remover
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


class InboxRequest(BaseRequest):
    """The getUpdates transport: what Telegram sends goes into the inbox before it is confirmed,
    and the offset then moves past it at once."""

    def __init__(self, inner: BaseRequest, intake: Intake) -> None:
        self._inner = inner
        self._intake = intake
        self._next = 0  # one past the newest update taken: the offset that confirms them

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
        """Send through the wrapped transport; getUpdates confirms all taken so far, and what
        it brings is stored in the inbox before it is handed on."""
        polling = request_data is not None and url.endswith("/getUpdates")
        intake = self._intake
        if request_data is not None and polling:
            self._next = max(self._next, intake.floor)
            params = request_data.parameters
            requested = params.get("offset")
            requested = requested if isinstance(requested, int) else 0
            held = intake.held_offset()
            offset = held if held is not None else max(requested, self._next)
            if offset != requested:
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
        ids = [
            u["update_id"]
            for u in result
            if isinstance(u, dict) and isinstance(u.get("update_id"), int)
        ]
        # Below `_next`: taken already (held ones come again until they are confirmed).
        fresh = [
            u
            for u in result
            if not isinstance(u, dict)
            or not isinstance(u.get("update_id"), int)
            or u["update_id"] >= self._next
        ]
        taken = fresh
        if intake.holding:
            intake.hold(fresh)
        else:
            taken, _ = await intake.take(fresh)
        if ids:
            self._next = max(self._next, max(ids) + 1)
        if len(taken) == len(result):
            return status, payload
        if not fresh:
            await intake.wait_changed()
        return status, json.dumps({**body, "result": taken}).encode()
