"""What most end-to-end tests do: begin as a new person, and read what the bot stored."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from conversations.content import t
from storage import Cipher, Database, Store
from storage.crypto import decode_key
from tests.fake_telegram import FakeUser

T = TypeVar("T")


def begin(user: FakeUser) -> None:
    """/start, "I agree", and wait for the menu."""
    mark = user.mark()
    user.command("start")
    user.wait_for(lambda m: m.has_button(t("start.agree_button")), after=mark)
    user.press(t("start.agree_button"))
    user.wait_for(lambda m: m.html == t("start.agreed"), after=mark)


def with_store(data_dir: Path, read: Callable[[Store], Awaitable[T]]) -> T:
    """Run `read` against the bot's own SQLite file, decrypting with the bot's key."""

    async def run() -> T:
        database = Database(f"sqlite+aiosqlite:///{data_dir / 'bot.sqlite3'}")
        try:
            key = decode_key((data_dir / "encryption.key").read_text())
            return await read(Store(database, Cipher(key)))
        finally:
            await database.dispose()

    return asyncio.run(run())


def stored(data_dir: Path, user: FakeUser, prefix: str = "") -> dict[str, str | None]:
    """A person's answers as the bot stored them, by key (None when skipped)."""

    async def read(store: Store) -> dict[str, str | None]:
        answers = await store.answers(user.user_id, prefix)
        return {name: value.text for name, value in answers.items()}

    return with_store(data_dir, read)
