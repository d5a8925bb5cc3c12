"""Conversation state kept in our own database (no pickle files for health data).

Sections write their state in the same transaction as the answer that moved it (see
`conversations.kit.steps`), so a crash never leaves state and answers disagreeing. This class only
hands those states to PTB's ConversationHandlers at start-up; PTB's periodic writes are ignored
because they could overwrite a newer state with an older one.
"""

from __future__ import annotations

from typing import Any

from telegram.ext import BasePersistence, PersistenceInput
from telegram.ext._utils.types import CDCData, ConversationDict, ConversationKey

from storage import Store


class StorePersistence(BasePersistence[dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """Reads conversation states from the store; keeps no user, chat or bot data."""

    def __init__(self, store: Store) -> None:
        super().__init__(
            store_data=PersistenceInput(
                bot_data=False, chat_data=False, user_data=False, callback_data=False
            ),
            update_interval=3600,
        )
        self._store = store

    async def get_conversations(self, name: str) -> ConversationDict:
        """States of one section, keyed like PTB's private-chat conversations."""
        states = await self._store.positions(name)
        return {(tid, tid): state for tid, state in states.items()}

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        """Ignored: states are written with the answers, in the same transaction."""

    async def get_user_data(self) -> dict[int, dict[Any, Any]]:
        """No user data is kept."""
        return {}

    async def get_chat_data(self) -> dict[int, dict[Any, Any]]:
        """No chat data is kept."""
        return {}

    async def get_bot_data(self) -> dict[Any, Any]:
        """No bot data is kept."""
        return {}

    async def get_callback_data(self) -> CDCData | None:
        """Callback data is not arbitrary, so nothing is kept."""
        return None

    async def update_user_data(self, user_id: int, data: dict[Any, Any]) -> None:
        """Not kept."""

    async def update_chat_data(self, chat_id: int, data: dict[Any, Any]) -> None:
        """Not kept."""

    async def update_bot_data(self, data: dict[Any, Any]) -> None:
        """Not kept."""

    async def update_callback_data(self, data: CDCData) -> None:
        """Not kept."""

    async def drop_chat_data(self, chat_id: int) -> None:
        """Not kept."""

    async def drop_user_data(self, user_id: int) -> None:
        """Not kept."""

    async def refresh_user_data(self, user_id: int, user_data: dict[Any, Any]) -> None:
        """Not kept."""

    async def refresh_chat_data(self, chat_id: int, chat_data: dict[Any, Any]) -> None:
        """Not kept."""

    async def refresh_bot_data(self, bot_data: dict[Any, Any]) -> None:
        """Not kept."""

    async def flush(self) -> None:
        """Nothing buffered."""
