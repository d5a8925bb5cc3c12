"""Applications to drive in-process: the real bot (bot.app.build_application) and bare PTB."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    SimpleUpdateProcessor,
    filters,
)

from bench.common import KEY, TOKEN, Clock, median, percentile
from bench.local import LocalRequest, Person, Tracker
from bot.__main__ import open_store
from bot.app import build_application
from bot.settings import Settings
from conversations.worksheet.content import t
from storage import Store

AnyApp = Application[Any, Any, Any, Any, Any, Any]


class ErrorCounter(logging.Handler):
    """Counts ERROR records (the bot's on_error logs each failed update)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0
        self.first: str | None = None

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        if self.first is None:
            self.first = f"{record.name}: {record.getMessage()}"


ERRORS = ErrorCounter()


def quiet_logging() -> None:
    """Warnings and errors only, and errors counted."""
    root = logging.getLogger()
    root.setLevel(logging.WARNING)
    if ERRORS not in root.handlers:
        root.addHandler(ERRORS)
    if not any(isinstance(h, logging.StreamHandler) for h in root.handlers):
        handler = logging.StreamHandler()
        handler.setLevel(logging.ERROR)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)


def settings_for(data_dir: Path, **extra: Any) -> Settings:
    """The bot's settings for a benchmark data folder (the environment and .env ignored)."""
    return Settings(
        telegram_bot_token=TOKEN,  # type: ignore[arg-type]
        data_dir=data_dir,
        encryption_key=KEY,  # type: ignore[arg-type]
        log_level="WARNING",
        _env_file=None,  # type: ignore[call-arg]
        # In-process, the local Bot API has no send limit: the benches that build the bot here
        # measure its own cost, not Telegram's 30 messages a second (goal 3 measures that).
        **{"messages_per_second": 100_000, **extra},
    )


@dataclass
class Running:
    """An application started in-process, with its local Bot API and update tracker."""

    app: AnyApp
    request: LocalRequest
    tracker: Tracker
    store: Store | None = None

    async def stop(self) -> None:
        """Stop and shut down the application (and close the store)."""
        if self.app.running:
            await self.app.stop()
        await self.app.shutdown()
        if self.store is not None:
            await self.store.db.dispose()


async def start_bot(
    data_dir: Path, *, delay: float = 0.0, store: Store | None = None, jobs: bool = True
) -> Running:
    """The real bot, built by bot.app.build_application, answering through LocalRequest."""
    settings = settings_for(data_dir)
    store = store or await open_store(settings)
    request = LocalRequest(delay, pool=256)
    request.error_texts = {t("errors.generic"), t("errors.busy")}
    app = build_application(settings, store, request=request, get_updates_request=LocalRequest())
    await app.initialize()
    if jobs and app.post_init is not None:
        await app.post_init(app)  # commands and the reminder jobs, as run_polling does
    await app.start()
    return Running(app, request, Tracker(app), store)


# The bare PTB baseline --------------------------------------------------------------------

STEP1, STEP2, STEP3 = range(3)


async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None
    await update.message.reply_text(update.message.text or "")


def _step(reply: str, state: int) -> Callable[..., Awaitable[int]]:
    async def step(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        assert update.message is not None
        await update.message.reply_text(reply)
        return state

    return step


async def start_bare(*, delay: float = 0.0, sequential: bool = False) -> Running:
    """Bare PTB: an echo MessageHandler and a 3-step ConversationHandler, no database."""
    request = LocalRequest(delay, pool=256)
    processor = SimpleUpdateProcessor(1 if sequential else 256)
    app: AnyApp = (
        ApplicationBuilder()
        .token(TOKEN)
        .request(request)
        .get_updates_request(LocalRequest())
        .concurrent_updates(processor)
        .build()
    )
    text = filters.TEXT & ~filters.COMMAND
    app.add_handler(
        ConversationHandler(
            entry_points=[CommandHandler("begin", _step("First?", STEP1))],
            states={
                STEP1: [MessageHandler(text, _step("Second?", STEP2))],
                STEP2: [MessageHandler(text, _step("Third?", STEP3))],
                STEP3: [MessageHandler(text, _step("Done.", ConversationHandler.END))],
            },
            fallbacks=[],
        )
    )
    # Same group: a message the conversation takes is not echoed as well.
    app.add_handler(MessageHandler(text, _echo))
    await app.initialize()
    await app.start()
    return Running(app, request, Tracker(app))


async def bare_walk(person: Person, length: int) -> None:
    """As many updates as a worksheet walk: echoes and 3-step conversations, alternating."""
    sent = 0
    while sent < length:
        if (sent // 6) % 2 == 0 and length - sent >= 4:
            await person.command("begin")
            for word in ("one", "two", "three"):
                await person.send(word)
            sent += 4
        else:
            await person.send(f"echo {sent}")
            sent += 1


# Measuring a crowd ------------------------------------------------------------------------


@dataclass
class CrowdResult:
    """What one crowd run measured."""

    updates: int
    wall: float
    cpu: float
    latencies: list[float] = field(default_factory=list)
    main_cpu: float = float("nan")

    @property
    def main_share(self) -> float:
        """Share of the CPU time spent on the event loop's thread (the rest: worker threads)."""
        return self.main_cpu / self.cpu if self.cpu else float("nan")

    @property
    def rate(self) -> float:
        """Updates handled per second of wall time."""
        return self.updates / self.wall if self.wall else float("nan")

    @property
    def cpu_per_update(self) -> float:
        """CPU seconds (all threads) per update."""
        return self.cpu / self.updates if self.updates else float("nan")

    @property
    def p50(self) -> float:
        """Median per-update latency."""
        return percentile(self.latencies, 50)

    @property
    def p99(self) -> float:
        """99th percentile per-update latency."""
        return percentile(self.latencies, 99)


async def crowd(
    people: Sequence[Person], script: Callable[[Person], Awaitable[None]]
) -> CrowdResult:
    """Everyone walks at once; the clock runs from the first update to the last reply."""
    for person in people:
        person.latencies.clear()
    with Clock() as clock:
        await asyncio.gather(*(script(p) for p in people))
    latencies = [x for p in people for x in p.latencies]
    return CrowdResult(len(latencies), clock.wall, clock.cpu, latencies, clock.main_cpu)


@dataclass
class Summary:
    """Medians over runs."""

    rate: float
    cpu: float
    p50: float
    p99: float
    updates: int
    runs: int
    main_share: float

    @classmethod
    def of(cls, results: Sequence[CrowdResult]) -> Summary:
        """The median of each figure over several runs."""
        return cls(
            rate=median([r.rate for r in results]),
            cpu=median([r.cpu_per_update for r in results]),
            p50=median([r.p50 for r in results]),
            p99=median([r.p99 for r in results]),
            updates=int(median([r.updates for r in results])),
            runs=len(results),
            main_share=median([r.main_share for r in results]),
        )


def stamp() -> str:
    """Now, for progress lines."""
    return time.strftime("%H:%M:%S")
