"""Fake Telegram Bot API server (aiohttp in a background thread) with a test-facing API."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

from aiohttp import web

from .client import FakeGroup, FakeUser
from .faults import FaultInjector, make_error
from .methods import SEND_METHODS, lookup
from .models import (
    ApiError,
    BotMessage,
    EditRecord,
    JsonDict,
    RecordedRequest,
)
from .params import Params, read_params
from .state import World
from .webhook import WebhookDeliverer, WebhookDelivery

MAX_BODY = 64 * 1024 * 1024
CONFLICT_POLL = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)


def _json_response(body: Any, status: int) -> web.Response:
    """JSON response with Telegram's content type."""
    return web.Response(text=json.dumps(body), status=status, content_type="application/json")


def _loggable(params: Params) -> JsonDict:
    """Parameters as recorded in fake.requests (uploads summarised)."""
    values = copy.deepcopy(params.values)
    for name, upload in params.uploads.items():
        values[name] = f"<upload {upload.filename or name!s} ({len(upload.data)} bytes)>"
    return values


def _canonical_name(method: str) -> str | None:
    """Official spelling of a (case-insensitive) method name, None if not implemented."""
    if method.lower() == "getupdates":
        return "getUpdates"
    found = lookup(method)
    return found[0] if found else None


def _int_or_none(value: Any) -> int | None:
    """value if it is a plain int."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class FakeTelegram:
    """In-process fake of api.telegram.org for one bot token."""

    def __init__(self, token: str, *, strict_html: bool = True) -> None:
        """Create a stopped server; strict_html=False accepts bare '&' like real Telegram."""
        self.token = token
        self.world = World(token, strict_html=strict_html)
        self.faults = FaultInjector(SEND_METHODS)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._wakeup: asyncio.Event | None = None
        self._poll_generation = 0
        self._closing = False
        self._webhook = WebhookDeliverer(self.world)

    # ----- lifecycle -----------------------------------------------------------------------

    def start(self) -> FakeTelegram:
        """Bind 127.0.0.1 on a free port and serve from a background thread."""
        if self._loop is not None:
            return self
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(target=self._run_loop, name="fake-telegram", daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._serve(), loop).result(timeout=15)
        return self

    def stop(self) -> None:
        """Stop serving and join the server thread."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        self._closing = True
        try:
            asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(timeout=15)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=15)
            self._loop = self._thread = None
            self.world.update_listener = None

    def __enter__(self) -> FakeTelegram:
        """Start on entering a with-block."""
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop on leaving a with-block."""
        self.stop()

    def _run_loop(self) -> None:
        """Body of the server thread."""
        assert self._loop is not None
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_forever()
        finally:
            self._loop.close()

    async def _serve(self) -> None:
        """Create the aiohttp app and bind the socket."""
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        runner = web.AppRunner(
            app, handler_cancellation=True, shutdown_timeout=1.0, access_log=None
        )
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        self._runner = runner
        self._port = int(runner.addresses[0][1])
        self._wakeup = asyncio.Event()
        await self._webhook.start()
        loop = asyncio.get_running_loop()

        def notify() -> None:
            loop.call_soon_threadsafe(self._wake)

        self.world.update_listener = notify

    async def _shutdown(self) -> None:
        """Release long polls and close the server."""
        self._wake()
        await self._webhook.stop()
        if self._runner is not None:
            await self._runner.cleanup()

    def _wake(self) -> None:
        """Wake all long polls and the webhook delivery (runs on the server loop)."""
        self._webhook.wake()
        if self._wakeup is not None:
            self._wakeup.set()
            self._wakeup = asyncio.Event()

    # ----- addresses -----------------------------------------------------------------------

    @property
    def port(self) -> int:
        """TCP port the server listens on."""
        if self._port is None:
            raise RuntimeError("FakeTelegram is not started")
        return self._port

    @property
    def base_url(self) -> str:
        """Bot API base URL; clients append the token and '/method'."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def file_url(self) -> str:
        """File download base URL; clients append the token and '/file_path'."""
        return f"http://127.0.0.1:{self.port}/file/bot"

    # ----- HTTP handlers -------------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        """Entry point of every Bot API call."""
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return self._respond(None, None, ApiError(401, "Unauthorized"))
        name = _canonical_name(method)
        try:
            params = await read_params(request)
        except ApiError as exc:
            return self._respond(self.world.record_request(name or method, {}), None, exc)
        record = self.world.record_request(name or method, _loggable(params))
        if name is None:
            return self._respond(record, None, ApiError(404, "Not Found: method not found"))
        chat_id = _int_or_none(params.get("chat_id"))
        drop = self.faults.take_drop(name, chat_id)
        if drop is not None and not drop.after_processing:
            return self._drop(request, record)
        try:
            result, error = await self._call(name, params, chat_id), None
        except ApiError as exc:
            result, error = None, exc
        if drop is not None:
            return self._drop(request, record)
        hold = self.faults.take_hold(name, chat_id)
        if hold > 0:  # done, but the answer comes late: the caller's read may time out first
            await asyncio.sleep(hold)
        return self._respond(record, result, error)

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        """Serve bytes of a stored file (getFile's file_path)."""
        if request.match_info["token"] != self.token:
            return self._respond(None, None, ApiError(401, "Unauthorized"))
        stored = self.world.file_by_path(request.match_info["path"])
        if stored is None:
            return self._respond(None, None, ApiError(404, "Not Found"))
        return web.Response(
            body=stored.data, content_type=stored.mime_type or "application/octet-stream"
        )

    def _respond(
        self, record: RecordedRequest | None, result: Any, error: ApiError | None
    ) -> web.Response:
        """Log the outcome and build the JSON response."""
        if record is not None:
            self.world.finish_request(record, result, error)
        if error is not None:
            self.faults.note_status(error.status)
            return _json_response(error.payload(), error.status)
        return _json_response({"ok": True, "result": result}, 200)

    def _drop(self, request: web.Request, record: RecordedRequest) -> web.Response:
        """Close the connection without an answer (injected network failure)."""
        self.world.finish_request(record, None, ApiError(0, "connection dropped by fault"))
        if request.transport is not None:
            request.transport.abort()
        return web.Response(status=500)

    async def _call(self, name: str, params: Params, chat_id: int | None) -> Any:
        """Apply stalls, injected failures and rate limits, then run the method."""
        delay = self.faults.take_stall(name, chat_id)
        if delay > 0:
            await asyncio.sleep(delay)
        error = self.faults.take_failure(name, chat_id) or self.faults.check_rate(name)
        if error is not None:
            raise error
        if name == "getUpdates":
            return await self._get_updates(params)
        found = lookup(name)
        assert found is not None
        with self.world.cond:
            result = found[1](self.world, params)
        if name in ("setWebhook", "deleteWebhook"):
            self._wake()
        return result

    async def _get_updates(self, params: Params) -> list[JsonDict]:
        """Long polling: wait up to `timeout` seconds for updates after `offset`."""
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = max(float(params.get("timeout") or 0), 0.0)
        with self.world.cond:
            if self.world.webhook.get("url"):
                raise ApiError(409, CONFLICT_WEBHOOK)
            allowed = params.get("allowed_updates")
            if isinstance(allowed, list):
                self.world.allowed_updates = [str(kind) for kind in allowed]
            self.world.confirm(int(params.get("offset") or 0))
        self._poll_generation += 1
        generation = self._poll_generation
        self._wake()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if generation != self._poll_generation:
                raise ApiError(409, CONFLICT_POLL)
            updates = self.world.take_updates(limit)
            remaining = deadline - loop.time()
            if updates or remaining <= 0 or self._closing or self._wakeup is None:
                return updates
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), remaining)

    # ----- fake people ---------------------------------------------------------------------

    def user(
        self,
        user_id: int = 1001,
        first_name: str = "Ana",
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
    ) -> FakeUser:
        """A Telegram user who can talk to the bot; their private chat id is user_id."""
        return FakeUser(self, user_id, first_name, last_name, username, language_code)

    def group(
        self,
        chat_id: int = -1001000000001,
        title: str = "Test group",
        *,
        username: str | None = None,
    ) -> FakeGroup:
        """A group (supergroup for -100… ids) that already contains the bot."""
        return FakeGroup(self, chat_id, title, username)

    # ----- inspection ----------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Copy of the log of every call received, in order."""
        with self.world.cond:
            return list(self.world.requests)

    def calls(self, method: str) -> list[RecordedRequest]:
        """Logged calls of one method (case-insensitive)."""
        return [r for r in self.requests if r.method.lower() == method.lower()]

    def request_count(self) -> int:
        """Number of calls received so far (a marker for wait_for_request)."""
        with self.world.cond:
            return len(self.world.requests)

    def wait_for_request(
        self,
        method: str,
        *,
        after: int = 0,
        timeout: float = 15.0,
        predicate: Callable[[RecordedRequest], bool] | None = None,
    ) -> RecordedRequest:
        """First finished call of method logged at index >= after (matching predicate)."""

        def probe() -> RecordedRequest | None:
            for record in self.world.requests[after:]:
                done = record.status is not None and record.method.lower() == method.lower()
                if done and (predicate is None or predicate(record)):
                    return record
            return None

        found = self.world.wait_until(probe, timeout)
        if found is None:
            seen = [r.method for r in self.world.requests[after:]][-30:]
            raise AssertionError(f"no {method} call within {timeout}s; calls seen: {seen}")
        return found

    def wait_finished(
        self, records: list[RecordedRequest], timeout: float = 15.0
    ) -> list[RecordedRequest]:
        """The records once each has its outcome: a message is visible to the user as soon as the
        method ran, a moment before the fake logs the response it sends back."""
        if self.world.wait_until(lambda: all(r.status is not None for r in records), timeout):
            return records
        raise AssertionError(f"calls without an outcome after {timeout}s")

    def mark(self) -> int:
        """Marker: the sequence number of the latest bot message event."""
        return self.world.seq

    def messages(self, chat_id: int, *, include_deleted: bool = False) -> list[BotMessage]:
        """Current state of the bot's messages in a chat, oldest first."""
        with self.world.cond:
            state = self.world.chats.get(chat_id)
            if state is None:
                return []
            live = [m for m in state.bot_messages() if include_deleted or not m.deleted]
            return [self.world.snapshot(m) for m in live]

    def edit_history(self, chat_id: int, message_id: int) -> list[EditRecord]:
        """Successive states of a bot message after each edit."""
        with self.world.cond:
            state = self.world.chats.get(chat_id)
            message = state.messages.get(message_id) if state else None
            return list(message.edits) if message else []

    def file_bytes(self, message: Any) -> bytes:
        """Bytes of a photo/document: a BotMessage, Message dict/object or file_id."""
        if isinstance(message, BotMessage):
            data = message.photo if message.photo is not None else message.document
            if data is None:
                raise AssertionError(f"message {message.message_id} has no photo or document")
            return data
        file_id = message if isinstance(message, str) else _file_id_of(message)
        with self.world.cond:
            stored = self.world.files.get(file_id)
        if stored is None:
            raise AssertionError(f"unknown file_id {file_id!r}")
        return stored.data

    def commands(self, scope: JsonDict | None = None, language_code: str = "") -> list[JsonDict]:
        """Commands set with setMyCommands for a scope/language."""
        key = json.dumps(
            {"scope": scope or {"type": "default"}, "lang": language_code}, sort_keys=True
        )
        with self.world.cond:
            return copy.deepcopy(self.world.commands.get(key, []))

    def profile(self, language_code: str = "") -> dict[str, object]:
        """What setMyDescription, setMyShortDescription and setChatMenuButton recorded."""
        with self.world.cond:
            return {
                "description": self.world.descriptions.get(language_code),
                "short_description": self.world.short_descriptions.get(language_code),
                "menu_button": copy.deepcopy(self.world.menu_buttons.get(None)),
            }

    @property
    def webhook(self) -> JsonDict:
        """Webhook settings recorded by setWebhook."""
        with self.world.cond:
            return dict(self.world.webhook)

    @property
    def deliveries(self) -> list[WebhookDelivery]:
        """Every attempt to POST an update to the webhook so far, in order."""
        with self.world.cond:
            return list(self._webhook.deliveries)

    def wait_for_delivery(
        self,
        update_id: int | None = None,
        *,
        after: int = 0,
        timeout: float = 15.0,
        predicate: Callable[[WebhookDelivery], bool] | None = None,
    ) -> WebhookDelivery:
        """First webhook delivery attempt at index >= after (of update_id, matching predicate)."""

        def probe() -> WebhookDelivery | None:
            for delivery in self._webhook.deliveries[after:]:
                wanted = update_id is None or delivery.update_id == update_id
                if wanted and (predicate is None or predicate(delivery)):
                    return delivery
            return None

        found = self.world.wait_until(probe, timeout)
        if found is None:
            seen = [(d.update_id, d.status, d.error) for d in self.deliveries[after:]][-30:]
            raise AssertionError(f"no such webhook delivery within {timeout}s; seen: {seen}")
        return found

    def pending_updates(self) -> int:
        """Updates the bot has not yet confirmed via getUpdates offset."""
        with self.world.cond:
            return len(self.world.updates)

    def wait_idle(self, timeout: float = 15.0) -> None:
        """Wait until the bot has fetched and confirmed every queued update."""
        if self.world.wait_until(lambda: True if not self.world.updates else None, timeout):
            return
        with self.world.cond:
            pending = copy.deepcopy(self.world.updates)
        raise AssertionError(
            f"bot did not confirm {len(pending)} update(s) in {timeout}s: {pending}"
        )

    # ----- fault injection -----------------------------------------------------------------

    def fail(
        self,
        method: str,
        status: int,
        description: str | None = None,
        retry_after: int | None = None,
        times: int | None = 1,
        chat_id: int | None = None,
    ) -> None:
        """Answer the next `times` matching calls (method or '*') with an error."""
        error = make_error(status, description, retry_after)
        self.faults.add_failure(method, chat_id, times, error)

    def stall(
        self, method: str, seconds: float, chat_id: int | None = None, times: int | None = 1
    ) -> None:
        """Delay the next `times` matching calls by `seconds` before processing them."""
        self.faults.add_stall(method, chat_id, times, seconds)

    def hold(
        self, method: str, seconds: float, chat_id: int | None = None, times: int | None = 1
    ) -> None:
        """Process the next `times` matching calls at once, then hold each answer `seconds`
        (longer than the caller's read timeout, the call is done but the caller times out)."""
        self.faults.add_hold(method, chat_id, times, seconds)

    def disconnect(
        self,
        method: str,
        times: int | None = 1,
        chat_id: int | None = None,
        after_processing: bool = False,
    ) -> None:
        """Drop the connection of matching calls (after_processing: the call still happens)."""
        self.faults.add_drop(method, chat_id, times, after_processing)

    def rate_limit(self, per_second: int | None = 30) -> None:
        """Answer 429 to sends beyond per_second in any sliding second (None: no limit)."""
        self.faults.set_rate_limit(per_second)

    @property
    def count_429(self) -> int:
        """Number of 429 responses sent (injected or from the rate limit)."""
        return self.faults.count_429

    def withhold_confirmations(self, withhold: bool = True) -> None:
        """While withheld, updates stay queued after delivery and are delivered again."""
        with self.world.cond:
            self.world.unconfirmed = withhold
            self.world.cond.notify_all()

    def reset_faults(self) -> None:
        """Remove all injected failures, stalls, drops and the rate limit."""
        self.faults.reset()

    def block(self, user_id: int, *, notify: bool = True) -> None:
        """The user blocks the bot: sends to them get 403 (and a my_chat_member update)."""
        self._set_blocked(user_id, True, notify)

    def unblock(self, user_id: int, *, notify: bool = True) -> None:
        """The user unblocks the bot again."""
        self._set_blocked(user_id, False, notify)

    def _set_blocked(self, user_id: int, blocked: bool, notify: bool) -> None:
        """Change the block state and optionally tell the bot like Telegram does."""
        with self.world.cond:
            was_blocked = user_id in self.world.blocked
            if blocked:
                self.world.blocked.add(user_id)
            else:
                self.world.blocked.discard(user_id)
            known = user_id in self.world.started and user_id in self.world.users
            if notify and known and was_blocked != blocked:
                self.world.push_update("my_chat_member", self._member_update(user_id, blocked))

    def _member_update(self, user_id: int, blocked: bool) -> JsonDict:
        """ChatMemberUpdated for the bot being blocked/unblocked in a private chat."""
        bot = self.world.bot_user
        member = {"user": bot, "status": "member"}
        kicked = {"user": bot, "status": "kicked", "until_date": 0}
        return {
            "chat": copy.deepcopy(self.world.chats[user_id].chat),
            "from": copy.deepcopy(self.world.users[user_id]),
            "date": int(time.time()),
            "old_chat_member": member if blocked else kicked,
            "new_chat_member": kicked if blocked else member,
        }


def _file_id_of(message: Any) -> str:
    """file_id of the largest photo or the document in a Message dict or object."""
    data = message.to_dict() if hasattr(message, "to_dict") else message
    if not isinstance(data, dict):
        raise AssertionError(f"can't find a file in {message!r}")
    if data.get("photo"):
        return str(data["photo"][-1]["file_id"])
    for key in ("document", "voice", "sticker", "audio", "video"):
        if isinstance(data.get(key), dict):
            return str(data[key]["file_id"])
    raise AssertionError(f"message has no file: {data}")
