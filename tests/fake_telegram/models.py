"""Plain data records kept by the fake Telegram server and handed to tests."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

JsonDict = dict[str, Any]
ButtonRow = list[tuple[str, str]]


class ApiError(Exception):
    """A Bot API error response: {"ok": false, "error_code": status, "description": ...}."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        """Remember status, description and optional retry_after."""
        super().__init__(f"{status} {description}")
        self.status = status
        self.description = description
        self.retry_after = retry_after

    def payload(self) -> JsonDict:
        """The JSON body Telegram would send."""
        body: JsonDict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(reason: str) -> ApiError:
    """A 400 error with Telegram's 'Bad Request: ' prefix."""
    return ApiError(400, f"Bad Request: {reason}")


def forbidden(reason: str) -> ApiError:
    """A 403 error with Telegram's 'Forbidden: ' prefix."""
    return ApiError(403, f"Forbidden: {reason}")


@dataclass
class RecordedRequest:
    """One Bot API call as the fake received it, plus its outcome."""

    method: str
    params: JsonDict
    time: float
    status: int | None = None
    result: Any = None
    description: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the call succeeded."""
        return self.status == 200

    @property
    def chat_id(self) -> int | None:
        """The integer chat_id parameter, if any."""
        value = self.params.get("chat_id")
        return value if isinstance(value, int) else None


@dataclass
class StoredFile:
    """A file uploaded by the bot or sent by a fake user."""

    file_id: str
    file_unique_id: str
    data: bytes
    file_name: str | None = None
    mime_type: str | None = None

    @property
    def file_path(self) -> str:
        """Path under the file URL where the bytes can be downloaded."""
        return f"files/{self.file_unique_id}/{self.file_name or 'file'}"


@dataclass(frozen=True)
class EditRecord:
    """State of a bot message right after one edit."""

    time: float
    text: str
    html: str | None
    reply_markup: JsonDict | None


@dataclass
class StoredMessage:
    """A message in a chat, as the fake keeps it (payload is the Telegram Message)."""

    payload: JsonDict
    from_bot: bool
    source: str | None = None
    parse_mode: str | None = None
    file_id: str | None = None
    markup: JsonDict | None = None
    edits: list[EditRecord] = field(default_factory=list)
    deleted: bool = False
    seq: int = 0

    @property
    def message_id(self) -> int:
        """Telegram message_id."""
        return int(self.payload["message_id"])

    @property
    def chat_id(self) -> int:
        """Id of the chat holding the message."""
        return int(self.payload["chat"]["id"])


@dataclass
class CallbackAnswer:
    """An answerCallbackQuery call made by the bot."""

    callback_id: str
    user_id: int
    text: str | None
    show_alert: bool
    url: str | None
    cache_time: int
    time: float = field(default_factory=time.time)


@dataclass
class CallbackRecord:
    """A callback query sent by a fake user, and its answer once given."""

    callback_id: str
    user_id: int
    chat_id: int | None
    message_id: int | None
    data: str | None
    answer: CallbackAnswer | None = None


def inline_buttons(markup: JsonDict | None) -> list[ButtonRow]:
    """Rows of (label, callback_data or url or other payload) of an inline keyboard."""
    if not markup or "inline_keyboard" not in markup:
        return []
    rows: list[ButtonRow] = []
    for row in markup["inline_keyboard"]:
        rows.append([(str(button.get("text", "")), _button_payload(button)) for button in row])
    return rows


def _button_payload(button: JsonDict) -> str:
    """The callback_data, url or other action value of an inline button."""
    for key in ("callback_data", "url", "switch_inline_query", "switch_inline_query_current_chat"):
        if key in button:
            return str(button[key])
    return ""


def reply_keyboard(markup: JsonDict | None) -> list[list[str]] | None:
    """Labels of a reply keyboard, or None when the markup is not one."""
    if not markup or "keyboard" not in markup:
        return None
    return [
        [b if isinstance(b, str) else str(b.get("text", "")) for b in row]
        for row in markup["keyboard"]
    ]


@dataclass(frozen=True)
class BotMessage:
    """Snapshot of a bot message in a chat, as a test sees it."""

    message_id: int
    chat_id: int
    text: str
    html: str | None
    caption: str | None
    reply_markup: JsonDict | None
    photo: bytes | None
    document: bytes | None
    document_name: str | None
    edits: int
    deleted: bool
    event: str
    seq: int
    raw: JsonDict = field(repr=False, compare=False)

    @property
    def buttons(self) -> list[ButtonRow]:
        """Inline keyboard as rows of (label, callback_data or url)."""
        return inline_buttons(self.reply_markup)

    @property
    def button_labels(self) -> list[str]:
        """All inline button labels, row by row."""
        return [label for row in self.buttons for label, _ in row]

    @property
    def keyboard(self) -> list[list[str]] | None:
        """Reply keyboard labels, if the message set a reply keyboard."""
        return reply_keyboard(self.reply_markup)

    @property
    def content(self) -> str:
        """Text of a text message, otherwise the caption (or '')."""
        return self.text or self.caption or ""

    def has_button(self, label: str) -> bool:
        """Whether an inline button with exactly this label exists."""
        return label in self.button_labels

    def data_for(self, label: str) -> str:
        """callback_data (or url) of the button with exactly this label."""
        for row in self.buttons:
            for text, data in row:
                if text == label:
                    return data
        raise AssertionError(f"no button {label!r} in message {self.message_id}: {self.buttons}")

    def describe(self) -> str:
        """Human-readable one-message summary used in failure dumps."""
        kind = (
            "photo" if self.photo is not None else "document" if self.document is not None else ""
        )
        head = f"#{self.message_id}{' [' + kind + ']' if kind else ''}"
        flags = f"{' edited x' + str(self.edits) if self.edits else ''}"
        flags += " (deleted)" if self.deleted else ""
        lines = [f"{head}{flags}: {self.content!r}"]
        lines.extend(f"    buttons: {row}" for row in self.buttons)
        if self.keyboard:
            lines.append(f"    keyboard: {self.keyboard}")
        return "\n".join(lines)
