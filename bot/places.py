"""Where a person is: one place per person, read with the visit, written with each answer.

The store holds a person's one place (section, state, small data); every update's visit reads
it. `PlaceHandler` is the one small subclass that reaches into PTB's ConversationHandler: PTB
keeps each conversation's state in a private dict and has no public way to set it from outside,
so before PTB looks at an update the handler sets its state for the person from the visit's
place (the section's state if the place is in this section, none otherwise). PTB's own memory
is never trusted across updates, so a restart, a failed send after a saved answer, another
process of an active/standby pair, or a switch to another section all read the same place.
"""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import ConversationHandler

from bot.visit import current_visit


class PlaceHandler(ConversationHandler[Any]):
    """A section's conversation whose state comes from the person's stored place."""

    def check_update(self, update: object) -> Any:
        if isinstance(update, Update) and update.effective_chat and update.effective_user:
            key = (update.effective_chat.id, update.effective_user.id)
            visit = current_visit()
            place = visit.place if visit is not None else None
            # PTB's private state dict, kept equal to the stored place (see the module's doc).
            states = self._conversations
            if place is not None and place.section == self.name:
                states[key] = place.state
            else:
                states.pop(key, None)
        return super().check_update(update)
