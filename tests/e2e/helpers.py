"""What most end-to-end tests do: begin as a new person, talk to the bot, read what it stored."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import inspect, text

from conversations.worksheet.content import t
from storage import Cipher, Database, Store
from storage.crypto import decode_key
from storage.repository import SessionRow
from tests import databases
from tests.fake_telegram import BotMessage, FakeTelegram, FakeUser
from tests.fake_telegram.client import DEFAULT_TIMEOUT

T = TypeVar("T")
# How long a step waits for the bot's reply before the test fails. A bound, not a timing
# assertion: a reply that comes sooner is taken at once. Generous, because the first city a bot
# process looks up loads its place names, which takes long on a machine running two suites.
WAIT = 60.0
BERLIN = ZoneInfo("Europe/Berlin")


def begin(user: FakeUser) -> None:
    """/start, "I agree", and wait for the menu."""
    mark = user.mark()
    user.command("start")
    user.wait_for(lambda m: m.has_button(t("start.agree_button")), after=mark)
    user.press(t("start.agree_button"))
    user.wait_for(lambda m: m.html == t("start.agreed"), after=mark)


def today() -> dt.date:
    """Today for a person without a time zone (the bot then uses UTC)."""
    return dt.datetime.now(dt.UTC).date()


def soon() -> dt.datetime:
    """The first whole minute 30 s away or more, in Berlin (skips the test across midnight)."""
    now = dt.datetime.now(BERLIN)
    start = (now + dt.timedelta(seconds=90)).replace(second=0, microsecond=0)
    if start.date() != now.date():
        pytest.skip("the next minute is tomorrow in Berlin")
    return start


# Reading what the bot stored ------------------------------------------------------------------


def with_store(data_dir: Path, read: Callable[[Store], Awaitable[T]]) -> T:
    """Run `read` against the database the bot of data_dir used, decrypting with the bot's key."""

    async def run() -> T:
        database = Database(databases.url_for(data_dir))
        try:
            key = decode_key((data_dir / "encryption.key").read_text())
            return await read(Store(database, Cipher(key)))
        finally:
            await database.dispose()

    return asyncio.run(run())


def query(data_dir: Path, sql: str, **params: object) -> list[tuple[object, ...]]:
    """Rows of one SQL statement (`:name` parameters) against the bot's database."""

    async def run() -> list[tuple[object, ...]]:
        database = Database(databases.url_for(data_dir))
        try:
            async with database.read() as session:
                result = await session.execute(text(sql), params)
                return [tuple(row) for row in result.all()]
        finally:
            await database.dispose()

    return asyncio.run(run())


def columns(data_dir: Path, table: str) -> list[str]:
    """The column names of a table in the bot's database, in order."""

    async def run() -> list[str]:
        database = Database(databases.url_for(data_dir))
        try:
            async with database.read_engine.connect() as conn:
                found = await conn.run_sync(lambda sync: inspect(sync).get_columns(table))
            return [str(column["name"]) for column in found]
        finally:
            await database.dispose()

    return asyncio.run(run())


def handled_all(fake: FakeTelegram, data_dir: Path, timeout: float = WAIT) -> None:
    """Wait until the bot has taken every update from Telegram and handled it: an update is
    confirmed once it is in the bot's inbox, and its row goes once it has been handled."""
    fake.wait_idle(timeout)
    deadline = time.monotonic() + timeout
    while query(data_dir, "SELECT count(*) FROM inbox") != [(0,)]:
        assert time.monotonic() < deadline, "the bot did not handle every update it took"
        time.sleep(0.1)


def on_sqlite(data_dir: Path) -> bool:
    """Whether the bot of data_dir keeps its data in the SQLite file there."""
    return databases.is_sqlite(databases.url_for(data_dir))


def stored(data_dir: Path, user: FakeUser, prefix: str = "") -> dict[str, str | None]:
    """A person's answers as the bot stored them, by key (None when skipped)."""

    async def read(store: Store) -> dict[str, str | None]:
        answers = await store.answers(user.user_id, prefix)
        return {name: value.text for name, value in answers.items()}

    return with_store(data_dir, read)


def marks(data_dir: Path, user: FakeUser, prefix: str = "") -> set[str]:
    """A person's progress marks ("learn.done"), kept apart from what they wrote."""
    return with_store(data_dir, lambda store: store.marks(user.user_id, prefix))


def chart(data_dir: Path, user: FakeUser) -> list[SessionRow]:
    """Every session chart row of the person, drafts included."""
    return with_store(data_dir, lambda store: store.sessions(user.user_id, drafts=True))


def fields(row: SessionRow) -> tuple[object, ...]:
    """A chart row without its id."""
    return (row.session_date, row.topic, row.trust, row.safety, row.role, row.complete)


# Talking to the bot ---------------------------------------------------------------------------


def new_messages(user: FakeUser, mark: int) -> list[BotMessage]:
    """The bot's new messages in a person's chat after a mark (edits left out)."""
    return [event for event in user.events(mark) if event.event == "new"]


def wait_news(user: FakeUser, mark: int, count: int = 1) -> list[BotMessage]:
    """Waits for `count` new bot messages after a mark (edits, such as a prompt losing its
    buttons once answered, left out)."""

    def probe() -> list[BotMessage] | None:
        found = new_messages(user, mark)
        return found[:count] if len(found) >= count else None

    found = user.fake.world.wait_until(probe, WAIT)
    if found is None:
        raise AssertionError(f"expected {count} new bot messages\n{user.dump()}")
    return found


def news(user: FakeUser, act: Callable[[], object], count: int = 1) -> list[BotMessage]:
    """Does something and returns the next `count` new bot messages (edits left out)."""
    mark = user.mark()
    act()

    def probe() -> list[BotMessage] | None:
        found = new_messages(user, mark)
        return found[:count] if len(found) >= count else None

    found = user.fake.world.wait_until(probe, WAIT)
    if found is None:
        raise AssertionError(f"expected {count} new bot messages\n{user.dump()}")
    return found


def reply(user: FakeUser, act: Callable[[], object]) -> BotMessage:
    """Does something and returns the next new bot message."""
    return news(user, act)[0]


def until(
    user: FakeUser,
    act: Callable[[], object],
    done: Callable[[BotMessage], bool],
    timeout: float = DEFAULT_TIMEOUT,
) -> list[BotMessage]:
    """Does something; returns the new bot messages up to the first one that is `done`."""
    mark = user.mark()
    act()
    user.wait_for(lambda m: m.event == "new" and done(m), after=mark, timeout=timeout)
    found: list[BotMessage] = []
    for event in user.events(mark):
        if event.event == "new":
            found.append(event)
            if done(event):
                break
    return found


def current_message(user: FakeUser, message_id: int) -> BotMessage:
    """The present state of one bot message."""
    return next(m for m in user.messages() if m.message_id == message_id)


# Buttons --------------------------------------------------------------------------------------


def has_data(data: str) -> Callable[[BotMessage], bool]:
    """Whether a message has a button with this callback data."""
    return lambda m: any(d == data for row in m.buttons for _, d in row)


def back_home(message: BotMessage) -> bool:
    """The last message of a /review view carries the way back to the overview."""
    return has_data("review:home")(message)


def checked(message: BotMessage) -> list[int]:
    """Checklist statement numbers whose button carries a check mark."""
    return [
        int(data.rsplit(":", 1)[1])
        for row in message.buttons
        for label, data in row
        if data.startswith("checklist:toggle:") and label.startswith("✅")
    ]


def to_the_date(user: FakeUser, act: Callable[[], object] | None = None) -> BotMessage:
    """Opens /log (or does `act`) and comes to its date prompt. A person without a time zone
    is asked for one before their first date (once); here they tap Skip, which keeps UTC days
    and is not asked again. Returns the date prompt."""
    today_button = t("log.today_button")
    mark = user.mark()
    (act or (lambda: user.command("log")))()

    def asks_zone(message: BotMessage) -> bool:
        return any(data == "log:skip:zone" for row in message.buttons for _, data in row)

    def arrived(message: BotMessage) -> bool:
        return message.event == "new" and (message.has_button(today_button) or asks_zone(message))

    found = user.wait_for(arrived, after=mark)
    if not asks_zone(found):
        return found
    mark = user.mark()
    user.press("log:skip:zone", found)
    return user.wait_for(lambda m: m.event == "new" and m.has_button(today_button), after=mark)
