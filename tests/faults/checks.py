"""What must hold after every fault case, and the ledger of what the test expects to be stored.

After each test in tests/faults (once its bots have stopped), `verify` checks that:

- the SQLite file passes `PRAGMA integrity_check` (when the bot used a SQLite file);
- every answer the bot acknowledged is stored exactly once, with its text: at its key, and no
  other stored text of that person equals it (so a redelivered update did not store it twice);
- every acknowledged session chart row is stored exactly once;
- no bot log contains the bot token or a canary phrase a person typed;
- no database file holds a canary in plain text (written text is encrypted);
- each person's stored text is only their own: none contains another person's canary.
"""

from __future__ import annotations

import itertools
import sqlite3
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from sqlalchemy import select

from storage import Store
from storage.models import Person
from tests.botproc import BotProcess
from tests.e2e.helpers import with_store

# Words a person would not otherwise write, so a hit in a log or a file is certainly a leak.
_WORDS = ("amber", "violet", "cobalt", "saffron", "juniper", "quartz", "marigold", "indigo")


class Someone(Protocol):
    """A person of the test (a FakeUser): only their Telegram id matters here."""

    @property
    def user_id(self) -> int:
        """Their Telegram id (also their private chat's id)."""
        ...


@dataclass(frozen=True)
class Expected:
    """One thing the bot confirmed to a person: an answer (by key) or a session chart row."""

    telegram_id: int
    text: str
    key: str | None = None  # answers: the answer key; None for a session chart row
    session: dict[str, object] = field(default_factory=dict)  # other fields of the chart row


@dataclass
class Ledger:
    """What a test typed and what the bot confirmed; checked after the test by `verify`."""

    canaries: dict[int, list[str]] = field(default_factory=dict)
    expected: list[Expected] = field(default_factory=list)
    _counter: itertools.count[int] = field(default_factory=itertools.count)

    def canary(self, user: Someone) -> str:
        """A unique phrase for this person to type; it must never reach a log or another person."""
        word = _WORDS[next(self._counter) % len(_WORDS)]
        phrase = f"{word} canary {user.user_id} {uuid.uuid4().hex[:10]}"
        self.canaries.setdefault(user.user_id, []).append(phrase)
        return phrase

    def acknowledged(self, user: Someone, key: str, text: str) -> None:
        """The bot confirmed this answer: it must be stored at `key`, exactly once."""
        self.expected.append(Expected(user.user_id, text, key=key))

    def session(self, user: Someone, topic: str, **fields: object) -> None:
        """The bot confirmed a session chart row with this topic (and e.g. trust=7, safety=8,
        session_date=date, role="...", complete=True): exactly one such row must be stored."""
        self.expected.append(Expected(user.user_id, topic, session=dict(fields)))

    def all_canaries(self) -> list[str]:
        """Every canary handed out."""
        return [phrase for phrases in self.canaries.values() for phrase in phrases]


@dataclass
class PersonData:
    """Everything a person has stored, decrypted."""

    answers: dict[str, str | None]
    sessions: list[dict[str, object]]

    def texts(self) -> list[str]:
        """Every piece of text stored for the person (answers, session topics and roles)."""
        found = [text for text in self.answers.values() if text is not None]
        for row in self.sessions:
            found += [str(row[name]) for name in ("topic", "role") if row[name] is not None]
        return found


def read_everyone(data_dir: Path) -> dict[int, PersonData]:
    """Every person's stored data by Telegram id, read through the bot's own store."""

    async def read(store: Store) -> dict[int, PersonData]:
        async with store.db.read() as session:
            ids = list(await session.scalars(select(Person.telegram_id)))
        everyone: dict[int, PersonData] = {}
        for telegram_id in ids:
            answers = await store.answers(telegram_id)
            rows = await store.sessions(telegram_id, drafts=True)
            everyone[telegram_id] = PersonData(
                answers={key: value.text for key, value in answers.items()},
                sessions=[
                    {
                        "session_date": r.session_date,
                        "topic": r.topic,
                        "trust": r.trust,
                        "safety": r.safety,
                        "role": r.role,
                        "complete": r.complete,
                    }
                    for r in rows
                ],
            )
        return everyone

    return with_store(data_dir, read)


def sqlite_file(data_dir: Path) -> Path | None:
    """The bot's SQLite file, if it used one."""
    path = data_dir / "bot.sqlite3"
    return path if path.exists() else None


def integrity(path: Path) -> str:
    """SQLite's own verdict on a database file ("ok" when sound)."""
    connection = sqlite3.connect(path, timeout=30)
    try:
        rows = connection.execute("PRAGMA integrity_check").fetchall()
    except sqlite3.DatabaseError as error:  # damaged beyond what the check can walk
        return f"{type(error).__name__}: {error}"
    finally:
        connection.close()
    return "; ".join(str(row[0]) for row in rows)


def expectation_problems(ledger: Ledger, everyone: dict[int, PersonData]) -> list[str]:
    """Acknowledged answers and chart rows that are missing, wrong or stored more than once."""
    problems: list[str] = []
    for item in ledger.expected:
        person = everyone.get(item.telegram_id)
        if person is None:
            problems.append(f"person {item.telegram_id} is not stored at all (expected {item})")
            continue
        copies = sum(1 for text in person.texts() if text == item.text)
        if item.key is not None:
            if person.answers.get(item.key) != item.text:
                got = person.answers.get(item.key, "<missing>")
                problems.append(
                    f"{item.telegram_id} {item.key}: expected {item.text!r}, stored {got!r}"
                )
            elif copies != 1:
                problems.append(f"{item.telegram_id}: {item.text!r} is stored {copies} times")
            continue
        rows = [
            row
            for row in person.sessions
            if row["topic"] == item.text
            and all(row.get(name) == value for name, value in item.session.items())
        ]
        if len(rows) != 1 or copies != 1:
            problems.append(
                f"{item.telegram_id}: chart row {item.text!r} {item.session} matches"
                f" {len(rows)} rows ({copies} texts equal the topic); rows: {person.sessions}"
            )
    return problems


def isolation_problems(ledger: Ledger, everyone: dict[int, PersonData]) -> list[str]:
    """Stored text of one person that contains another person's canary."""
    problems: list[str] = []
    for owner, phrases in ledger.canaries.items():
        for telegram_id, person in everyone.items():
            if telegram_id == owner:
                continue
            for text in person.texts():
                problems += [
                    f"{telegram_id} holds {owner}'s canary {phrase!r}"
                    for phrase in phrases
                    if phrase in text
                ]
    return problems


def leak_problems(token: str, canaries: list[str], logs: Iterable[tuple[str, str]]) -> list[str]:
    """Logs (name, text) that contain the token or a canary."""
    problems: list[str] = []
    for name, text in logs:
        if token in text:
            problems.append(f"{name} contains the bot token")
        problems += [f"{name} contains the canary {c!r}" for c in canaries if c in text]
    return problems


def plaintext_problems(data_dir: Path, canaries: list[str]) -> list[str]:
    """Database files (SQLite and its WAL) that hold a canary in plain text."""
    problems: list[str] = []
    for path in sorted(data_dir.glob("bot.sqlite3*")):
        data = path.read_bytes()
        problems += [
            f"{path.name} holds the canary {c!r} unencrypted"
            for c in canaries
            if c.encode() in data
        ]
    return problems


def bot_logs(processes: Iterable[BotProcess]) -> list[tuple[str, str]]:
    """Every log file the test's bots wrote, once each."""
    seen: dict[Path, str] = {}
    for process in processes:
        if process.log_path not in seen:
            seen[process.log_path] = process.logs()
    return [(str(path), text) for path, text in seen.items()]


def verify(
    ledger: Ledger,
    data_dir: Path,
    processes: Iterable[BotProcess],
    token: str,
) -> list[str]:
    """Every after-case problem (empty when all is well); stop the bots first.

    The ledger's expectations are about `data_dir`; integrity, plain text and isolation are
    checked in every data folder a bot of the test used."""
    processes = list(processes)
    problems = leak_problems(token, ledger.all_canaries(), bot_logs(processes))
    folders = dict.fromkeys([data_dir, *(p.data_dir for p in processes)])
    for folder in folders:
        path = sqlite_file(folder)
        if path is not None:
            verdict = integrity(path)
            if verdict != "ok":
                problems.append(f"{path}: integrity_check says {verdict}")
            problems += plaintext_problems(folder, ledger.all_canaries())
        if not (folder / "encryption.key").exists():
            if folder == data_dir and ledger.expected:
                problems.append(f"{folder}: no store, yet answers were acknowledged")
            continue  # the bot never got as far as creating its store here
        everyone = read_everyone(folder)
        if folder == data_dir:
            problems += expectation_problems(ledger, everyone)
        problems += isolation_problems(ledger, everyone)
    return problems
