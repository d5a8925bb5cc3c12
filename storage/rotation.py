"""Re-encrypting stored text under a new key, in batches (see `python -m bot rotate-key`).

Every batch is its own transaction, so a rotation that stops half-way leaves each value either
under the old key or the new one, never lost; a Cipher that knows both keys reads everything, and
running the rotation again finishes it. Only the write engine is used, so the rotation also works
while that one connection holds the SQLite database exclusively.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select

from storage.crypto import Cipher, answer_binding, session_binding
from storage.database import Database
from storage.inbox import inbox_binding
from storage.models import Answer, InboxUpdate, SessionEntry

BATCH = 500

Row = Answer | SessionEntry | InboxUpdate


def _person_owner(row: Row) -> str:
    assert not isinstance(row, InboxUpdate)
    return str(row.person_id)


@dataclass(frozen=True, slots=True)
class Sealed:
    """One encrypted column and the field its values are bound to (as the repository seals)."""

    model: type[Row]
    column: str
    field: Callable[[Row], str]
    owner: Callable[[Row], str] = _person_owner  # whom its values are bound to


def _answer_field(row: Row) -> str:
    assert isinstance(row, Answer)
    return answer_binding(row.key)


def _session_field(name: str) -> Callable[[Row], str]:
    def field(row: Row) -> str:
        assert isinstance(row, SessionEntry)
        return session_binding(row.uid, name)

    return field


def _inbox_field(row: Row) -> str:
    assert isinstance(row, InboxUpdate)
    return inbox_binding(row.update_id)


def _inbox_owner(row: Row) -> str:
    assert isinstance(row, InboxUpdate)
    return str(row.chat_id)


# Every *_enc column of storage.models (a test checks that none is missing).
SEALED = (
    Sealed(Answer, "value_enc", _answer_field),
    Sealed(SessionEntry, "topic_enc", _session_field("topic")),
    Sealed(SessionEntry, "role_enc", _session_field("role")),
    Sealed(InboxUpdate, "update_enc", _inbox_field, _inbox_owner),
)


def _columns(model: type[Row]) -> list[Sealed]:
    return [sealed for sealed in SEALED if sealed.model is model]


def _models() -> list[type[Row]]:
    return list(dict.fromkeys(sealed.model for sealed in SEALED))


async def reencrypt(
    db: Database, cipher: Cipher, *, batch: int = BATCH, limit: int | None = None
) -> int:
    """Re-encrypt, under the cipher's current key, every value sealed with an older one.

    Returns how many values were re-encrypted; `limit` stops after that many (to test a
    rotation interrupted half-way).
    """
    done = 0
    for model in _models():
        last = 0
        key = model.__mapper__.primary_key[0]
        while limit is None or done < limit:
            async with db.write() as session, session.begin():
                query = select(model).where(key > last).order_by(key).limit(batch)
                rows: list[Row] = list(await session.scalars(query))
                for row in rows:
                    for sealed in _columns(model):
                        if limit is not None and done >= limit:
                            break
                        blob: bytes | None = getattr(row, sealed.column)
                        if blob is None or not cipher.needs_rotation(blob):
                            continue
                        owner, field = sealed.owner(row), sealed.field(row)
                        text = cipher.decrypt(blob, owner=owner, field=field)
                        setattr(row, sealed.column, cipher.encrypt(text, owner=owner, field=field))
                        done += 1
            if len(rows) < batch:
                break
            last = getattr(rows[-1], key.name)
    return done


async def stale_count(db: Database, cipher: Cipher) -> int:
    """How many stored values are still sealed with a key other than the cipher's current one."""
    stale = 0
    for model in _models():
        columns = _columns(model)
        async with db.write() as session, session.begin():
            rows = await session.execute(
                select(*(getattr(model, sealed.column) for sealed in columns))
            )
            for values in rows:
                stale += sum(
                    1 for blob in values if blob is not None and cipher.needs_rotation(blob)
                )
    return stale
