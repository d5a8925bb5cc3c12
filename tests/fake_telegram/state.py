"""Shared, lock-protected state of the fake Telegram world (chats, messages, updates, files)."""

from __future__ import annotations

import copy
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from .models import (
    ApiError,
    BotMessage,
    CallbackRecord,
    EditRecord,
    JsonDict,
    RecordedRequest,
    StoredFile,
    StoredMessage,
    bad_request,
    forbidden,
)

T = TypeVar("T")
BOT_USERNAME = "trust_test_bot"
DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


@dataclass
class ChatState:
    """One chat: its Telegram Chat object, messages and the log of bot message events."""

    chat: JsonDict
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    events: list[BotMessage] = field(default_factory=list)
    next_message_id: int = 1
    bot_is_member: bool = True

    @property
    def chat_id(self) -> int:
        """Telegram chat id."""
        return int(self.chat["id"])

    def bot_messages(self) -> list[StoredMessage]:
        """Bot messages in order, including deleted ones."""
        return [m for m in self.messages.values() if m.from_bot]


def bot_id_from_token(token: str) -> int:
    """The bot's user id: the digits before ':' in the token."""
    digits = token.split(":", 1)[0]
    return int(digits) if digits.isdigit() else 1


class World:
    """Everything the fake server and the fake users share; all access goes through .cond."""

    def __init__(self, token: str, *, strict_html: bool = True) -> None:
        """Create an empty world for the bot owning token."""
        self.cond = threading.Condition(threading.RLock())
        self.token = token
        self.strict_html = strict_html
        self.bot_user: JsonDict = {
            "id": bot_id_from_token(token),
            "is_bot": True,
            "first_name": "Trust Test Bot",
            "username": BOT_USERNAME,
        }
        self.users: dict[int, JsonDict] = {}
        self.started: set[int] = set()
        self.seen: set[int] = set()
        self.blocked: set[int] = set()
        self.chats: dict[int, ChatState] = {}
        self.updates: list[JsonDict] = []
        # While set, getUpdates offsets confirm nothing: updates are delivered again, as
        # Telegram does to a bot that crashed before confirming them.
        self.unconfirmed = False
        self.files: dict[str, StoredFile] = {}
        self.callbacks: dict[str, CallbackRecord] = {}
        self.requests: list[RecordedRequest] = []
        self.commands: dict[str, list[JsonDict]] = {}
        # The bot's profile, per language code ("" for the default): description, short one.
        self.descriptions: dict[str, str] = {}
        self.short_descriptions: dict[str, str] = {}
        # The menu button per chat id (None: the default for every private chat).
        self.menu_buttons: dict[int | None, JsonDict] = {}
        self.webhook: JsonDict = {"url": ""}
        self.allowed_updates: list[str] = []
        self.update_listener: Callable[[], None] | None = None
        self._update_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)
        self._seq = 0

    # ----- waiting -------------------------------------------------------------------------

    def wait_until(self, probe: Callable[[], T | None], timeout: float) -> T | None:
        """Block until probe() returns non-None (returned) or timeout (None)."""
        with self.cond:
            return self.cond.wait_for(probe, timeout)

    def changed(self) -> None:
        """Wake everybody waiting for a change."""
        with self.cond:
            self.cond.notify_all()

    @property
    def seq(self) -> int:
        """Sequence number of the latest bot message event (a marker for waits)."""
        with self.cond:
            return self._seq

    # ----- people and chats ----------------------------------------------------------------

    def add_user(self, user: JsonDict) -> None:
        """Register a fake user (the private chat appears once they talk to the bot)."""
        with self.cond:
            self.users[int(user["id"])] = user

    def add_group(self, chat: JsonDict) -> ChatState:
        """Create a group the bot is a member of."""
        with self.cond:
            state = ChatState(chat)
            self.chats[state.chat_id] = state
            return state

    def private_chat(self, user_id: int) -> ChatState:
        """The private chat with a user, created on first contact."""
        with self.cond:
            if user_id not in self.chats:
                user = self.users[user_id]
                chat = {"id": user_id, "type": "private", "first_name": user["first_name"]}
                for key in ("last_name", "username"):
                    if key in user:
                        chat[key] = user[key]
                self.chats[user_id] = ChatState(chat)
            return self.chats[user_id]

    def chat_for_bot(self, chat_id: Any) -> ChatState:
        """Chat the bot may act in, or the error Telegram would give."""
        with self.cond:
            state = self.find_chat(chat_id)
            if state.chat["type"] == "private":
                if state.chat_id in self.blocked:
                    raise forbidden("bot was blocked by the user")
            elif not state.bot_is_member:
                raise forbidden(f"bot is not a member of the {state.chat['type']} chat")
            return state

    def find_chat(self, chat_id: Any) -> ChatState:
        """Look a chat up by id or @username."""
        if isinstance(chat_id, str):
            for state in self.chats.values():
                if f"@{state.chat.get('username', '')}".lower() == chat_id.lower():
                    return state
            raise bad_request("chat not found")
        if not isinstance(chat_id, int) or isinstance(chat_id, bool):
            raise bad_request("chat_id is empty")
        if chat_id > 0 and chat_id not in self.started:
            if chat_id in self.seen:
                raise forbidden("bot can't initiate conversation with a user")
            raise bad_request("chat not found")
        if chat_id not in self.chats:
            raise bad_request("chat not found")
        return self.chats[chat_id]

    # ----- messages ------------------------------------------------------------------------

    def add_message(
        self, state: ChatState, sender: JsonDict, content: JsonDict, **meta: Any
    ) -> StoredMessage:
        """Append a message from sender (the bot or a user) to the chat."""
        with self.cond:
            payload: JsonDict = {
                "message_id": state.next_message_id,
                "from": copy.deepcopy(sender),
                "chat": copy.deepcopy(state.chat),
                "date": int(time.time()),
            }
            payload.update(content)
            state.next_message_id += 1
            message = StoredMessage(payload, from_bot=sender.get("is_bot", False), **meta)
            state.messages[message.message_id] = message
            if message.from_bot:
                self._log_event(state, message, "new")
            return message

    def edit_message(
        self, state: ChatState, message: StoredMessage, changes: JsonDict, **meta: Any
    ) -> StoredMessage:
        """Apply an edit to a bot message and log it."""
        with self.cond:
            for key, value in changes.items():
                if value is None:
                    message.payload.pop(key, None)
                else:
                    message.payload[key] = value
            for key, value in meta.items():
                setattr(message, key, value)
            message.payload["edit_date"] = int(time.time())
            text = str(message.payload.get("text") or message.payload.get("caption") or "")
            message.edits.append(EditRecord(time.time(), text, message.source, message.markup))
            self._log_event(state, message, "edit")
            return message

    def _log_event(self, state: ChatState, message: StoredMessage, event: str) -> None:
        """Record a new/edit event for waiters and wake them."""
        self._seq += 1
        message.seq = self._seq
        state.events.append(self.snapshot(message, event))
        self.cond.notify_all()

    def find_message(self, state: ChatState, message_id: Any) -> StoredMessage | None:
        """A live (not deleted) message of the chat."""
        with self.cond:
            message = state.messages.get(message_id) if isinstance(message_id, int) else None
            return None if message is None or message.deleted else message

    def snapshot(self, message: StoredMessage, event: str = "current") -> BotMessage:
        """Immutable view of a message for tests."""
        with self.cond:
            payload = copy.deepcopy(message.payload)
            stored = self.files.get(message.file_id) if message.file_id else None
            is_photo = "photo" in payload
            return BotMessage(
                message_id=message.message_id,
                chat_id=message.chat_id,
                text=str(payload.get("text", "")),
                html=message.source,
                caption=payload.get("caption"),
                reply_markup=copy.deepcopy(message.markup),
                photo=stored.data if stored and is_photo else None,
                document=stored.data if stored and not is_photo else None,
                document_name=stored.file_name if stored and not is_photo else None,
                edits=len(message.edits),
                deleted=message.deleted,
                event=event,
                seq=message.seq,
                raw=payload,
            )

    # ----- updates -------------------------------------------------------------------------

    def push_update(self, kind: str, body: JsonDict) -> int:
        """Queue an update for getUpdates; returns its update_id."""
        with self.cond:
            update_id = next(self._update_ids)
            self.updates.append({"update_id": update_id, kind: body})
            self.cond.notify_all()
            listener = self.update_listener
        if listener is not None:
            listener()
        return update_id

    def confirm(self, offset: int) -> None:
        """Forget updates confirmed by a getUpdates offset (negative: keep only the last ones)."""
        with self.cond:
            if self.unconfirmed:
                return
            if offset > 0:
                self.updates = [u for u in self.updates if u["update_id"] >= offset]
            elif offset < 0:
                self.updates = self.updates[offset:]
            self.cond.notify_all()

    def take_updates(self, limit: int) -> list[JsonDict]:
        """Deliverable updates (dropping types excluded by allowed_updates)."""
        with self.cond:
            self.updates = [u for u in self.updates if self._allowed(u)]
            self.cond.notify_all()
            return copy.deepcopy(self.updates[:limit])

    def _allowed(self, update: JsonDict) -> bool:
        """Whether the bot's allowed_updates lets this update through."""
        kind = next(key for key in update if key != "update_id")
        if self.allowed_updates:
            return kind in self.allowed_updates
        return kind not in DEFAULT_EXCLUDED_UPDATES

    def drop_updates(self) -> None:
        """Drop all pending updates (deleteWebhook/setWebhook drop_pending_updates)."""
        with self.cond:
            self.updates.clear()
            self.cond.notify_all()

    # ----- files and callbacks -------------------------------------------------------------

    def add_file(self, data: bytes, file_name: str | None, mime_type: str | None) -> StoredFile:
        """Store file bytes under fresh file ids."""
        with self.cond:
            number = next(self._file_ids)
            unique = f"AgAD{number:06d}"
            stored = StoredFile(
                f"fake-file-{number:06d}-{unique}", unique, data, file_name, mime_type
            )
            self.files[stored.file_id] = stored
            return stored

    def file_by_path(self, path: str) -> StoredFile | None:
        """Find a file by its download path."""
        with self.cond:
            return next((f for f in self.files.values() if f.file_path == path), None)

    def new_callback(
        self, user_id: int, chat_id: int | None, message_id: int | None, data: str | None
    ) -> CallbackRecord:
        """Register a callback query awaiting answerCallbackQuery."""
        with self.cond:
            callback_id = str(4_000_000_000_000_000 + next(self._callback_ids))
            record = CallbackRecord(callback_id, user_id, chat_id, message_id, data)
            self.callbacks[callback_id] = record
            return record

    # ----- request log ---------------------------------------------------------------------

    def record_request(self, method: str, params: JsonDict) -> RecordedRequest:
        """Append a received call to the request log."""
        with self.cond:
            record = RecordedRequest(method, params, time.time())
            self.requests.append(record)
            return record

    def finish_request(self, record: RecordedRequest, result: Any, error: ApiError | None) -> None:
        """Store the outcome of a logged call and wake waiters."""
        with self.cond:
            record.status = error.status if error else 200
            record.description = error.description if error else None
            record.result = None if error else result
            self.cond.notify_all()
