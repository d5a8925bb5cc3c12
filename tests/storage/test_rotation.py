"""Re-encrypting under a new key: everything readable with the new key alone afterwards, and an
interrupted rotation readable with both keys, then finished by running it again."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from storage import Cipher, Store
from storage.crypto import DecryptionError, generate_key
from storage.models import Answer, Base, SessionEntry
from storage.rotation import SEALED, reencrypt, stale_count

PEOPLE = (11, 12, 13)


async def fill(store: Store) -> dict[int, tuple[dict[str, str | None], list[tuple[object, ...]]]]:
    """Answers (one skipped) and session entries (one without a role) for a few people."""
    for person in PEOPLE:
        await store.consent(person, "1")
        async with store.unit(person) as unit:
            await unit.save_answer("reflect.q1", f"Trust, for {person}, is ✨ being heard")
            await unit.save_answer("finish.trust", f"Yes ({person})")
            await unit.skip_answer("reflect.q2")
            first = await unit.new_session_entry(dt.date(2026, 3, 1))
            await unit.update_session_entry(first, topic=f"work {person}", role="listen", trust=7)
            second = await unit.new_session_entry(dt.date(2026, 3, 8))
            await unit.update_session_entry(second, topic="family", complete=True)
    return await contents(store)


async def contents(
    store: Store,
) -> dict[int, tuple[dict[str, str | None], list[tuple[object, ...]]]]:
    """Everything the people stored, decrypted."""
    found = {}
    for person in PEOPLE:
        answers = {key: value.text for key, value in (await store.answers(person)).items()}
        sessions = [
            (row.session_date, row.topic, row.role, row.trust)
            for row in await store.sessions(person, drafts=True)
        ]
        found[person] = (answers, sessions)
    return found


async def blobs(store: Store) -> list[bytes]:
    """Every encrypted value as stored."""
    async with store.db.read() as session:
        values = list(await session.scalars(select(Answer.value_enc)))
        for column in (SessionEntry.topic_enc, SessionEntry.role_enc):
            values.extend(await session.scalars(select(column)))
    return [value for value in values if value is not None]


def test_every_encrypted_column_is_rotated() -> None:
    encrypted = {
        (table.name, column.name)
        for table in Base.metadata.tables.values()
        for column in table.columns
        if column.name.endswith("_enc")
    }
    rotated = {(str(sealed.model.__tablename__), sealed.column) for sealed in SEALED}
    assert rotated == encrypted


async def test_after_rotation_the_new_key_alone_reads_everything(store: Store, key: bytes) -> None:
    before = await fill(store)
    stored = await blobs(store)
    assert len(stored) == 3 * 5
    new = generate_key()
    both = Cipher(new, older=[key])
    assert await stale_count(store.db, both) == 15

    assert await reencrypt(store.db, both, batch=2) == 15

    only_new = Cipher(new)
    assert await contents(Store(store.db, only_new)) == before
    assert not any(only_new.needs_rotation(blob) for blob in await blobs(store))
    assert not set(stored) & set(await blobs(store))
    assert await stale_count(store.db, only_new) == 0
    assert await reencrypt(store.db, both) == 0
    # The old key alone reads none of it any more.
    with pytest.raises(DecryptionError):
        await Store(store.db, Cipher(key)).answers(PEOPLE[0])


async def test_an_interrupted_rotation_is_read_with_both_keys_then_finished(
    store: Store, key: bytes
) -> None:
    before = await fill(store)
    new = generate_key()
    both = Cipher(new, older=[key])

    assert await reencrypt(store.db, both, batch=3, limit=7) == 7

    assert await stale_count(store.db, both) == 8
    assert await contents(Store(store.db, both)) == before
    with pytest.raises(DecryptionError):
        await contents(Store(store.db, Cipher(new)))
    with pytest.raises(DecryptionError):
        await contents(Store(store.db, Cipher(key)))
    # Written meanwhile with both keys known: under the new one.
    async with Store(store.db, both).unit(PEOPLE[0]) as unit:
        await unit.save_answer("reflect.q3", "written mid-way")
    before[PEOPLE[0]][0]["reflect.q3"] = "written mid-way"

    assert await reencrypt(store.db, both) == 8
    assert await stale_count(store.db, both) == 0
    assert await contents(Store(store.db, Cipher(new))) == before


async def test_a_value_under_an_unknown_key_stops_the_rotation(store: Store, key: bytes) -> None:
    await fill(store)
    stranger = Store(store.db, Cipher(generate_key()))
    async with stranger.unit(PEOPLE[1]) as unit:
        await unit.save_answer("reflect.q4", "sealed with a key nobody kept")
    with pytest.raises(DecryptionError):
        await reencrypt(store.db, Cipher(generate_key(), older=[key]))
