"""The inbox: updates kept until handled, each chat's in order, encrypted to their chat."""

from __future__ import annotations

from sqlalchemy import select, update

from storage import Cipher, Inbox, Store
from storage.crypto import generate_key
from storage.inbox import Pending
from storage.models import InboxUpdate
from storage.rotation import reencrypt

WORDS = "my therapist didn't listen today"


def message(update_id: int, chat: int, text: str) -> Pending:
    """A text message update as Telegram sends it."""
    body = {"message_id": update_id, "chat": {"id": chat, "type": "private"}, "text": text}
    return Pending(update_id, chat, {"update_id": update_id, "message": body})


async def test_updates_wait_in_order_per_chat_until_handled(store: Store) -> None:
    inbox = Inbox(store.db, store.cipher)
    first = [message(12, 7, "b"), message(10, 7, WORDS), message(11, 8, "ü ✨")]
    assert await inbox.put(first) == {10, 11, 12}
    # Taken again (Telegram sent it twice): stored once, and only the new one is new.
    assert await inbox.put([message(10, 7, "again"), message(13, 8, "c")]) == {13}

    assert [p.update_id for p in await inbox.pending()] == [10, 11, 12, 13]
    assert [p.update for p in await inbox.pending(7)] == [first[1].update, first[0].update]
    assert await inbox.pending(8, limit=1) == [first[2]]
    assert await inbox.counts() == {7: 2, 8: 2}

    await inbox.done([10, 13, 99])
    assert [p.update_id for p in await inbox.pending()] == [11, 12]
    assert await inbox.counts() == {7: 1, 8: 1}
    await inbox.done([11, 12])
    assert await inbox.pending() == []
    assert await inbox.counts() == {}


async def test_an_update_is_stored_encrypted_and_bound_to_its_chat_and_id(
    store: Store, key: bytes
) -> None:
    inbox = Inbox(store.db, store.cipher)
    await inbox.put([message(20, 7, WORDS), message(21, 7, "other")])
    async with store.db.read() as session:
        blobs = list(
            await session.scalars(select(InboxUpdate.update_enc).order_by(InboxUpdate.update_id))
        )
    assert blobs and not any(WORDS.encode() in blob for blob in blobs)

    # A row's ciphertext moved to another update is not read as that update.
    async with store.db.write() as session, session.begin():
        await session.execute(
            update(InboxUpdate).where(InboxUpdate.update_id == 21).values(update_enc=blobs[0])
        )
    assert [p.update_id for p in await inbox.pending()] == [20]
    await inbox.done([21])

    # Key rotation re-encrypts it too; the new key alone reads it afterwards.
    new = generate_key()
    assert await reencrypt(store.db, Cipher(new, older=[key])) >= 1
    [left] = await Inbox(store.db, Cipher(new)).pending()
    assert left.update["message"]["text"] == WORDS
