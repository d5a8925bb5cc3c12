"""What every benchmark shares: sizes, statistics, resident memory, result rows."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
# Shaped like a real token (the bot's settings check the shape); it never leaves the process.
TOKEN = "123456789:BENCHxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
# A fixed 32-byte key (urlsafe base64) so every run encrypts alike.
KEY = "YmVuY2gtYmVuY2gtYmVuY2gtYmVuY2gtYmVuY2gtMzI="


class BenchError(Exception):
    """A real failure (lost, duplicated or reordered updates, a crash): exit non-zero."""


@dataclass(frozen=True, slots=True)
class Size:
    """How big each benchmark is at one size."""

    name: str
    runs: int  # each figure is the median of this many runs
    walkers: int  # goal 1: people walking the worksheet at once
    bare_updates: int  # goal 2: updates for the sequential baseline
    roundtrip_people: int  # goal 2
    reminders: int  # goal 3
    people_small: int  # goal 4
    people_large: int  # goal 4
    scale_walkers: int  # goal 4: people walking while the store holds many
    due_tick: int  # goal 4: occurrences due at one tick
    starts: int  # goal 4: bot start-ups timed
    charts: int  # goal 5: warm renders timed
    db_commits: int  # reference: commits per driver


SIZES = {
    "smoke": Size("smoke", 1, 4, 20, 8, 40, 20, 200, 4, 50, 1, 3, 300),
    "small": Size("small", 3, 30, 60, 40, 300, 100, 10_000, 10, 1_000, 3, 10, 1_000),
    "full": Size("full", 5, 200, 200, 500, 5_000, 100, 100_000, 50, 1_000, 5, 30, 5_000),
}


def median(values: Sequence[float]) -> float:
    """The median (nan for nothing)."""
    return statistics.median(values) if values else float("nan")


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), nearest rank on sorted values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def rss_mib(pid: int | None = None) -> float:
    """Resident memory (VmRSS) of a process, in MiB."""
    path = f"/proc/{pid or os.getpid()}/status"
    with open(path) as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def hwm_mib(pid: int | None = None) -> float:
    """Peak resident memory (VmHWM) of a process, in MiB."""
    path = f"/proc/{pid or os.getpid()}/status"
    with open(path) as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main_thread_cpu() -> float:
    """CPU seconds used so far by this process's main thread (the event loop's)."""
    try:
        with open(f"/proc/self/task/{os.getpid()}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return float("nan")


class Clock:
    """Wall and CPU time (all threads of this process, and the main thread) over a block."""

    def __init__(self) -> None:
        self.wall = 0.0
        self.cpu = 0.0
        self.main_cpu = 0.0
        self._wall0 = 0.0
        self._cpu0 = 0.0
        self._main0 = 0.0

    def __enter__(self) -> Clock:
        self._wall0, self._cpu0 = time.perf_counter(), time.process_time()
        self._main0 = main_thread_cpu()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self._wall0
        self.cpu = time.process_time() - self._cpu0
        self.main_cpu = main_thread_cpu() - self._main0


@dataclass
class Row:
    """One line of the results table: a measured figure, its goal and its verdict."""

    goal: str
    what: str
    value: str
    target: str = ""
    met: bool | None = None  # None: informational, no goal
    note: str = ""


@dataclass
class Section:
    """One goal's rows and its analysis."""

    number: int
    title: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, what: str, value: str, target: str = "", met: bool | None = None) -> None:
        """Add a row to this section."""
        self.rows.append(Row(str(self.number), what, value, target, met))


def fmt_int(value: float) -> str:
    """A count with thousands separators."""
    return f"{value:,.0f}"


def fmt_ms(seconds: float) -> str:
    """Seconds as milliseconds, to a sensible precision."""
    ms = seconds * 1000
    if ms != ms:  # nan
        return "n/a"
    return f"{ms:,.1f} ms" if ms < 100 else f"{ms:,.0f} ms"


def fmt_us(seconds: float) -> str:
    """Seconds as microseconds."""
    return f"{seconds * 1e6:,.0f} us"
