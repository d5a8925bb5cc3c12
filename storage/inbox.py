"""The inbox: updates taken from Telegram and not handled yet, so a confirmed one is never lost.

An update is confirmed to Telegram once it is stored here (one transaction per batch taken), and
its row is removed once it has been handled; the rows a crash leaves are handled at the next
start, each chat's in update order. Updates are plain JSON here (storage knows nothing of
Telegram beyond an update's id and its chat); each is encrypted, as it can hold what a person
wrote, and bound to its chat and update id.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite

from storage.crypto import Cipher, DecryptionError
from storage.database import Database
from storage.models import InboxUpdate, utcnow

logger = logging.getLogger(__name__)

# Ids per DELETE statement (well under SQLite's limit of bound parameters).
CHUNK = 500


def inbox_binding(update_id: int) -> str:
    """The field an inbox row's ciphertext is bound to (its owner is the chat)."""
    return f"inbox:{update_id}"


@dataclass(frozen=True, slots=True)
class Pending:
    """One update in the inbox: its id, its chat (0 for an update without one), its JSON."""

    update_id: int
    chat_id: int
    update: dict[str, Any]


class Inbox:
    """The inbox's rows, behind a few methods in its own words."""

    def __init__(self, db: Database, cipher: Cipher) -> None:
        self.db = db
        self.cipher = cipher

    def _seal(self, item: Pending) -> bytes:
        text = json.dumps(item.update, ensure_ascii=False, separators=(",", ":"))
        return self.cipher.encrypt(
            text, owner=str(item.chat_id), field=inbox_binding(item.update_id)
        )

    def _open(self, row: InboxUpdate) -> Pending:
        text = self.cipher.decrypt(
            row.update_enc, owner=str(row.chat_id), field=inbox_binding(row.update_id)
        )
        return Pending(row.update_id, row.chat_id, json.loads(text))

    async def put(self, items: Sequence[Pending]) -> set[int]:
        """Store updates, all in one transaction; returns the ids stored now (an update
        already in the inbox is left as it is)."""
        if not items:
            return set()
        now = utcnow()
        rows = [
            {
                "update_id": item.update_id,
                "chat_id": item.chat_id,
                "update_enc": self._seal(item),
                "received_at": now,
            }
            for item in items
        ]
        async with self.db.write() as session, session.begin():
            dialect = session.get_bind().dialect.name
            insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
            # One statement: the rows already there are left alone and not returned.
            statement = (
                insert(InboxUpdate)
                .on_conflict_do_nothing(index_elements=[InboxUpdate.update_id])
                .returning(InboxUpdate.update_id)
            )
            return set((await session.execute(statement, rows)).scalars())

    async def pending(
        self, chat_id: int | None = None, *, limit: int | None = None
    ) -> list[Pending]:
        """The updates in the inbox (of one chat, or all), oldest first; `limit=1` with a chat
        is that chat's next one. A row no known key opens is left out (and left as it is)."""
        query = select(InboxUpdate).order_by(InboxUpdate.update_id)
        if chat_id is not None:
            query = query.where(InboxUpdate.chat_id == chat_id)
        if limit is not None:
            query = query.limit(limit)
        async with self.db.read() as session:
            rows = list(await session.scalars(query))
        found = []
        for row in rows:
            try:
                found.append(self._open(row))
            except (DecryptionError, ValueError):
                logger.warning("Inbox update %s cannot be read with the known keys", row.update_id)
        return found

    async def counts(self) -> dict[int, int]:
        """How many updates each chat with any has waiting."""
        async with self.db.read() as session:
            rows = await session.execute(
                select(InboxUpdate.chat_id, func.count()).group_by(InboxUpdate.chat_id)
            )
            return {int(chat): int(count) for chat, count in rows}

    async def done(self, update_ids: Collection[int]) -> None:
        """Remove handled updates (ids not in the inbox are ignored), in one transaction."""
        ids = sorted(set(update_ids))
        if not ids:
            return
        async with self.db.write() as session, session.begin():
            for start in range(0, len(ids), CHUNK):
                chunk = ids[start : start + CHUNK]
                await session.execute(delete(InboxUpdate).where(InboxUpdate.update_id.in_(chunk)))
