"""One render at a time per person and kind: an export's files, a summary with its chart.

Making them takes a second or more of CPU. A person's updates are handled one after another
(bot/processor.py), so a render inside the update would hold their later messages back, and
asking again and again would queue render after render. Instead the work runs as a task of its
own (PTB's `create_task`, which the bot's stop waits for) and the update is done; while it runs,
another request of the same kind from the same person gets a short word that it is on its way,
and nothing more happens. Kept in memory, per process: after a restart nothing is in flight.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Update

from bot.context import BotContext
from conversations.kit.steps import send
from conversations.worksheet.content import t

SLOT = "renders"  # in bot_data: the (person, kind) pairs being made


def _running(context: BotContext) -> set[tuple[int, str]]:
    running: set[tuple[int, str]] = context.bot_data.setdefault(SLOT, set())
    return running


async def render_once(
    update: Update,
    context: BotContext,
    kind: str,
    work: Callable[[], Coroutine[Any, Any, None]],
    *,
    busy: str,
) -> None:
    """Starts `work` as its own task unless one of the same kind is being made for the person;
    then the person gets the words at `busy` instead."""
    user = update.effective_user
    if user is None:
        return
    key = (user.id, kind)
    running = _running(context)
    if key in running:
        await send(update, t(busy))
        return
    running.add(key)

    async def run() -> None:
        try:
            await work()
        finally:
            running.discard(key)

    context.application.create_task(run(), update=update, name=f"render:{kind}")
