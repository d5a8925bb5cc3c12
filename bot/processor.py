"""Update processing: different people at once, each person's updates strictly in order."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot.visit import set_visit
from storage.repository import Visit

logger = logging.getLogger(__name__)


def _chat_key(update: object) -> int | None:
    if isinstance(update, Update):
        if update.effective_chat is not None:
            return update.effective_chat.id
        if update.effective_user is not None:
            return update.effective_user.id
    return None


# PTB's own semaphore (BaseUpdateProcessor.process_update, which is final) is taken before
# do_process_update runs, so before the chat's lock: with the real limit there, one chat's queue
# would hold the slots while it waits for its own lock. It gets this instead; the limit is ours,
# taken after the chat's lock.
UNLIMITED = 1 << 20


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Runs updates of different chats concurrently and those of one chat one after another.

    Before an update's handlers run, its visit is read in one statement (bot/visit.py).

    Updates arrive from one fetcher task in order; each is processed in its own task. A FIFO lock
    per chat, taken before the first suspension point, keeps a chat's updates in arrival order;
    only the update at the head of its chat then waits for one of the `max_concurrent_updates`
    slots, so a long queue in one chat never keeps another chat's update waiting.
    """

    def __init__(
        self,
        max_concurrent_updates: int,
        *,
        visit: Callable[[int, int], Awaitable[Visit]] | None = None,
        finished: Callable[[int, bool], None] | None = None,
    ) -> None:
        if max_concurrent_updates < 1:
            raise ValueError("max_concurrent_updates must be a positive integer")
        super().__init__(max(UNLIMITED, max_concurrent_updates))
        self._slots = asyncio.Semaphore(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._waiting: dict[int, int] = {}
        self._visit = visit
        self._finished = finished

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Waits for the chat's earlier updates and a free slot, then processes this one;
        `finished(update_id, done)` is told after, done False if a stop cut it short."""
        done = True
        try:
            await self._in_order(update, coroutine)
        except asyncio.CancelledError:
            done = False
            raise
        finally:
            if self._finished is not None and isinstance(update, Update):
                self._finished(update.update_id, done)

    async def _in_order(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = _chat_key(update)
        if key is None:
            async with self._slots:
                await self._run(update, coroutine)
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            async with lock, self._slots:
                await self._run(update, coroutine)
        finally:
            self._waiting[key] -= 1
            if self._waiting[key] == 0:
                del self._waiting[key]
                del self._locks[key]

    async def _run(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Reads the update's visit (person, place, handled before?) and handles the update."""
        visit = None
        user = update.effective_user if isinstance(update, Update) else None
        if self._visit is not None and isinstance(update, Update) and user is not None:
            visit = await self._visit(user.id, update.update_id)
            if visit.handled:
                logger.info("Update %s was already handled; skipping it", update.update_id)
                if asyncio.iscoroutine(coroutine):
                    coroutine.close()
                return
        set_visit(visit)
        await coroutine

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""
