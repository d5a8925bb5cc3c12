"""Fake Telegram Bot API server and fake users for end-to-end tests of the bot.

Typical use with the fixtures from tests/conftest.py::

    def test_help(bot, user):
        mark = user.mark()
        user.command("/help")
        reply = user.wait_reply(mark)
        assert "Help" in reply.text
        user.press("Back")
"""

from .client import ChatView, FakeGroup, FakeUser
from .html_parser import EntityParseError, ParsedText, parse_html, utf16_len
from .models import (
    ApiError,
    BotMessage,
    CallbackAnswer,
    EditRecord,
    RecordedRequest,
    StoredFile,
)
from .server import FakeTelegram
from .state import BOT_USERNAME
from .webhook import WebhookDelivery

__all__ = [
    "BOT_USERNAME",
    "ApiError",
    "BotMessage",
    "CallbackAnswer",
    "ChatView",
    "EditRecord",
    "EntityParseError",
    "FakeGroup",
    "FakeTelegram",
    "FakeUser",
    "ParsedText",
    "RecordedRequest",
    "StoredFile",
    "WebhookDelivery",
    "parse_html",
    "utf16_len",
]
