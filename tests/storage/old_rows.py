"""Rows written the way an older schema held them, for the migration tests: plain SQL naming only
the columns every revision has, so seeding at revision 0002 does not depend on today's models
(the Store's ORM statements name every column the models have now)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text

from storage import Cipher, Database
from storage.crypto import answer_binding

WHEN = dt.datetime(2026, 10, 1, 12, 0, tzinfo=dt.UTC)


async def add_person(database: Database, telegram_id: int) -> int:
    """A person who consented, as revisions 0001 on store them; returns their id."""
    async with database.write() as session, session.begin():
        await session.execute(
            text(
                "INSERT INTO person (telegram_id, created_at, consent_version, consented_at,"
                " reminder_delay_min, reminders_paused, blocked)"
                " VALUES (:t, :w, '1', :w, 60, :no, :no)"
            ),
            {"t": telegram_id, "w": WHEN, "no": False},
        )
        found = await session.scalar(
            text("SELECT id FROM person WHERE telegram_id = :t"), {"t": telegram_id}
        )
    return int(found)


async def add_answer(
    database: Database,
    cipher: Cipher,
    person_id: int,
    key: str,
    value: str | None,
    *,
    message_id: int | None = None,
    updated_at: dt.datetime = WHEN,
) -> None:
    """One answer (encrypted as the Store seals it), or a skipped prompt when value is None."""
    sealed = (
        None
        if value is None
        else cipher.encrypt(value, owner=str(person_id), field=answer_binding(key))
    )
    async with database.write() as session, session.begin():
        await session.execute(
            text(
                "INSERT INTO answer (person_id, key, value_enc, skipped, source_message_id,"
                " updated_at) VALUES (:p, :k, :v, :s, :m, :u)"
            ),
            {
                "p": person_id,
                "k": key,
                "v": sealed,
                "s": value is None,
                "m": message_id,
                "u": updated_at,
            },
        )
