"""The test's side of the fake: users and groups that talk to the bot and read its replies."""

from __future__ import annotations

import base64
import copy
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from .html_parser import utf16_len
from .methods import document_object, photo_sizes
from .models import BotMessage, CallbackAnswer, CallbackRecord, JsonDict, StoredMessage
from .state import BOT_USERNAME, ChatState

if TYPE_CHECKING:
    from .server import FakeTelegram

Predicate = Callable[[BotMessage], bool] | str | None
DEFAULT_TIMEOUT = 15.0
TINY_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
FAKE_WEBP = b"RIFF\x1a\x00\x00\x00WEBPVP8L" + bytes(18)
FAKE_OGG = b"OggS\x00\x02" + bytes(40)


def _as_predicate(predicate: Predicate) -> Callable[[BotMessage], bool]:
    """Accept a callable, a substring of the message content, or None (anything)."""
    if predicate is None:
        return lambda message: True
    if isinstance(predicate, str):
        needle = predicate
        return lambda message: needle in message.content
    return predicate


class ChatView:
    """Reading and waiting on the bot's messages in one chat."""

    fake: FakeTelegram
    chat_id: int

    def messages(self, *, include_deleted: bool = False) -> list[BotMessage]:
        """Current bot messages in the chat, oldest first."""
        return self.fake.messages(self.chat_id, include_deleted=include_deleted)

    def last(self) -> BotMessage:
        """The newest bot message in the chat."""
        messages = self.messages()
        if not messages:
            raise AssertionError(f"no bot messages yet\n{self.dump()}")
        return messages[-1]

    def mark(self) -> int:
        """Marker for wait_reply/wait_for: only events after it count."""
        return self.fake.mark()

    def events(self, after: int = 0) -> list[BotMessage]:
        """Bot message events (new or edit snapshots) in this chat after a marker."""
        world = self.fake.world
        with world.cond:
            state = world.chats.get(self.chat_id)
            return [e for e in state.events if e.seq > after] if state else []

    def wait_for(
        self,
        predicate: Predicate = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        after: int | None = None,
    ) -> BotMessage:
        """First bot message event (new or edit) after `after` matching predicate."""
        matches = _as_predicate(predicate)
        found = self.fake.world.wait_until(
            lambda: next((e for e in self.events(after or 0) if matches(e)), None), timeout
        )
        if found is None:
            what = f" matching {predicate!r}" if predicate is not None else ""
            since = f" after mark {after}" if after else ""
            message = f"no bot message{what}{since} within {timeout}s\n{self.dump()}"
            raise AssertionError(message)
        return found

    def wait_reply(self, mark: int, *, timeout: float = DEFAULT_TIMEOUT) -> BotMessage:
        """First bot message (new, or an edit of an older one) after mark."""
        return self.wait_for(None, timeout=timeout, after=mark)

    def wait_replies(
        self, mark: int, n: int, *, timeout: float = DEFAULT_TIMEOUT
    ) -> list[BotMessage]:
        """First n bot message events after mark."""
        found = self.fake.world.wait_until(
            lambda: self.events(mark)[:n] if len(self.events(mark)) >= n else None, timeout
        )
        if found is None:
            got = len(self.events(mark))
            raise AssertionError(
                f"expected {n} bot messages, got {got} in {timeout}s\n{self.dump()}"
            )
        return found

    def wait_no_reply(self, mark: int, seconds: float = 1.0) -> None:
        """Assert that no bot message event arrives within `seconds` after mark."""
        found = self.fake.world.wait_until(lambda: next(iter(self.events(mark)), None), seconds)
        if found is not None:
            raise AssertionError(f"unexpected bot message: {found.describe()}\n{self.dump()}")

    def dump(self) -> str:
        """Readable conversation, recent failed calls and pending updates for failure messages."""
        lines = [f"--- chat {self.chat_id}: conversation (oldest first) ---"]
        lines.extend(self._conversation_lines())
        failed = [
            f"{r.method} -> {r.status} {r.description}"
            for r in self.fake.requests
            if r.status not in (None, 200) and r.chat_id in (None, self.chat_id)
        ]
        if failed:
            lines.append("--- failed bot calls (latest 15) ---")
            lines.extend(failed[-15:])
        lines.append(f"--- pending (unconfirmed) updates: {self.fake.pending_updates()} ---")
        refused = [d for d in self.fake.deliveries if not d.ok]
        if refused:
            lines.append("--- failed webhook deliveries (latest 5) ---")
            lines.extend(f"update {d.update_id} -> {d.status} {d.error}" for d in refused[-5:])
        return "\n".join(lines)

    def _conversation_lines(self) -> list[str]:
        """One entry per message in the chat, user messages included."""
        world = self.fake.world
        with world.cond:
            state = world.chats.get(self.chat_id)
            messages = list(state.messages.values()) if state else []
            lines = []
            for message in messages:
                if message.from_bot:
                    lines.append("bot  " + world.snapshot(message).describe())
                else:
                    lines.append("user " + _describe_user_message(message))
            return lines


class FakeGroup(ChatView):
    """A group chat containing the bot; users post in it with user.send_in(group, ...)."""

    def __init__(
        self, fake: FakeTelegram, chat_id: int, title: str, username: str | None = None
    ) -> None:
        """Create the group in the fake world."""
        self.fake = fake
        self.chat_id = chat_id
        self.title = title
        kind = "supergroup" if chat_id <= -1_000_000_000_000 else "group"
        chat: JsonDict = {"id": chat_id, "type": kind, "title": title}
        if username:
            chat["username"] = username
        fake.world.add_group(chat)

    def remove_bot(self) -> None:
        """The bot is removed from the group (later sends get 403)."""
        with self.fake.world.cond:
            self.fake.world.chats[self.chat_id].bot_is_member = False


class FakeUser(ChatView):
    """A Telegram user; chat_id is their private chat with the bot (== user id)."""

    def __init__(
        self,
        fake: FakeTelegram,
        user_id: int,
        first_name: str,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
    ) -> None:
        """Register the user in the fake world."""
        self.fake = fake
        self.user_id = user_id
        self.chat_id = user_id
        self.first_name = first_name
        user: JsonDict = {"id": user_id, "is_bot": False, "first_name": first_name}
        optional = {"last_name": last_name, "username": username, "language_code": language_code}
        user.update({key: value for key, value in optional.items() if value is not None})
        self.data = user
        fake.world.add_user(user)

    # ----- sending -------------------------------------------------------------------------

    def _chat_state(self, group: FakeGroup | None) -> ChatState:
        """The chat a message goes to (opening the private chat on first contact)."""
        world = self.fake.world
        world.seen.add(self.user_id)
        if group is not None:
            return world.chats[group.chat_id]
        world.started.add(self.user_id)
        return world.private_chat(self.user_id)

    def _post(self, content: JsonDict, group: FakeGroup | None = None) -> int:
        """Add a user message to the chat and queue the 'message' update."""
        world = self.fake.world
        with world.cond:
            message = world.add_message(self._chat_state(group), self.data, content)
            world.push_update("message", copy.deepcopy(message.payload))
            return message.message_id

    def send(self, text: str, *, reply_to: int | None = None) -> int:
        """Send a text message to the bot; returns its message_id."""
        return self._post(self._text_content(text, reply_to, None))

    def send_in(self, group: FakeGroup, text: str, *, reply_to: int | None = None) -> int:
        """Send a text message in a group."""
        return self._post(self._text_content(text, reply_to, group), group)

    def command(self, command: str, args: str = "") -> int:
        """Send a bot command like '/start' (with a bot_command entity)."""
        return self._post(self._command_content(command, args))

    def command_in(
        self, group: FakeGroup, command: str, args: str = "", *, mention: bool = True
    ) -> int:
        """Send '/command@bot args' in a group."""
        name = f"{command}@{BOT_USERNAME}" if mention else command
        return self._post(self._command_content(name, args), group)

    def _text_content(self, text: str, reply_to: int | None, group: FakeGroup | None) -> JsonDict:
        """Fields of a text message, with reply_to_message if requested."""
        content: JsonDict = {"text": text}
        if reply_to is not None:
            chat_id = group.chat_id if group else self.chat_id
            with self.fake.world.cond:
                state = self.fake.world.chats.get(chat_id)
                replied = self.fake.world.find_message(state, reply_to) if state else None
                if replied is None:
                    raise AssertionError(f"no message {reply_to} to reply to in chat {chat_id}")
                content["reply_to_message"] = copy.deepcopy(replied.payload)
        return content

    @staticmethod
    def _command_content(command: str, args: str) -> JsonDict:
        """Fields of a command message."""
        if not command.startswith("/"):
            command = "/" + command
        text = f"{command} {args}" if args else command
        entity = {"type": "bot_command", "offset": 0, "length": utf16_len(command)}
        return {"text": text, "entities": [entity]}

    def send_photo(self, data: bytes | None = None, *, caption: str | None = None) -> int:
        """Send a photo (a tiny PNG by default)."""
        stored = self.fake.world.add_file(data or TINY_PNG, "photo.png", "image/png")
        content: JsonDict = {"photo": photo_sizes(stored)}
        if caption:
            content["caption"] = caption
        return self._post(content)

    def send_document(
        self,
        data: bytes = b"hello from a fake user\n",
        file_name: str = "notes.txt",
        mime_type: str = "text/plain",
        *,
        caption: str | None = None,
    ) -> int:
        """Send a document."""
        stored = self.fake.world.add_file(data, file_name, mime_type)
        content: JsonDict = {"document": document_object(stored)}
        if caption:
            content["caption"] = caption
        return self._post(content)

    def send_sticker(self, emoji: str = "👍") -> int:
        """Send a (regular, static) sticker."""
        stored = self.fake.world.add_file(FAKE_WEBP, "sticker.webp", "image/webp")
        sticker = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
            "file_size": len(stored.data),
        }
        return self._post({"sticker": sticker})

    def send_voice(self, duration: int = 2) -> int:
        """Send a voice note."""
        stored = self.fake.world.add_file(FAKE_OGG, "voice.ogg", "audio/ogg")
        voice = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "duration": duration,
            "mime_type": "audio/ogg",
            "file_size": len(stored.data),
        }
        return self._post({"voice": voice})

    def share_location(self, latitude: float, longitude: float) -> int:
        """Share a location."""
        return self._post({"location": {"latitude": latitude, "longitude": longitude}})

    def edit(self, message_id: int, new_text: str, *, group: FakeGroup | None = None) -> None:
        """Edit one of this user's text messages (an 'edited_message' update)."""
        world = self.fake.world
        chat_id = group.chat_id if group else self.chat_id
        with world.cond:
            state = world.chats.get(chat_id)
            message = world.find_message(state, message_id) if state else None
            if message is None or message.payload.get("from", {}).get("id") != self.user_id:
                raise AssertionError(
                    f"user {self.user_id} has no message {message_id} in {chat_id}"
                )
            message.payload.update(text=new_text, edit_date=int(time.time()))
            message.payload.pop("entities", None)
            if new_text.startswith("/"):  # Telegram marks a command in an edit as in a message
                command = new_text.split(maxsplit=1)[0]
                message.payload.update(self._command_content(command, ""))
                message.payload["text"] = new_text
            world.push_update("edited_message", copy.deepcopy(message.payload))

    # ----- buttons -------------------------------------------------------------------------

    def press(
        self,
        label_or_data: str,
        message: BotMessage | int | None = None,
        *,
        group: FakeGroup | None = None,
    ) -> str:
        """Press an inline button (label, unique label substring, or callback_data)."""
        world = self.fake.world
        chat_id = message.chat_id if isinstance(message, BotMessage) else None
        chat_id = chat_id or (group.chat_id if group else self.chat_id)
        with world.cond:
            target, data = self._find_button(chat_id, label_or_data, message)
            record = world.new_callback(self.user_id, chat_id, target.message_id, data)
            world.seen.add(self.user_id)
            world.push_update("callback_query", self._callback_body(record, target))
            return record.callback_id

    def press_data(self, data: str, message: BotMessage | int | None = None) -> str:
        """Press a button with any callback data (forged, stale, junk) on one of the bot's
        messages in this chat (the newest by default), whatever buttons that message has."""
        world = self.fake.world
        with world.cond:
            state = world.chats.get(self.chat_id)
            candidates = (
                [m for m in reversed(state.bot_messages()) if not m.deleted] if state else []
            )
            if message is not None:
                wanted_id = message.message_id if isinstance(message, BotMessage) else message
                candidates = [m for m in candidates if m.message_id == wanted_id]
            if not candidates:
                raise AssertionError(f"no bot message to press a button on\n{self.dump()}")
            target = candidates[0]
            record = world.new_callback(self.user_id, self.chat_id, target.message_id, data)
            world.seen.add(self.user_id)
            world.push_update("callback_query", self._callback_body(record, target))
            return record.callback_id

    def _find_button(
        self, chat_id: int, wanted: str, message: BotMessage | int | None
    ) -> tuple[StoredMessage, str]:
        """Message and callback_data of the button to press."""
        state = self.fake.world.chats.get(chat_id)
        candidates = [m for m in reversed(state.bot_messages()) if not m.deleted] if state else []
        if message is not None:
            wanted_id = message.message_id if isinstance(message, BotMessage) else message
            candidates = [m for m in candidates if m.message_id == wanted_id]
        for matcher in (_exact_label, _exact_data, _unique_substring):
            for candidate in candidates:
                button = matcher(candidate, wanted)
                if button is not None:
                    return candidate, _callback_data(button, wanted)
        raise AssertionError(f"no inline button {wanted!r} to press\n{self.dump()}")

    def _callback_body(self, record: CallbackRecord, message: StoredMessage) -> JsonDict:
        """CallbackQuery object for a pressed button."""
        return {
            "id": record.callback_id,
            "from": copy.deepcopy(self.data),
            "message": copy.deepcopy(message.payload),
            "chat_instance": str(-(abs(message.chat_id) * 7919 + 104729)),
            "data": record.data,
        }

    def callback_answers(self) -> list[CallbackAnswer]:
        """answerCallbackQuery calls for this user's button presses, in press order."""
        world = self.fake.world
        with world.cond:
            records = [r for r in world.callbacks.values() if r.user_id == self.user_id]
            return [r.answer for r in records if r.answer is not None]

    def wait_callback_answer(
        self, callback_id: str, *, timeout: float = DEFAULT_TIMEOUT
    ) -> CallbackAnswer:
        """Block until the bot answers the given callback query."""
        world = self.fake.world
        record = world.callbacks.get(callback_id)
        if record is None:
            raise AssertionError(f"unknown callback id {callback_id!r}")
        answer = world.wait_until(lambda: record.answer, timeout)
        if answer is None:
            raise AssertionError(
                f"callback {callback_id} not answered in {timeout}s\n{self.dump()}"
            )
        return answer

    # ----- bot access ----------------------------------------------------------------------

    def block_bot(self) -> None:
        """This user blocks the bot."""
        self.fake.block(self.user_id)

    def unblock_bot(self) -> None:
        """This user unblocks the bot."""
        self.fake.unblock(self.user_id)


def _describe_user_message(message: StoredMessage) -> str:
    """Short summary of a message sent by a fake user."""
    payload = message.payload
    sender = payload.get("from", {}).get("first_name", "?")
    kinds = ("photo", "document", "sticker", "voice", "location")
    kind = next((k for k in kinds if k in payload), None)
    body = payload.get("text") or payload.get("caption") or ""
    return f"#{message.message_id} {sender}: {f'[{kind}] ' if kind else ''}{body!r}"


def _buttons(message: StoredMessage) -> list[JsonDict]:
    """Inline buttons of a stored message, flattened."""
    markup = message.markup or {}
    return [b for row in markup.get("inline_keyboard", []) for b in row if isinstance(b, dict)]


def _exact_label(message: StoredMessage, wanted: str) -> JsonDict | None:
    """Button whose label is exactly wanted."""
    return next((b for b in _buttons(message) if b.get("text") == wanted), None)


def _exact_data(message: StoredMessage, wanted: str) -> JsonDict | None:
    """Button whose callback_data is exactly wanted."""
    return next((b for b in _buttons(message) if b.get("callback_data") == wanted), None)


def _unique_substring(message: StoredMessage, wanted: str) -> JsonDict | None:
    """The only button whose label contains wanted (case-insensitive), if unique."""
    hits = [b for b in _buttons(message) if wanted.casefold() in str(b.get("text")).casefold()]
    if len(hits) > 1:
        labels = [b.get("text") for b in hits]
        raise AssertionError(
            f"{wanted!r} matches several buttons of #{message.message_id}: {labels}"
        )
    return hits[0] if hits else None


def _callback_data(button: JsonDict, wanted: str) -> str:
    """callback_data of a found button (URL buttons can't be pressed)."""
    if "callback_data" not in button:
        raise AssertionError(f"button {wanted!r} has no callback_data: {button}")
    return str(button["callback_data"])
