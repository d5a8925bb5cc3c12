"""Shared fixtures: a fake Telegram server, the real bot as a subprocess, and fake users."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Generator, Iterator, Mapping
from pathlib import Path

import pytest

from tests.botproc import BotProcess
from tests.botproc import run_bot_cli as _run_bot_cli
from tests.fake_telegram import FakeTelegram, FakeUser

# As the bot does (bot/__main__.py): RetryAfter.retry_after as a timedelta.
os.environ.setdefault("PTB_TIMEDELTA", "1")

# Deliberately not shaped like a real token (8-10 digits ':' 35 characters).
TEST_TOKEN = "424242:fake-token-for-tests-only-abcdefghijklmnopqrst"
LOG_TAIL = 6000

BotFactory = Callable[..., BotProcess]


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
    """Create BotProcess objects (not started); all are stopped at teardown."""
    created: list[BotProcess] = []

    def make(
        env_extra: Mapping[str, str | None] | None = None, *, data: Path | None = None
    ) -> BotProcess:
        process = BotProcess(fake, data or data_dir, env_extra)
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
