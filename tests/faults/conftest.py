"""Fixtures of the fault suite: those of tests/conftest.py (fake, data_dir, bot_factory, bot,
user, user2), plus a `ledger` of what the test typed and what the bot confirmed.

After every test that started a bot, once its bots have stopped, tests/faults/checks.py's
`verify` runs: integrity, each acknowledged answer stored exactly once, no token or canary in a
log or in plain text in the database, and each person's data only their own.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.botproc import BotProcess
from tests.conftest import BotFactory
from tests.fake_telegram import FakeTelegram
from tests.faults.checks import Ledger, verify


@dataclass
class Case:
    """One fault test: its ledger and every bot process it created."""

    ledger: Ledger = field(default_factory=Ledger)
    processes: list[BotProcess] = field(default_factory=list)


@pytest.fixture
def case() -> Case:
    """The test's ledger and bot processes."""
    return Case()


@pytest.fixture
def ledger(case: Case) -> Ledger:
    """What the test typed (canaries) and what the bot confirmed (checked after the test)."""
    return case.ledger


@pytest.fixture
def bot_factory(
    bot_factory: BotFactory, case: Case, fake: FakeTelegram, data_dir: Path
) -> Iterator[BotFactory]:
    """tests/conftest.py's bot_factory; after the test it stops every bot made and runs the
    after-case checks (before the outer fixture drops a PostgreSQL test database)."""

    def make(
        env_extra: Mapping[str, str | None] | None = None, *, data: Path | None = None
    ) -> BotProcess:
        process = bot_factory(env_extra, data=data)
        case.processes.append(process)
        return process

    yield make
    for process in case.processes:
        process.stop()
    problems = verify(case.ledger, data_dir, case.processes, fake.token)
    assert not problems, "after-case checks failed:\n" + "\n".join(problems)


@pytest.fixture
def bots(case: Case) -> list[BotProcess]:
    """Every bot process the test created so far."""
    return case.processes
