"""Goal 6: one person's flood keeps nobody else waiting (issue 15).

The real bot runs as its own process (`python -m bot`) against the tests' fake Bot API server
(tests/fake_telegram). One person sends FLOOD messages at once; right after them another person
sends /help, and again after each answer (a short pause between), until the flood has been
answered; the time to each /help answer is measured. Once without delay and once with a round
trip added to every sendMessage (the fake's stall), as in the issue's measurement (7.7 s behind
600 messages; 17.9 s behind 250 with a 0.1 s round trip, before the inbox).
"""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import KEY, TOKEN, BenchError, Section, Size, median, percentile
from bench.seed import migrate, people, sync_engine
from conversations.worksheet.content import t
from tests.botproc import BotProcess
from tests.fake_telegram import BotMessage, FakeTelegram, FakeUser

FLOOD = 300
FLOODER = 39_000_001
ASKER = 39_000_002
ROUND_TRIPS = (0.0, 0.1)
IDLE_ASKS = 5
PAUSE = 0.05  # between a /help answer and the next /help
HELP_GOAL = 2.0  # seconds: "answered within a few seconds" (the issue)
WAIT = 60.0


@dataclass
class FloodResult:
    """What one flood measured."""

    round_trip: float
    idle: list[float] = field(default_factory=list)
    first: float = float("nan")  # the /help sent right after the flood
    during: list[float] = field(default_factory=list)  # every /help until the flood was answered
    kept: int = 0
    replies: int = 0
    told: int = 0
    drained: float = float("nan")  # from the flood until it had been answered


def _register(fake: FakeTelegram, user_id: int) -> FakeUser:
    user = fake.user(user_id, "P")
    with fake.world.cond:
        fake.world.started.add(user_id)
        fake.world.private_chat(user_id)
    return user


def _is_help(message: BotMessage) -> bool:
    return message.event == "new" and t("help.title") in (message.html or "")


def _ask(user: FakeUser) -> float:
    """/help, and the seconds until its answer."""
    mark = user.mark()
    started = time.monotonic()
    user.command("help")
    user.wait_for(_is_help, after=mark, timeout=WAIT)
    return time.monotonic() - started


def flood_once(round_trip: float) -> FloodResult:
    """Start the bot, flood from one person, ask /help from another throughout, measure."""
    root = Path(tempfile.mkdtemp(prefix="bench-fairness-"))
    data_dir = root / "data"
    migrate(data_dir)
    engine = sync_engine(data_dir)
    people(engine, [FLOODER, ASKER], timezone="UTC")
    engine.dispose()
    fake = FakeTelegram(TOKEN).start()
    bot = BotProcess(fake, data_dir, {"ENCRYPTION_KEY": KEY, "LOG_LEVEL": "INFO"})
    result = FloodResult(round_trip)
    try:
        flooder, asker = _register(fake, FLOODER), _register(fake, ASKER)
        bot.start().wait_ready(60)
        if round_trip:
            fake.stall("sendMessage", round_trip, times=None)
        result.idle = [_ask(asker) for _ in range(IDLE_ASKS)]
        mark = flooder.mark()
        started = time.monotonic()
        for n in range(FLOOD):
            flooder.send(f"message {n} of the flood")
        result.first = _ask(asker)
        result.during.append(result.first)
        deadline = time.monotonic() + WAIT
        while True:
            replies = [m for m in flooder.events(mark) if m.event == "new"]
            dropped = sum(int(n) for n in re.findall(r"Not kept: (\d+) updates", bot.logs()))
            if fake.pending_updates() == 0 and len(replies) >= FLOOD - dropped + 1:
                break
            if time.monotonic() > deadline:
                raise BenchError(
                    f"the flood was not answered: {len(replies)} replies, {dropped} not kept"
                )
            time.sleep(PAUSE)
            result.during.append(_ask(asker))
        result.drained = time.monotonic() - started  # within one /help of the last reply
        result.kept = FLOOD - dropped
        result.told = sum(1 for m in replies if m.html == t("errors.too_fast"))
        result.replies = len(replies) - result.told
    finally:
        bot.stop()
        fake.stop()
        shutil.rmtree(root, ignore_errors=True)
    if result.replies != result.kept or result.told != 1:
        raise BenchError(
            f"{result.kept} messages of the flood kept, {result.replies} answered, the person "
            f"told {result.told} times that they were too fast (expected once)"
        )
    return result


def run(size: Size, section: Section) -> None:
    """Goal 6; each figure the median of the runs (at most 3), latencies pooled."""
    runs = min(size.runs, 3)
    met = True
    for round_trip in ROUND_TRIPS:
        results = [flood_once(round_trip) for _ in range(runs)]
        idle = [x for r in results for x in r.idle]
        during = [x for r in results for x in r.during]
        first = median([r.first for r in results])
        p50, p99 = percentile(during, 50), percentile(during, 99)
        where = f"{round_trip * 1000:.0f} ms per sendMessage" if round_trip else "no delay"
        section.add(
            f"another person's /help, idle ({where})",
            f"p50 {percentile(idle, 50) * 1000:,.0f} ms, p99 {percentile(idle, 99) * 1000:,.0f} ms",
        )
        good = p99 <= HELP_GOAL
        met = met and good
        section.add(
            f"another person's /help behind a {FLOOD}-message flood ({where})",
            f"first {first * 1000:,.0f} ms; p50 {p50 * 1000:,.0f} ms, p99 {p99 * 1000:,.0f} ms "
            f"({len(during)} asked until the flood was answered)",
            f"p99 <= {HELP_GOAL:.0f} s",
            good,
        )
        section.add(
            f"the flood ({where}): kept and answered once each; told once",
            f"{median([r.kept for r in results]):.0f} of {FLOOD} kept, all answered; answered "
            f"within {median([r.drained for r in results]):.1f} s of the flood",
        )
    section.notes.append(
        f"How it is driven: `python -m bot` as its own process against tests/fake_telegram; two "
        f"consented people; one sends {FLOOD} text messages at once (no section open: each kept "
        "one gets the reply to text outside a question), the other sends /help right after "
        f"them and again {PAUSE * 1000:.0f} ms after each answer until the flood is answered; "
        "the time to each /help answer is measured from the test's side. With a round trip, "
        "every sendMessage is held that long by the fake before it is carried out. At most 3 "
        "runs; the first /help is the median of the runs, p50/p99 pool every /help of all runs."
    )
    section.notes.append(
        "Before the inbox (issue 15's measurement): 0.007 s idle, 7.7 s behind 600 messages, "
        "17.9 s behind 250 with a 0.1 s round trip: the offset was held at the oldest update not "
        "handled, Telegram sends at most 100 per poll, and PTB's semaphore was taken before the "
        "chat's lock. Now updates are confirmed once in the inbox, a chat's lock is taken before a "
        "slot, and past 20 waiting a person's further messages are not kept (told once)."
    )
    if not met:
        section.notes.append("The goal was not met in at least one setting (see the table).")
