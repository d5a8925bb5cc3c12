"""Goal 5: /summary with its chart, warm; rendering off the event loop; idle memory.

A person with 12 weeks of session entries asks for /summary, in-process (LocalRequest answers
sendMessage and sendPhoto). Meanwhile-figures pair each step of a worksheet walk by another person
while two people keep asking for charts with the same step of the same walk with no charts
rendering (same run), so the delay charts cause is read step by step. Memory is read from
`python -m bot` itself (against the fake server), idle and after its first chart; matplotlib's
import cost from a fresh interpreter.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import REPO_ROOT, TOKEN, Section, Size, median, percentile, rss_mib
from bench.harness import Running, start_bot
from bench.local import Person
from bench.seed import migrate_async, people, sessions, sync_engine
from bench.walk import walk
from conversations.worksheet.content import t
from tests.botproc import BotProcess
from tests.fake_telegram import FakeTelegram

CHARTED = 3_000_001  # people with 12 weeks of entries
WARM_GOAL = 0.200
DELAY_GOAL = 0.050
IDLE_GOAL_MIB = 64.0
RENDERERS = 2

IMPORT_PROBE = r"""
import json, time, datetime as dt
def rss():
    for line in open('/proc/self/status'):
        if line.startswith('VmRSS:'):
            return int(line.split()[1]) / 1024
before = rss()
start = time.perf_counter()
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
imported = time.perf_counter() - start
after_import = rss()
from conversations.files.chart import render_chart
today = dt.date.today()
points = [(today - dt.timedelta(days=7 * (11 - w)), 5 + w % 5, 4 + w % 6) for w in range(12)]
labels = {"trust": "Trust", "safety": "Safety", "title": "Trust and safety", "y": "Score"}
start = time.perf_counter()
render_chart(points, labels=labels)
first = time.perf_counter() - start
warm = []
for _ in range(5):
    start = time.perf_counter()
    render_chart(points, labels=labels)
    warm.append(time.perf_counter() - start)
print(json.dumps({"import": imported, "import_mib": after_import - before, "first": first,
                  "warm": sorted(warm)[2], "after_chart_mib": rss() - before}))
"""


STAGES_PROBE = r"""
import json, sys
def rss():
    for line in open('/proc/self/status'):
        if line.startswith('VmRSS:'):
            return int(line.split()[1]) / 1024
stages = [("python", rss())]
import telegram.ext
stages.append(("python-telegram-bot", rss()))
import sqlalchemy.ext.asyncio, sqlalchemy.orm, aiosqlite
stages.append(("SQLAlchemy + aiosqlite", rss()))
import bot.__main__
stages.append(("bot.__main__ (settings, storage, operations)", rss()))
before = set(sys.modules)
import bot.app
new = {m.split('.')[0] for m in set(sys.modules) - before}
heavy = sorted(new & {"fpdf", "numpy", "PIL", "fontTools", "matplotlib", "timezonefinder"})
brings = ", ".join(heavy) if heavy else "nothing heavy"
stages.append(("bot.app (every section; brings " + brings + ")", rss()))
import alembic.command, alembic.runtime.migration
stages.append(("alembic (the migration check at start)", rss()))
print(json.dumps(stages))
"""


def import_stages() -> list[tuple[str, float]]:
    """Resident memory after each stage of the bot's imports, in a fresh interpreter."""
    out = subprocess.run(
        [sys.executable, "-c", STAGES_PROBE],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return [(name, float(mib)) for name, mib in json.loads(out.stdout.strip().splitlines()[-1])]


def import_cost(runs: int) -> dict[str, float]:
    """matplotlib's import and one chart in a fresh interpreter (medians over runs)."""
    found: list[dict[str, float]] = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", IMPORT_PROBE],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        found.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return {key: median([f[key] for f in found]) for key in found[0]}


async def prepare(data_dir: Path, count: int) -> list[int]:
    """People with 12 weekly session entries, the last one today."""
    await migrate_async(data_dir)
    engine = sync_engine(data_dir)
    ids = list(range(CHARTED, CHARTED + count))
    persons = people(engine, ids, timezone="UTC")
    sessions(engine, persons.values())
    engine.dispose()
    return ids


async def summary_times(running: Running, ids: list[int], repeats: int) -> dict[str, float]:
    """compose() alone and /summary end to end, warm (after one chart per process)."""
    from conversations.sections.summary import compose

    assert running.store is not None
    start = time.perf_counter()
    composed = await compose(running.store, ids[0])
    cold = time.perf_counter() - start
    assert composed.chart is not None and not composed.empty
    alone: list[float] = []
    for _ in range(repeats):
        start = time.perf_counter()
        await compose(running.store, ids[0])
        alone.append(time.perf_counter() - start)
    person = Person(running.tracker, running.request, ids[0])
    pressed: list[float] = []
    for _ in range(repeats):
        await person.command("summary")  # the choice: this week, or since I started
        # The press brings the summary and its chart, made in a task of its own (one render
        # per person at a time): timed until the chart has been sent.
        count = running.request.photos[ids[0]] + 1
        start = time.perf_counter()
        await person.press("summary:week")
        await running.request.photo_sent(ids[0], count)
        pressed.append(time.perf_counter() - start)
    photos = running.request.calls["sendPhoto"]
    return {
        "cold": cold,
        "compose_p50": percentile(alone, 50),
        "compose_p99": percentile(alone, 99),
        "summary_p50": percentile(pressed, 50),
        "summary_p99": percentile(pressed, 99),
        "photos": photos,
    }


async def interference(running: Running, ids: list[int], first: int) -> dict[str, float]:
    """How much later each step of a walk is handled while charts render, step by step."""
    calm = Person(running.tracker, running.request, first)
    await walk(calm, review=False)
    busy = Person(running.tracker, running.request, first + 1)
    stop = asyncio.Event()
    renders = 0

    async def render(user_id: int) -> None:
        nonlocal renders
        person = Person(running.tracker, running.request, user_id)
        while not stop.is_set():
            await person.command("summary")
            count = running.request.photos[user_id] + 1
            await person.press("summary:week")
            await running.request.photo_sent(user_id, count)  # rendered in its own task
            renders += 1

    tasks = [asyncio.create_task(render(i)) for i in ids[1 : 1 + RENDERERS]]
    await asyncio.sleep(0.3)  # charts are rendering
    await walk(busy, review=False)
    stop.set()
    await asyncio.gather(*tasks)
    delays = [b - c for b, c in zip(busy.latencies, calm.latencies, strict=True)]
    return {
        "calm_p50": percentile(calm.latencies, 50),
        "busy_p50": percentile(busy.latencies, 50),
        "busy_p99": percentile(busy.latencies, 99),
        "delay_p50": percentile(delays, 50),
        "delay_p99": percentile(delays, 99),
        "delay_max": max(delays),
        "renders": renders,
    }


def process_memory(data_dir: Path, user_id: int) -> dict[str, float]:
    """The bot process's resident memory idle, then after its first /summary chart."""
    from bench.burst import bot_env

    fake = FakeTelegram(TOKEN).start()
    bot = BotProcess(fake, data_dir, bot_env("WARNING"))
    try:
        bot.start().wait_ready(60)
        time.sleep(1.5)
        assert bot.pid is not None
        idle = rss_mib(bot.pid)
        user = fake.user(user_id, "P")
        mark = user.mark()
        user.command("summary")
        choice = user.wait_for(lambda m: m.has_button(t("summary.week_button")), after=mark)
        user.press(t("summary.week_button"), choice)
        user.wait_for(lambda m: m.photo is not None, after=mark, timeout=60)
        charted = rss_mib(bot.pid)
    finally:
        bot.stop()
        fake.stop()
    return {"idle": idle, "charted": charted}


async def run(size: Size, section: Section) -> None:
    """Goal 5."""
    imports = import_cost(size.runs)
    root = Path(tempfile.mkdtemp(prefix="bench-summary-"))
    data_dir = root / "data"
    ids = await prepare(data_dir, 1 + RENDERERS)
    memories = [process_memory(data_dir, ids[0]) for _ in range(size.runs)]
    running = await start_bot(data_dir)
    try:
        times = await summary_times(running, ids, size.charts)
        runs = [
            await interference(running, ids, 60_000_001 + 10 * index) for index in range(size.runs)
        ]
    finally:
        await running.stop()
    section.add(
        "matplotlib import (fresh interpreter); first chart; warm chart (render_chart alone)",
        f"{imports['import'] * 1e3:,.0f} ms, +{imports['import_mib']:.0f} MiB; "
        f"{imports['first'] * 1e3:,.0f} ms; {imports['warm'] * 1e3:,.0f} ms "
        f"(+{imports['after_chart_mib']:.0f} MiB after charts)",
    )
    section.add(
        "/summary with chart, 12 weeks of entries, warm (in-process, end to end)",
        f"p50 {times['summary_p50'] * 1e3:,.0f} ms, p99 {times['summary_p99'] * 1e3:,.0f} ms "
        f"(compose() alone p50 {times['compose_p50'] * 1e3:,.0f} ms; cold, with the import: "
        f"{times['cold'] * 1e3:,.0f} ms)",
        f"p50 < {WARM_GOAL * 1e3:.0f} ms",
        times["summary_p50"] < WARM_GOAL,
    )
    delay_max = median([r["delay_max"] for r in runs])
    delay_p99 = median([r["delay_p99"] for r in runs])
    section.add(
        f"another person's replies while {RENDERERS} people keep rendering charts: added delay "
        "per step (paired with a walk without charts)",
        f"p50 {median([r['delay_p50'] for r in runs]) * 1e3:,.1f} ms, p99 "
        f"{delay_p99 * 1e3:,.0f} ms, max {delay_max * 1e3:,.0f} ms "
        f"({int(median([r['renders'] for r in runs]))} charts rendered meanwhile)",
        f"max <= {DELAY_GOAL * 1e3:.0f} ms",
        delay_max <= DELAY_GOAL,
    )
    stages = import_stages()
    steps = [f"{stages[0][0]} {stages[0][1]:.0f}"] + [
        f"{name} +{mib - stages[i][1]:.0f}" for i, (name, mib) in enumerate(stages[1:])
    ]
    section.add(
        "where idle memory goes: resident MiB after each import stage (fresh interpreter)",
        "; ".join(steps) + f"; total {stages[-1][1]:.0f} MiB",
    )
    idle = median([m["idle"] for m in memories])
    section.add(
        "`python -m bot` resident memory: idle before the first chart; after it",
        f"{idle:.0f} MiB; {median([m['charted'] for m in memories]):.0f} MiB",
        f"idle < {IDLE_GOAL_MIB:.0f} MiB",
        idle < IDLE_GOAL_MIB,
    )
