"""Decoding of Bot API request parameters (query, JSON, urlencoded and multipart bodies)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.web_request import FileField

from .models import ApiError, JsonDict, bad_request

INT_FIELDS = frozenset(
    {
        "chat_id",
        "message_id",
        "offset",
        "limit",
        "timeout",
        "cache_time",
        "reply_to_message_id",
        "user_id",
        "message_thread_id",
        "max_connections",
        "duration",
        "width",
        "height",
    }
)
BOOL_FIELDS = frozenset(
    {
        "disable_notification",
        "protect_content",
        "show_alert",
        "drop_pending_updates",
        "disable_web_page_preview",
        "allow_sending_without_reply",
        "disable_content_type_detection",
        "has_spoiler",
        "show_caption_above_media",
        "allow_paid_broadcast",
        "revoke_messages",
    }
)
JSON_FIELDS = {
    "reply_markup": "can't parse reply keyboard markup JSON object",
    "entities": "can't parse entities JSON object",
    "caption_entities": "can't parse entities JSON object",
    "allowed_updates": "can't parse allowed updates JSON array",
    "commands": "can't parse commands JSON array",
    "scope": "can't parse BotCommandScope JSON object",
    "menu_button": "can't parse menu button JSON object",
    "link_preview_options": "can't parse link preview options JSON object",
    "reply_parameters": "can't parse reply parameters JSON object",
    "media": "can't parse media JSON object",
}


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request."""

    data: bytes
    filename: str | None
    content_type: str | None


@dataclass(frozen=True)
class Params:
    """Decoded parameters of one call, plus uploaded files by part name."""

    values: JsonDict
    uploads: dict[str, Upload]

    def get(self, name: str, default: Any = None) -> Any:
        """Parameter value or default."""
        return self.values.get(name, default)

    def upload(self, name: str) -> Upload | None:
        """The file sent for parameter name (directly or via attach://), if any."""
        if name in self.uploads:
            return self.uploads[name]
        value = self.values.get(name)
        if isinstance(value, str) and value.startswith("attach://"):
            return self.uploads.get(value[len("attach://") :])
        return None


async def read_params(request: web.Request) -> Params:
    """Collect the call's parameters from the query string and the body."""
    values: JsonDict = dict(request.query)
    uploads: dict[str, Upload] = {}
    if request.content_type == "application/json":
        body = await _read_json(request)
        values.update(body)
    elif request.method == "POST" and request.body_exists:
        form = await request.post()
        for name, value in form.items():
            if isinstance(value, FileField):
                uploads[name] = Upload(value.file.read(), value.filename, value.content_type)
            else:
                values[name] = value
    return Params({name: coerce(name, value) for name, value in values.items()}, uploads)


async def _read_json(request: web.Request) -> JsonDict:
    """Read a JSON object body."""
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise bad_request("can't parse JSON object") from exc
    if not isinstance(body, dict):
        raise bad_request("JSON object expected")
    return body


def coerce(name: str, value: Any) -> Any:
    """Turn a form string into the type the Bot API expects for this parameter."""
    if not isinstance(value, str):
        return value
    if name in INT_FIELDS:
        return _to_int(name, value)
    if name in BOOL_FIELDS:
        return value.strip().lower() in ("true", "1", "yes")
    if name in JSON_FIELDS:
        return _to_json(name, value)
    return value


def _to_int(name: str, value: str) -> int | str:
    """Parse an integer; chat_id may also be an @username."""
    try:
        return int(value.strip())
    except ValueError:
        if name == "chat_id":
            return value
        raise bad_request(f'field "{name}" must be an Integer') from None


def _to_json(name: str, value: str) -> Any:
    """Parse a JSON-encoded complex parameter."""
    try:
        return json.loads(value)
    except ValueError:
        raise bad_request(JSON_FIELDS[name]) from None


def require_int(params: Params, name: str, error: ApiError) -> int:
    """An integer parameter that must be present."""
    value = params.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise error
    return value
