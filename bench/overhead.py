"""Goal 1: per-update cost of the bot against bare PTB, and where the bot's time goes.

Many simulated people walk the whole worksheet at once, in-process (LocalRequest answers the Bot
API), against a real SQLite file in WAL with encryption on; in the same run a bare PTB bot (an
echo and a 3-step conversation, no database) is driven the same way with as many updates per
person. The profile (pyinstrument, plus a count of SQL statements and transactions per update)
is written to bench/PROFILE.md (bench/PROFILE-smoke.md at the smoke size).
"""

from __future__ import annotations

import asyncio
import collections
import re
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import event

from bench.common import BENCH_DIR, Section, Size, fmt_int, fmt_ms, fmt_us
from bench.harness import (
    CrowdResult,
    Running,
    Summary,
    bare_walk,
    crowd,
    start_bare,
    start_bot,
)
from bench.local import Person
from bench.walk import (
    check_stored,
    check_walk_lengths,
    fail_on,
    person_ids,
    walk,
    walk_length,
)

GOAL_RATIO = 0.5
# The same count in bench/PROFILE.md of 2026-11-26 (commit 6a61983), before the worksheet-model
# issue gave each update one visit read and one upserting write.
BEFORE_MODEL = "15.2 statements; 3.81 read + 0.98 write"


async def bot_run(people: int, *, delay: float = 0.0) -> tuple[CrowdResult, Running]:
    """One crowd of new people walking the worksheet against a fresh database."""
    data_dir = Path(tempfile.mkdtemp(prefix="bench-bot-"))
    running = await start_bot(data_dir, delay=delay)
    crowd_ = [Person(running.tracker, running.request, u) for u in person_ids(people)]
    try:
        result = await crowd(crowd_, walk)
        problems = running.tracker.check() + check_walk_lengths(crowd_)
        assert running.store is not None
        problems += await check_stored(running.store, [p.user_id for p in crowd_])
        if running.request.errors_sent:
            problems.append(f"{running.request.errors_sent} error replies sent to people")
        fail_on(problems)
    finally:
        await running.stop()
    return result, running


async def bare_run(
    people: int, *, delay: float = 0.0, sequential: bool = False, length: int | None = None
) -> CrowdResult:
    """One crowd driving bare PTB with as many updates per person as a walk."""
    running = await start_bare(delay=delay, sequential=sequential)
    crowd_ = [Person(running.tracker, running.request, u) for u in person_ids(people)]
    steps = length or walk_length()
    try:
        result = await crowd(crowd_, lambda p: bare_walk(p, steps))
        fail_on(running.tracker.check())
    finally:
        await running.stop()
    return result


async def run(size: Size, section: Section, *, profile: bool = True) -> None:
    """Goal 1, side by side; each figure the median of size.runs runs (alternating)."""
    bots: list[CrowdResult] = []
    bares: list[CrowdResult] = []
    for _ in range(size.runs):
        bares.append(await bare_run(size.walkers))
        bot, _running = await bot_run(size.walkers)
        bots.append(bot)
    bot_s, bare_s = Summary.of(bots), Summary.of(bares)
    ratio = bot_s.rate / bare_s.rate
    ratios = sorted(b.rate / a.rate for a, b in zip(bares, bots, strict=True))
    section.add(
        f"bare PTB (echo + 3-step conversation): {size.walkers} people x {walk_length()} updates",
        f"{fmt_int(bare_s.rate)} updates/s; {fmt_us(bare_s.cpu)} CPU/update; "
        f"p50 {fmt_ms(bare_s.p50)}, p99 {fmt_ms(bare_s.p99)}",
    )
    section.add(
        f"the bot, whole worksheet walk: {size.walkers} people x {walk_length()} updates",
        f"{fmt_int(bot_s.rate)} updates/s; {fmt_us(bot_s.cpu)} CPU/update "
        f"({bot_s.main_share:.0%} on the event loop's thread, the rest on aiosqlite's); "
        f"p50 {fmt_ms(bot_s.p50)}, p99 {fmt_ms(bot_s.p99)}",
    )
    section.add(
        "throughput ratio bot / bare PTB (same run)",
        f"{ratio:.3f} x (runs: {', '.join(f'{r:.3f}' for r in ratios)}); "
        f"CPU per update {bot_s.cpu / bare_s.cpu:.1f} x bare",
        f">= {GOAL_RATIO} x",
        ratio >= GOAL_RATIO,
    )
    section.notes.append(
        "How it is driven: the real Application from bot.app.build_application (its "
        "PerChatUpdateProcessor with its visit, Pacer, places, reminder jobs), a BaseRequest that "
        "answers the Bot API in memory, a fresh SQLite file in WAL with encryption on; each "
        "simulated person puts an update on application.update_queue and sends the next only "
        "when the previous one has been handled (closed loop), all people at once. Latency is "
        "from the queue to the end of the update's handling (every reply sent). CPU is the "
        "process's, all threads, per update handled. Bare PTB runs in the same process right "
        "before each bot run, with the same Bot API stand-in and 256 concurrent updates."
    )
    section.notes.append(
        f"Every run checked: each update handled exactly once and in order per chat, all "
        f"{walk_length()} steps of each walk answered, 16 answers, 3 done marks and 3 complete "
        "sessions stored per person (reflections decrypted and compared for the first 20)."
    )
    if profile:
        # The smoke size writes its own file, so CI never overwrites the profile kept here.
        name = "PROFILE-smoke.md" if size.name == "smoke" else "PROFILE.md"
        counts = await profile_run(max(4, min(size.walkers, 20)), BENCH_DIR / name)
        section.add(
            "database work per update (the bot, the whole walk)",
            f"{counts['statements']:.1f} SQL statements; {counts['read_tx']:.2f} read + "
            f"{counts['write_tx']:.2f} write transactions (before the worksheet model, "
            f"{BEFORE_MODEL})",
        )
        for what, cost in (await answer_costs()).items():
            statements = cost["statements"] - cost["read_tx"] - cost["write_tx"]
            section.add(
                f"database work for one {what}",
                f"{statements:.0f} SQL statements besides BEGIN; {cost['read_tx']:.0f} read + "
                f"{cost['write_tx']:.0f} write transactions",
                "<= 3 statements, <= 2 transactions",
                statements <= 3 and cost["read_tx"] + cost["write_tx"] <= 2,
            )


# Profiling -------------------------------------------------------------------------------------


async def answer_costs() -> dict[str, collections.Counter[str]]:
    """The SQL of single answers, each counted alone: a typed reflection, a tapped rating."""
    data_dir = Path(tempfile.mkdtemp(prefix="bench-answer-"))
    running = await start_bot(data_dir)
    counter = _count_sql(running)
    person = Person(running.tracker, running.request, person_ids(1)[0])
    costs: dict[str, collections.Counter[str]] = {}

    async def measured(what: str, step: Any) -> None:
        before = collections.Counter(counter)
        await step
        costs[what] = counter - before

    try:
        await person.command("start")
        await person.press("start:agree")
        await person.command("reflect")
        await measured("typed answer (a reflection)", person.send("Being listened to"))
        await person.command("log")
        await person.press("log:skip:zone")
        await person.press("log:today")
        await person.send("Work")
        await measured("tapped rating (trust in /log)", person.press("log:trust:7"))
    finally:
        await running.stop()
    return costs


def _count_sql(running: Running) -> collections.Counter[str]:
    counter: collections.Counter[str] = collections.Counter()
    assert running.store is not None
    db = running.store.db
    engines = [("write", db.write_engine), ("read", db.read_engine)]
    for name, engine in engines:

        def statement(conn: Any, cursor: Any, sql: str, *args: Any, _name: str = name) -> None:
            counter["statements"] += 1
            if sql.startswith("BEGIN"):
                counter[f"{_name}_tx"] += 1
            counter[f"{_name}: " + re.sub(r"\s+", " ", sql)[:70]] += 1

        event.listen(engine.sync_engine, "before_cursor_execute", statement)
    return counter


def _package(path: str, function: str) -> str:
    path = path.replace("\\", "/")
    if "site-packages/" in path:
        return path.split("site-packages/", 1)[1].split("/", 1)[0].removesuffix(".py")
    for mine in ("bot", "conversations", "storage", "bench"):
        if f"/{mine}/" in path or path.startswith(f"{mine}/"):
            return f"project: {mine}"
    if path.startswith("<") or not path:
        return function or "other"
    return "stdlib: " + path.rsplit("/", 1)[-1].removesuffix(".py")


def _by_package(root: Any) -> dict[str, float]:
    """Self time summed by the package whose code was running (built-ins count for the
    package that called them)."""
    totals: dict[str, float] = collections.defaultdict(float)
    stack: list[tuple[Any, str]] = [(root, "other")]
    while stack:
        frame, parent = stack.pop()
        if frame.is_synthetic_leaf:
            totals[parent] += frame.time
            continue
        path = frame.file_path or ""
        package = (
            parent if path.startswith("<built-in") or not path else _package(path, frame.function)
        )
        stack.extend((child, package) for child in frame.children)
    return dict(totals)


async def profile_run(people: int, output: Path) -> dict[str, float]:
    """A profiled (untimed) walk written to `output`; returns database work per update."""
    from pyinstrument import Profiler

    data_dir = Path(tempfile.mkdtemp(prefix="bench-profile-"))
    running = await start_bot(data_dir)
    counter = _count_sql(running)
    crowd_ = [Person(running.tracker, running.request, u) for u in person_ids(people)]
    profiler = Profiler(interval=0.0005, async_mode="disabled")
    try:
        profiler.start()
        result = await crowd(crowd_, walk)
        profiler.stop()
    finally:
        await running.stop()
    updates = result.updates
    session = profiler.last_session
    assert session is not None
    root = session.root_frame()
    packages = sorted(_by_package(root).items(), key=lambda kv: -kv[1]) if root else []
    total = sum(v for _, v in packages) or 1.0
    flat = profiler.output_text(flat=True, show_all=False)
    tree = profiler.output_text(show_all=False, time="percent_of_total")
    per_update = {k: v / updates for k, v in counter.items()}
    lines = [
        "# Profile of goal 1 (the bot, whole worksheet walk)",
        "",
        f"Written by `python -m bench`: {people} people walk the worksheet at once in-process "
        f"({updates} updates), sampled by pyinstrument every 0.5 ms on the event loop's thread "
        "(aiosqlite's worker threads are not sampled; SQLAlchemy's greenlet-run code shows as "
        "separate roots). Times are inflated by the profiler; the proportions are what matter.",
        "",
        "## Database work per update",
        "",
        "| per update | count |",
        "|---|---|",
        f"| SQL statements | {per_update.get('statements', 0):.2f} |",
        f"| read transactions (BEGIN) | {per_update.get('read_tx', 0):.2f} |",
        f"| write transactions (BEGIN IMMEDIATE) | {per_update.get('write_tx', 0):.2f} |",
        "",
        "Most frequent statements (per update):",
        "",
        "| per update | statement |",
        "|---|---|",
    ]
    statements = [
        (k, v) for k, v in per_update.items() if ":" in k and not k.startswith("statements")
    ]
    for key, value in sorted(statements, key=lambda kv: -kv[1])[:16]:
        lines.append(f"| {value:.2f} | `{key}` |")
    lines += [
        "",
        "## Self time by package (event-loop thread)",
        "",
        "| package | share |",
        "|---|---|",
    ]
    for name, value in packages[:15]:
        lines.append(f"| {name} | {100 * value / total:.1f} % |")
    lines += [
        "",
        "## Top functions by self time",
        "",
        "```",
        *flat.strip().splitlines()[:45],
        "```",
        "",
        "## Call tree (percent of total)",
        "",
        "```",
        *tree.strip().splitlines()[:90],
        "```",
        "",
    ]
    await asyncio.to_thread(output.write_text, "\n".join(lines), encoding="utf-8")
    return {
        "statements": per_update.get("statements", 0.0),
        "read_tx": per_update.get("read_tx", 0.0),
        "write_tx": per_update.get("write_tx", 0.0),
    }
