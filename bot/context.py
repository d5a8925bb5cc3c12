"""A typed callback context, so handlers read `context.store` instead of digging in bot_data."""

from __future__ import annotations

from typing import Any

from telegram.ext import Application, CallbackContext, ExtBot

from bot.settings import Settings
from storage import Store


class BotData(dict[str, Any]):
    """Application-wide objects: the store and the settings."""


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]):
    """The context every handler receives."""

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> None:
        super().__init__(application=application, chat_id=chat_id, user_id=user_id)
        self.left_sections: list[str] = []

    @property
    def store(self) -> Store:
        """The repository."""
        store: Store = self.bot_data["store"]
        return store

    @property
    def settings(self) -> Settings:
        """The settings the bot was started with."""
        settings: Settings = self.bot_data["settings"]
        return settings
