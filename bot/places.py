"""Where a person is in the sections, as PTB holds it in memory (the store holds it on disk).

PTB has no public way to end another handler's conversation or to set its state from outside;
these functions are the one place that reaches into ConversationHandler's private state, kept
equal to the state stored with each answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from telegram.ext import Application, ConversationHandler

from storage import Store


def open_in(
    conversations: Iterable[ConversationHandler[Any]], key: tuple[int, int]
) -> list[ConversationHandler[Any]]:
    """The conversations a person (chat, user) is in."""
    return [c for c in conversations if key in getattr(c, "_conversations", {})]


def end(conversations: list[ConversationHandler[Any]], key: tuple[int, int]) -> list[str]:
    """Ends these conversations for a person; their names."""
    for conversation in conversations:
        conversation._update_state(ConversationHandler.END, key)
    return [str(c.name) for c in conversations]


def end_sections(
    application: Application[Any, Any, Any, Any, Any, Any], key: tuple[int, int]
) -> list[str]:
    """Ends in memory every section a person is in (their stored places are the caller's)."""
    conversations = (
        handler
        for group in application.handlers.values()
        for handler in group
        if isinstance(handler, ConversationHandler)
    )
    return end(open_in(conversations, key), key)


async def back_to_stored_places(
    application: Application[Any, Any, Any, Any, Any, Any], store: Store, user_id: int
) -> None:
    """Puts a person's sections back where their stored places say.

    A handler that saved an answer (with the place after it) and then failed, say while sending
    the next prompt, never returns its new state to PTB; without this, the next answer would be
    taken as the answer to the question before and overwrite it.
    """
    key = (user_id, user_id)
    for group in application.handlers.values():
        for conversation in group:
            if isinstance(conversation, ConversationHandler):
                place = await store.position(user_id, str(conversation.name))
                in_memory = key in getattr(conversation, "_conversations", {})
                if place is not None:
                    conversation._update_state(place.state, key)
                elif in_memory:
                    conversation._update_state(ConversationHandler.END, key)
