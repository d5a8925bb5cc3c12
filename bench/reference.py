"""Reference figures: what one commit costs through each layer, and what batching buys.

Single-row commits per second on a SQLite file in WAL with synchronous=NORMAL, one writer, through
the stdlib driver, aiosqlite, SQLAlchemy Core (async), the ORM (async), and the bot's own unit
of work (Store.unit: person lookup, update claim, answer and place, as conversations.kit.steps.save
does for every answer); then the same rows committed 50 to a transaction (group commit) and the
bot's unit from 50 people at once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import queue
import sqlite3
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import aiosqlite
from sqlalchemy import Column, Integer, MetaData, String, Table, insert
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bench.common import KEY, Clock, Section, Size, median
from bench.seed import migrate_async, people, sync_engine
from storage import Cipher, Database, Store
from storage.crypto import answer_binding, decode_key

PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL")
BATCH = 50
metadata = MetaData()
rows_table = Table(
    "row", metadata, Column("id", Integer, primary_key=True), Column("value", String(64))
)


class _Base(DeclarativeBase):
    pass


class _Row(_Base):
    __tablename__ = "orm_row"
    id: Mapped[int] = mapped_column(primary_key=True)
    value: Mapped[str] = mapped_column(String(64))


def _file() -> Path:
    return Path(tempfile.mkdtemp(prefix="bench-ref-")) / "ref.sqlite3"


def stdlib(n: int) -> float:
    """sqlite3: one INSERT and COMMIT per row."""
    conn = sqlite3.connect(_file(), isolation_level=None)
    for pragma in PRAGMAS:
        conn.execute(pragma)
    conn.execute("CREATE TABLE row (id INTEGER PRIMARY KEY, value TEXT)")
    start = time.perf_counter()
    for i in range(n):
        conn.execute("BEGIN")
        conn.execute("INSERT INTO row (value) VALUES (?)", (f"value {i}",))
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return n / elapsed


async def with_aiosqlite(n: int, batch: int = 1) -> float:
    """aiosqlite: rows per second, `batch` rows per transaction."""
    async with aiosqlite.connect(_file(), isolation_level=None) as conn:
        for pragma in PRAGMAS:
            await conn.execute(pragma)
        await conn.execute("CREATE TABLE row (id INTEGER PRIMARY KEY, value TEXT)")
        start = time.perf_counter()
        for i in range(0, n, batch):
            await conn.execute("BEGIN")
            for j in range(i, min(n, i + batch)):
                await conn.execute("INSERT INTO row (value) VALUES (?)", (f"value {j}",))
            await conn.execute("COMMIT")
        return n / (time.perf_counter() - start)


def _engine(path: Path):  # type: ignore[no-untyped-def]
    engine = create_async_engine(f"sqlite+aiosqlite:///{path}", pool_size=1, max_overflow=0)
    from sqlalchemy import event

    def pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        cursor = dbapi_connection.cursor()
        for pragma in PRAGMAS:
            cursor.execute(pragma)
        cursor.close()

    event.listen(engine.sync_engine, "connect", pragmas)
    return engine


async def core(n: int, batch: int = 1) -> float:
    """SQLAlchemy Core (async engine): rows per second, `batch` rows per transaction."""
    engine = _engine(_file())
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    start = time.perf_counter()
    for i in range(0, n, batch):
        async with engine.begin() as conn:
            for j in range(i, min(n, i + batch)):
                await conn.execute(insert(rows_table).values(value=f"value {j}"))
    rate = n / (time.perf_counter() - start)
    await engine.dispose()
    return rate


async def orm(n: int) -> float:
    """SQLAlchemy ORM (AsyncSession): one object added and committed per row."""
    engine = _engine(_file())
    async with engine.begin() as conn:
        await conn.run_sync(_Base.metadata.create_all)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    start = time.perf_counter()
    for i in range(n):
        async with sessions() as session, session.begin():
            session.add(_Row(value=f"value {i}"))
    rate = n / (time.perf_counter() - start)
    await engine.dispose()
    return rate


async def bot_units(n: int, concurrent: int = 1) -> float:
    """The bot's unit of work for one answer (Store.unit + save_answer + set_state)."""
    data_dir = Path(tempfile.mkdtemp(prefix="bench-ref-units-"))
    await migrate_async(data_dir)
    engine = sync_engine(data_dir)
    tids = list(range(7_000_001, 7_000_001 + concurrent))
    people(engine, tids)
    engine.dispose()
    store = Store(
        Database(f"sqlite+aiosqlite:///{data_dir / 'bot.sqlite3'}"), Cipher(decode_key(KEY))
    )
    counter = iter(range(int(time.time() * 1e6), 2**62))

    async def one(tid: int, count: int) -> None:
        for i in range(count):
            async with store.unit(tid, update_id=next(counter)) as unit:
                await unit.save_answer(f"reflect.q{i % 10 + 1}", f"An answer {i}")
                await unit.set_state("reflect", f"reflect.ask.q{i % 10 + 1}")

    start = time.perf_counter()
    await asyncio.gather(*(one(tid, n // concurrent) for tid in tids))
    rate = (n // concurrent * concurrent) / (time.perf_counter() - start)
    await store.db.dispose()
    return rate


class GroupWriter:
    """A prototype of group commit (not the bot's code): one thread owns the write connection
    (the stdlib driver) and commits every unit queued meanwhile in one transaction, each in its
    own savepoint; each caller resumes once its unit is durable (WAL, synchronous=NORMAL)."""

    def __init__(self, path: Path) -> None:
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._path = path
        self.batches = 0
        self.units = 0
        self._thread = threading.Thread(target=self._run, name="group-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        for pragma in PRAGMAS:
            conn.execute(pragma)
        while True:
            first = self._queue.get()
            if first is None:
                break
            batch = [first]
            while len(batch) < 512:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._queue.put(None)
                    break
                batch.append(item)
            outcomes: list[BaseException | None] = []
            conn.execute("BEGIN IMMEDIATE")
            for statements, _loop, _future in batch:
                conn.execute("SAVEPOINT unit")
                try:
                    for sql, params in statements:
                        conn.execute(sql, params)
                    conn.execute("RELEASE unit")
                    outcomes.append(None)
                except sqlite3.Error as error:
                    conn.execute("ROLLBACK TO unit")
                    conn.execute("RELEASE unit")
                    outcomes.append(error)
            conn.execute("COMMIT")
            self.batches += 1
            self.units += len(batch)
            for (_statements, loop, future), outcome in zip(batch, outcomes, strict=True):
                loop.call_soon_threadsafe(_settle, future, outcome)
        conn.close()

    async def write(self, statements: list[tuple[str, tuple[Any, ...]]]) -> None:
        """Queue one unit and wait until it is committed."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self._queue.put((statements, loop, future))
        await future

    def close(self) -> None:
        """Finish what is queued and stop."""
        self._queue.put(None)
        self._thread.join()


def _settle(future: asyncio.Future[None], outcome: BaseException | None) -> None:
    if future.done():
        return
    if outcome is None:
        future.set_result(None)
    else:
        future.set_exception(outcome)


async def group_units(n: int, concurrent: int = 50) -> tuple[float, float, float]:
    """The bot's per-answer writes (update claim, answer upsert, place upsert) as plain SQL
    through GroupWriter, `concurrent` people at once; returns units/s, CPU per unit, and the
    mean units per transaction."""
    data_dir = Path(tempfile.mkdtemp(prefix="bench-ref-group-"))
    await migrate_async(data_dir)
    engine = sync_engine(data_dir)
    tids = list(range(8_000_001, 8_000_001 + concurrent))
    persons = people(engine, tids)  # telegram id -> person id: the prototype caches this
    engine.dispose()
    writer = GroupWriter(data_dir / "bot.sqlite3")
    cipher = Cipher(decode_key(KEY))
    counter = iter(range(int(time.time() * 1e6), 2**62))

    async def one(tid: int, count: int) -> None:
        pid = persons[tid]
        for i in range(count):
            now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
            key = f"reflect.q{i % 10 + 1}"
            sealed = cipher.encrypt(f"An answer {i}", owner=str(pid), field=answer_binding(key))
            await writer.write(
                [
                    (
                        "INSERT INTO processed_update (update_id, telegram_id, processed_at) "
                        "VALUES (?, ?, ?)",
                        (next(counter), tid, now),
                    ),
                    (
                        "INSERT INTO answer (person_id, key, value_enc, skipped, "
                        "source_message_id, updated_at) VALUES (?, ?, ?, 0, ?, ?) "
                        "ON CONFLICT (person_id, key) DO UPDATE SET "
                        "value_enc = excluded.value_enc, skipped = 0, "
                        "source_message_id = excluded.source_message_id, "
                        "updated_at = excluded.updated_at",
                        (pid, key, sealed, i, now),
                    ),
                    (
                        "INSERT INTO place (person_id, section, state, data, "
                        "updated_at) VALUES (?, 'reflect', ?, NULL, ?) "
                        "ON CONFLICT (person_id) DO UPDATE SET section = excluded.section, "
                        "state = excluded.state, updated_at = excluded.updated_at",
                        (pid, f"reflect.ask.q{i % 10 + 1}", now),
                    ),
                ]
            )

    with Clock() as clock:
        await asyncio.gather(*(one(tid, n // concurrent) for tid in tids))
    writer.close()
    units = n // concurrent * concurrent
    return units / clock.wall, clock.cpu / units, writer.units / max(writer.batches, 1)


async def run(size: Size, section: Section) -> None:
    """The reference table (medians over runs)."""
    n = size.db_commits
    figures: dict[str, list[float]] = {}
    for _ in range(size.runs):
        for name, value in (
            ("sqlite3", stdlib(n)),
            ("aiosqlite", await with_aiosqlite(n)),
            ("core", await core(n)),
            ("orm", await orm(n)),
            ("unit", await bot_units(max(n // 4, 50))),
            ("unit50", await bot_units(max(n // 4, 50), concurrent=50)),
            ("aiosqlite_batch", await with_aiosqlite(n * 4, BATCH)),
            ("core_batch", await core(n * 2, BATCH)),
        ):
            figures.setdefault(name, []).append(value)
        rate, cpu, per_tx = await group_units(max(n, 500))
        figures.setdefault("group", []).append(rate)
        figures.setdefault("group_cpu", []).append(cpu)
        figures.setdefault("group_tx", []).append(per_tx)
    m = {name: median(values) for name, values in figures.items()}
    section.add(
        "single-row commits/s, WAL, synchronous=NORMAL: sqlite3 / aiosqlite / SQLAlchemy Core "
        "/ ORM",
        f"{m['sqlite3']:,.0f} / {m['aiosqlite']:,.0f} / {m['core']:,.0f} / {m['orm']:,.0f}",
        "reference: 14,400 / 2,700 / 720 / 450",
    )
    section.add(
        "the bot's unit of work per answer (Store.unit: person, update claim, answer, place)",
        f"{m['unit']:,.0f}/s one person at a time; {m['unit50']:,.0f}/s with 50 people at once "
        "(one write connection)",
    )
    section.add(
        f"group commit: {BATCH} rows per transaction, rows/s: aiosqlite / SQLAlchemy Core",
        f"{m['aiosqlite_batch']:,.0f} / {m['core_batch']:,.0f} "
        f"({m['aiosqlite_batch'] / m['aiosqlite']:.1f} x / {m['core_batch'] / m['core']:.1f} x "
        "single-row)",
    )
    section.add(
        "prototype (bench only): the same per-answer writes as plain SQL upserts, group-committed "
        "by one writer thread, 50 people at once",
        f"{m['group']:,.0f} units/s, {m['group_cpu'] * 1e6:,.0f} us CPU per unit, "
        f"{m['group_tx']:.0f} units per transaction ({m['group'] / m['unit50']:.0f} x the "
        "bot's unit)",
    )
