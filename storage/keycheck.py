"""At start: do the configured keys open what the database holds?

A bot started with another key than the one its data was written with would fail every read of
a written answer. A few of the newest values of each encrypted column are enough to tell: each
ciphertext names its key (a short, non-secret fingerprint) in its header.
"""

from __future__ import annotations

from sqlalchemy import select

from storage.crypto import Cipher, stored_key_id
from storage.database import Database
from storage.rotation import SEALED

SAMPLE = 50  # newest values per encrypted column


async def unknown_keys(database: Database, cipher: Cipher, sample: int = SAMPLE) -> int:
    """How many different keys, among a sample of the stored ciphertexts, the cipher lacks."""
    found: set[bytes] = set()
    async with database.read() as session:
        for sealed in SEALED:
            column = getattr(sealed.model, sealed.column)
            newest = [key.desc() for key in sealed.model.__mapper__.primary_key]
            blobs = await session.scalars(
                select(column).where(column.is_not(None)).order_by(*newest).limit(sample)
            )
            found.update(stored_key_id(blob) for blob in blobs)
    return len(found - cipher.key_ids)
