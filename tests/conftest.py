"""Shared fixtures: a fake Telegram server, the real bot as a subprocess, and fake users."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Generator, Iterator, Mapping
from pathlib import Path

import pytest

from tests import databases
from tests.botproc import BotProcess
from tests.botproc import run_bot_cli as _run_bot_cli
from tests.fake_telegram import FakeTelegram, FakeUser

# As the bot does (bot/__main__.py): RetryAfter.retry_after as a timedelta.
os.environ.setdefault("PTB_TIMEDELTA", "1")

# Deliberately not shaped like a real token (8-10 digits ':' 35 characters).
TEST_TOKEN = "424242:fake-token-for-tests-only-abcdefghijklmnopqrst"
LOG_TAIL = 6000

BotFactory = Callable[..., BotProcess]


def pytest_configure(config: pytest.Config) -> None:
    """The `sqlite` marker; with TEST_DATABASE=postgresql, a reachable PostgreSQL or a loud stop."""
    config.addinivalue_line(
        "markers",
        "sqlite: the test is about the SQLite file, so its bots use SQLite whatever "
        "TEST_DATABASE says",
    )
    config.addinivalue_line(
        "markers",
        "empty_database: the bot starts on an empty database and migrates it itself (other tests "
        "start on a copy of a migrated one)",
    )
    config.addinivalue_line(
        "markers",
        "slow: the test waits for clock minutes (reminders) or a takeover; such tests run first, "
        "so that the workers don't finish on one of them",
    )
    try:
        if databases.backend() == "postgresql":
            databases.run(databases.check_postgres())
    except databases.DatabaseSetupError as error:
        raise pytest.UsageError(str(error)) from None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Each xdist worker starts with its share of the slow tests.

    xdist's worksteal hands each worker a contiguous part of the collection at first (the same
    split as below), and idle workers later take from the end of others' parts; so the slow tests
    go to the front of every part, and the fast ones fill the rest in the usual order.
    """
    workers = max(1, int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")))
    slow = [item for item in items if item.get_closest_marker("slow") is not None]
    fast = iter([item for item in items if item.get_closest_marker("slow") is None])
    ordered: list[pytest.Item] = []
    remaining = len(items)
    for worker in range(workers):
        size = remaining // (workers - worker)
        remaining -= size
        share = slow[worker::workers][:size]
        ordered += share + [next(fast) for _ in range(size - len(share))]
    items[:] = ordered


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Remember each phase's report on the item so fixtures can see whether the test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


def _failed(request: pytest.FixtureRequest) -> bool:
    """Whether setup or the test body of the requesting test failed."""
    reports = (getattr(request.node, f"report_{when}", None) for when in ("setup", "call"))
    return any(report is not None and report.failed for report in reports)


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    """A running fake Bot API server for the test token."""
    server = FakeTelegram(TEST_TOKEN).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """The bot's DATA_DIR (its log goes to the parent folder as bot.log)."""
    path = tmp_path / "data"
    path.mkdir()
    return path


@pytest.fixture
def bot_factory(
    fake: FakeTelegram, data_dir: Path, request: pytest.FixtureRequest
) -> Iterator[BotFactory]:
    """Create BotProcess objects (not started); all are stopped at teardown.

    Bots of one data folder share its database (the SQLite file in it, or with
    TEST_DATABASE=postgresql one fresh PostgreSQL database made for it and dropped at teardown);
    a bot given another folder (`data=`) gets a separate database.
    """
    created: list[BotProcess] = []
    postgres: dict[Path, str] = {}  # data folder -> name of its PostgreSQL database
    # Unless a test is about the bot's first start, its database starts at the newest migration.
    seed = request.node.get_closest_marker("empty_database") is None
    use_postgres = (
        databases.backend() == "postgresql" and request.node.get_closest_marker("sqlite") is None
    )

    def database_for(folder: Path, env_extra: Mapping[str, str | None] | None) -> str | None:
        if not use_postgres or (env_extra or {}).get("DATABASE_URL"):
            return None  # SQLite, or the test chose the database itself
        known = databases.remembered(folder)
        if known is None:
            known, name = databases.run(databases.fresh_postgres_database(migrated=seed))
            postgres[folder.resolve()] = name
            databases.remember(folder, known)
        return known

    def make(
        env_extra: Mapping[str, str | None] | None = None, *, data: Path | None = None
    ) -> BotProcess:
        folder = data or data_dir
        url = database_for(folder, env_extra)
        if url is None and not (env_extra or {}).get("DATABASE_URL") and seed:
            databases.seed_sqlite(folder)
        process = BotProcess(fake, folder, env_extra, database_url=url)
        created.append(process)
        return process

    try:
        yield make
    finally:
        for process in created:
            process.stop()
        if _failed(request):
            for process in created:
                print(f"\n----- {process.log_path} (tail) -----\n{process.logs()[-LOG_TAIL:]}")
        for folder, name in postgres.items():
            databases.forget(folder)
            databases.run(databases.drop_postgres_database(name))


@pytest.fixture
def bot(bot_factory: BotFactory) -> BotProcess:
    """The real bot, started and polling the fake server."""
    return bot_factory().start().wait_ready()


@pytest.fixture
def user(fake: FakeTelegram) -> FakeUser:
    """Ana, user 1001."""
    return fake.user(1001, "Ana")


@pytest.fixture
def user2(fake: FakeTelegram) -> FakeUser:
    """Ben, user 1002."""
    return fake.user(1002, "Ben", language_code="en")


@pytest.fixture
def run_bot_cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    """`run_bot_cli(args, env, timeout=60) -> CompletedProcess` for start-up failure tests."""
    return _run_bot_cli
