"""Bot API methods of the fake server; each runs with the world lock held."""

from __future__ import annotations

import copy
import json
import mimetypes
import re
from collections.abc import Callable
from typing import Any

from .html_parser import ParsedText
from .models import (
    CallbackAnswer,
    JsonDict,
    StoredFile,
    StoredMessage,
    bad_request,
)
from .params import Params
from .state import ChatState, World
from .validation import format_text, image_size, validate_markup

Handler = Callable[[World, Params], Any]
METHODS: dict[str, tuple[str, Handler]] = {}
SEND_METHODS = frozenset(
    {"sendMessage", "sendPhoto", "sendDocument", "editMessageText", "editMessageReplyMarkup"}
    | {"editMessageCaption"}
)
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")


def api_method(name: str) -> Callable[[Handler], Handler]:
    """Register a handler under a case-insensitive Bot API method name."""

    def register(handler: Handler) -> Handler:
        METHODS[name.lower()] = (name, handler)
        return handler

    return register


def lookup(method: str) -> tuple[str, Handler] | None:
    """Canonical name and handler of a method (case-insensitive), if implemented."""
    return METHODS.get(method.lower())


# ----- helpers ---------------------------------------------------------------------------------


def _chat(world: World, params: Params) -> ChatState:
    """Target chat of a call, checked like Telegram."""
    if params.get("chat_id") in (None, ""):
        raise bad_request("chat_id is empty")
    return world.chat_for_bot(params.get("chat_id"))


def _text_fields(parsed: ParsedText | None, text_key: str, entities_key: str) -> JsonDict:
    """Message fields for parsed text (None values mean 'remove' on edits)."""
    if parsed is None:
        return {text_key: None, entities_key: None}
    return {text_key: parsed.text, entities_key: parsed.entities or None}


def _markup_field(markup: JsonDict | None) -> JsonDict:
    """Only inline keyboards are echoed back in Message.reply_markup."""
    return {"reply_markup": markup if markup and "inline_keyboard" in markup else None}


def _reply_field(world: World, state: ChatState, params: Params) -> JsonDict:
    """reply_to_message for reply_parameters / reply_to_message_id."""
    reply = params.get("reply_parameters")
    target = reply.get("message_id") if isinstance(reply, dict) else None
    target = target if target is not None else params.get("reply_to_message_id")
    if target is None:
        return {}
    message = world.find_message(state, target)
    if message is None:
        allow = params.get("allow_sending_without_reply")
        if isinstance(reply, dict):
            allow = allow or reply.get("allow_sending_without_reply")
        if allow:
            return {}
        raise bad_request("message to be replied not found")
    replied = copy.deepcopy(message.payload)
    replied.pop("reply_to_message", None)
    return {"reply_to_message": replied}


def _compact(fields: JsonDict) -> JsonDict:
    """Drop None values (for new messages)."""
    return {key: value for key, value in fields.items() if value is not None}


def _send(
    world: World, state: ChatState, params: Params, fields: JsonDict, **meta: Any
) -> JsonDict:
    """Store a new bot message and return its payload."""
    content = _compact({**fields, **_reply_field(world, state, params)})
    message = world.add_message(state, world.bot_user, content, **meta)
    return copy.deepcopy(message.payload)


def _editable(world: World, params: Params) -> tuple[ChatState, StoredMessage]:
    """Chat and bot message addressed by an edit call."""
    if params.get("inline_message_id"):
        raise bad_request("MESSAGE_ID_INVALID")
    state = _chat(world, params)
    if params.get("message_id") is None:
        raise bad_request("message identifier is not specified")
    message = world.find_message(state, params.get("message_id"))
    if message is None:
        raise bad_request("message to edit not found")
    if not message.from_bot:
        raise bad_request("message can't be edited")
    return state, message


def _ensure_modified(message: StoredMessage, changes: JsonDict) -> None:
    """Reject edits that change nothing."""
    if all((message.payload.get(key) or None) == (value or None) for key, value in changes.items()):
        raise bad_request(NOT_MODIFIED)


def _input_file(world: World, params: Params, field: str) -> StoredFile:
    """The file given for a send method: a fresh upload or a known file_id."""
    upload = params.upload(field)
    if upload is not None:
        if not upload.data:
            raise bad_request("file must be non-empty")
        name = upload.filename
        mime = (mimetypes.guess_type(name)[0] if name else None) or upload.content_type
        return world.add_file(upload.data, name, mime or "application/octet-stream")
    value = params.get(field)
    if isinstance(value, str) and value:
        known = world.files.get(value)
        if known is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        return known
    raise bad_request(f"there is no {field} in the request")


def _caption(world: World, params: Params) -> ParsedText | None:
    """Parsed caption of a media message."""
    return format_text(
        params.get("caption"),
        params.get("parse_mode"),
        params.get("caption_entities"),
        caption=True,
        strict=world.strict_html,
    )


def _media_send(
    world: World, params: Params, field: str, media: Any, stored: StoredFile
) -> JsonDict:
    """Shared tail of sendPhoto/sendDocument."""
    state = _chat(world, params)
    caption = _caption(world, params)
    markup = validate_markup(params.get("reply_markup"))
    fields = {field: media, **_text_fields(caption, "caption", "caption_entities")}
    fields.update(_markup_field(markup))
    meta = {"source": params.get("caption"), "parse_mode": params.get("parse_mode")}
    return _send(world, state, params, fields, file_id=stored.file_id, markup=markup, **meta)


def photo_sizes(stored: StoredFile) -> list[JsonDict]:
    """PhotoSize list for a stored image."""
    width, height = image_size(stored.data)
    return [
        {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "width": width,
            "height": height,
        }
    ]


def document_object(stored: StoredFile) -> JsonDict:
    """Document object for a stored file."""
    return _compact(
        {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_name": stored.file_name,
            "mime_type": stored.mime_type,
            "file_size": len(stored.data),
        }
    )


def _commands_key(params: Params) -> str:
    """Storage key for a command list (scope + language)."""
    scope = params.get("scope") or {"type": "default"}
    return json.dumps({"scope": scope, "lang": params.get("language_code") or ""}, sort_keys=True)


# ----- methods ---------------------------------------------------------------------------------


@api_method("getMe")
def get_me(world: World, params: Params) -> JsonDict:
    """The bot's own User object."""
    return {
        **world.bot_user,
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


@api_method("sendMessage")
def send_message(world: World, params: Params) -> JsonDict:
    """Send a text message."""
    state = _chat(world, params)
    parsed = format_text(
        params.get("text"),
        params.get("parse_mode"),
        params.get("entities"),
        caption=False,
        strict=world.strict_html,
    )
    markup = validate_markup(params.get("reply_markup"))
    fields = {**_text_fields(parsed, "text", "entities"), **_markup_field(markup)}
    meta = {"source": params.get("text"), "parse_mode": params.get("parse_mode")}
    return _send(world, state, params, fields, markup=markup, **meta)


@api_method("editMessageText")
def edit_message_text(world: World, params: Params) -> JsonDict:
    """Replace the text (and keyboard) of a bot message."""
    state, message = _editable(world, params)
    if "text" not in message.payload:
        raise bad_request("there is no text in the message to edit")
    parsed = format_text(
        params.get("text"),
        params.get("parse_mode"),
        params.get("entities"),
        caption=False,
        strict=world.strict_html,
    )
    markup = validate_markup(params.get("reply_markup"), inline_only=True)
    changes = {**_text_fields(parsed, "text", "entities"), **_markup_field(markup)}
    _ensure_modified(message, changes)
    meta = {"source": params.get("text"), "parse_mode": params.get("parse_mode")}
    world.edit_message(state, message, changes, markup=markup, **meta)
    return copy.deepcopy(message.payload)


@api_method("editMessageCaption")
def edit_message_caption(world: World, params: Params) -> JsonDict:
    """Replace the caption (and keyboard) of a bot media message."""
    state, message = _editable(world, params)
    if "text" in message.payload:
        raise bad_request("there is no caption in the message to edit")
    caption = _caption(world, params)
    markup = validate_markup(params.get("reply_markup"), inline_only=True)
    changes = {**_text_fields(caption, "caption", "caption_entities"), **_markup_field(markup)}
    _ensure_modified(message, changes)
    meta = {"source": params.get("caption"), "parse_mode": params.get("parse_mode")}
    world.edit_message(state, message, changes, markup=markup, **meta)
    return copy.deepcopy(message.payload)


@api_method("editMessageReplyMarkup")
def edit_message_reply_markup(world: World, params: Params) -> JsonDict:
    """Replace (or remove) the inline keyboard of a bot message."""
    state, message = _editable(world, params)
    markup = validate_markup(params.get("reply_markup"), inline_only=True)
    changes = _markup_field(markup)
    _ensure_modified(message, changes)
    world.edit_message(state, message, changes, markup=markup)
    return copy.deepcopy(message.payload)


@api_method("answerCallbackQuery")
def answer_callback_query(world: World, params: Params) -> bool:
    """Answer a callback query exactly once."""
    record = world.callbacks.get(str(params.get("callback_query_id")))
    if record is None or record.answer is not None:
        raise bad_request(QUERY_TOO_OLD)
    text = params.get("text")
    if isinstance(text, str) and len(text) > 200:
        raise bad_request("MESSAGE_TOO_LONG")
    record.answer = CallbackAnswer(
        callback_id=record.callback_id,
        user_id=record.user_id,
        text=text if isinstance(text, str) else None,
        show_alert=bool(params.get("show_alert", False)),
        url=params.get("url"),
        cache_time=int(params.get("cache_time") or 0),
    )
    world.changed()
    return True


@api_method("setMyCommands")
def set_my_commands(world: World, params: Params) -> bool:
    """Store the command list for a scope/language."""
    commands = params.get("commands")
    if not isinstance(commands, list) or len(commands) > 100:
        raise bad_request("can't parse commands JSON array")
    for command in commands:
        name = command.get("command") if isinstance(command, dict) else None
        description = command.get("description") if isinstance(command, dict) else None
        if not isinstance(name, str) or not COMMAND_RE.match(name):
            raise bad_request("BOT_COMMAND_INVALID")
        if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
    world.commands[_commands_key(params)] = [
        {"command": c["command"], "description": c["description"]} for c in commands
    ]
    return True


@api_method("getMyCommands")
def get_my_commands(world: World, params: Params) -> list[JsonDict]:
    """The command list for a scope/language."""
    return copy.deepcopy(world.commands.get(_commands_key(params), []))


@api_method("deleteMyCommands")
def delete_my_commands(world: World, params: Params) -> bool:
    """Forget the command list for a scope/language."""
    world.commands.pop(_commands_key(params), None)
    return True


def _profile_text(params: Params, key: str, limit: int) -> str:
    value = params.get(key) or ""
    if not isinstance(value, str) or len(value) > limit:
        raise bad_request(f"{key.upper()}_INVALID")
    return value


@api_method("setMyDescription")
def set_my_description(world: World, params: Params) -> bool:
    """The text shown in an empty chat with the bot (0-512 characters), per language."""
    world.descriptions[str(params.get("language_code") or "")] = _profile_text(
        params, "description", 512
    )
    return True


@api_method("getMyDescription")
def get_my_description(world: World, params: Params) -> JsonDict:
    lang = str(params.get("language_code") or "")
    return {"description": world.descriptions.get(lang, world.descriptions.get("", ""))}


@api_method("setMyShortDescription")
def set_my_short_description(world: World, params: Params) -> bool:
    """The text on the bot's profile page (0-120 characters), per language."""
    world.short_descriptions[str(params.get("language_code") or "")] = _profile_text(
        params, "short_description", 120
    )
    return True


@api_method("getMyShortDescription")
def get_my_short_description(world: World, params: Params) -> JsonDict:
    lang = str(params.get("language_code") or "")
    found = world.short_descriptions.get(lang, world.short_descriptions.get("", ""))
    return {"short_description": found}


@api_method("setChatMenuButton")
def set_chat_menu_button(world: World, params: Params) -> bool:
    """The menu button of one private chat, or the default one (no chat_id)."""
    button = params.get("menu_button") or {"type": "default"}
    if not isinstance(button, dict) or button.get("type") not in ("commands", "web_app", "default"):
        raise bad_request("can't parse menu button")
    chat = params.get("chat_id")
    world.menu_buttons[int(chat) if chat is not None else None] = dict(button)
    return True


@api_method("getChatMenuButton")
def get_chat_menu_button(world: World, params: Params) -> JsonDict:
    chat = params.get("chat_id")
    key = int(chat) if chat is not None else None
    return dict(world.menu_buttons.get(key, world.menu_buttons.get(None, {"type": "default"})))


WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


@api_method("setWebhook")
def set_webhook(world: World, params: Params) -> bool:
    """Set the webhook the fake POSTs pending updates to (see webhook.py); "" removes it."""
    url = str(params.get("url") or "")
    if url and not re.match(r"https?://[^/?#]+", url):
        raise bad_request("bad webhook: an HTTPS URL must be provided for webhook")
    secret = params.get("secret_token")
    if secret is not None and not WEBHOOK_SECRET.fullmatch(str(secret)):
        raise bad_request("secret token contains unallowed characters")
    connections = params.get("max_connections")
    if connections is not None and not (isinstance(connections, int) and 1 <= connections <= 100):
        raise bad_request("bad webhook: max_connections must be between 1 and 100")
    allowed = params.get("allowed_updates")
    if isinstance(allowed, list):
        world.allowed_updates = [str(kind) for kind in allowed]
    world.webhook = {
        "url": url,
        "max_connections": connections,
        "allowed_updates": allowed,
        "secret_token": None if secret is None else str(secret),
    }
    if params.get("drop_pending_updates"):
        world.drop_updates()
    return True


@api_method("deleteWebhook")
def delete_webhook(world: World, params: Params) -> bool:
    """Remove the webhook, optionally dropping pending updates."""
    world.webhook = {"url": ""}
    if params.get("drop_pending_updates"):
        world.drop_updates()
    return True


@api_method("getWebhookInfo")
def get_webhook_info(world: World, params: Params) -> JsonDict:
    """Current webhook status."""
    info: JsonDict = {
        "url": world.webhook.get("url", ""),
        "has_custom_certificate": False,
        "pending_update_count": len(world.updates),
    }
    for key in ("max_connections", "allowed_updates", "last_error_date", "last_error_message"):
        if world.webhook.get(key) is not None and info["url"]:
            info[key] = world.webhook[key]
    return info


@api_method("sendPhoto")
def send_photo(world: World, params: Params) -> JsonDict:
    """Send a photo (upload or file_id) with an optional caption."""
    _chat(world, params)
    stored = _input_file(world, params, "photo")
    return _media_send(world, params, "photo", photo_sizes(stored), stored)


@api_method("sendDocument")
def send_document(world: World, params: Params) -> JsonDict:
    """Send a document (upload or file_id) with an optional caption."""
    _chat(world, params)
    stored = _input_file(world, params, "document")
    return _media_send(world, params, "document", document_object(stored), stored)


@api_method("sendChatAction")
def send_chat_action(world: World, params: Params) -> bool:
    """Show a chat action such as 'typing'."""
    _chat(world, params)
    if params.get("action") not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    return True


@api_method("deleteMessage")
def delete_message(world: World, params: Params) -> bool:
    """Delete a message from a chat."""
    state = _chat(world, params)
    message = world.find_message(state, params.get("message_id"))
    if message is None:
        raise bad_request("message to delete not found")
    message.deleted = True
    world.changed()
    return True


@api_method("leaveChat")
def leave_chat(world: World, params: Params) -> bool:
    """Make the bot leave a group."""
    state = _chat(world, params)
    if state.chat["type"] == "private":
        raise bad_request("chat member status can't be changed in private chats")
    state.bot_is_member = False
    return True


@api_method("getChat")
def get_chat(world: World, params: Params) -> JsonDict:
    """ChatFullInfo for a known chat."""
    state = world.find_chat(params.get("chat_id"))
    return {
        **copy.deepcopy(state.chat),
        "accent_color_id": 0,
        "max_reaction_count": 11,
        "accepted_gift_types": {
            "unlimited_gifts": False,
            "limited_gifts": False,
            "unique_gifts": False,
            "premium_subscription": False,
            "gifts_from_channels": False,
        },
    }


@api_method("getFile")
def get_file(world: World, params: Params) -> JsonDict:
    """File info with a download path under the file URL."""
    stored = world.files.get(str(params.get("file_id")))
    if stored is None:
        raise bad_request("invalid file_id")
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": len(stored.data),
        "file_path": stored.file_path,
    }


@api_method("close")
def close(world: World, params: Params) -> bool:
    """Accept close."""
    return True


@api_method("logOut")
def log_out(world: World, params: Params) -> bool:
    """Accept logOut."""
    return True
