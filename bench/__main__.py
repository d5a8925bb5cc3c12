"""`python -m bench [--size smoke|small|full] [--only 1,2,3,4,5,r]`: measure, print, write.

Prints a table and writes it, with a description of the machine and a note per goal, to
bench/RESULTS.md, and goal 1's profile to bench/PROFILE.md (the smoke size writes
RESULTS-smoke.md and PROFILE-smoke.md instead, so CI never overwrites the figures kept in the
repository). It reports and never asserts timing: the exit code is 0 whether goals are met or
not, and 1 only on a real error (an update lost, duplicated or handled out of order, a reminder
sent twice, an error reply, a crash).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

# As `python -m bot` does: RetryAfter.retry_after as a timedelta.
os.environ.setdefault("PTB_TIMEDELTA", "1")

from bench.analysis import ANALYSIS
from bench.common import BENCH_DIR, SIZES, BenchError, Section, Size
from bench.harness import ERRORS, quiet_logging
from bench.machine import describe

TITLES = {
    "1": "Per-update cost against bare PTB",
    "2": "Concurrency with a real round trip (50 ms per Bot API call)",
    "3": "Reminder burst at Telegram's ceiling",
    "4": "Cost as the user base grows",
    "5": "Summary and its chart",
    "6": "Fairness: another person's /help behind one person's flood",
    "r": "Reference: what a commit costs through each layer",
}
ORDER = ("1", "2", "3", "4", "5", "6", "r")


def _runner(goal: str) -> Callable[[Size, Section], Any]:
    if goal == "1":
        from bench import overhead

        return overhead.run
    if goal == "2":
        from bench import roundtrip

        return roundtrip.run
    if goal == "3":
        from bench import burst

        return burst.run
    if goal == "4":
        from bench import scale

        return scale.run
    if goal == "5":
        from bench import summary

        return summary.run
    if goal == "6":
        from bench import fairness

        return fairness.run
    from bench import reference

    return reference.run


def run_goal(goal: str, size: Size) -> Section:
    """Run one goal's benchmark; failures are recorded in the section, not raised."""
    section = Section(int(goal) if goal.isdigit() else 0, TITLES[goal])
    started = time.perf_counter()
    errors_before = ERRORS.count
    print(f"[{time.strftime('%H:%M:%S')}] {goal}: {TITLES[goal]} ...", flush=True)
    try:
        result = _runner(goal)(size, section)
        if asyncio.iscoroutine(result):
            asyncio.run(result)
    except BenchError as error:
        section.failures.append(str(error))
    except Exception as error:  # a crash: reported, and the exit code says so
        section.failures.append(f"crashed: {type(error).__name__}: {error}")
        traceback.print_exc()
    if ERRORS.count > errors_before:
        section.failures.append(
            f"{ERRORS.count - errors_before} errors logged by the bot (first: {ERRORS.first})"
        )
    section.seconds = time.perf_counter() - started
    return section


def _verdict(met: bool | None) -> str:
    return "" if met is None else ("met" if met else "**not met**")


def table(sections: list[Section]) -> list[str]:
    """The results as one Markdown table."""
    lines = ["| goal | measured | value | goal | verdict |", "|---|---|---|---|---|"]
    for section in sections:
        label = str(section.number) if section.number else "ref"
        for row in section.rows:
            cells = (row.what, row.value, row.target)
            what, value, target = (cell.replace("|", "\\|") for cell in cells)
            lines.append(f"| {label} | {what} | {value} | {target} | {_verdict(row.met)} |")
        for failure in section.failures:
            escaped = failure.replace("|", "\\|")
            lines.append(f"| {label} | **error** | {escaped} | | **failed** |")
    return lines


def report(sections: list[Section], size: Size, command: str, seconds: float) -> str:
    """The whole of RESULTS.md."""
    machine = describe()
    lines = [
        "# Benchmark results",
        "",
        f"`{command}` — size **{size.name}**, each figure the median of {size.runs} run(s) "
        f"unless said otherwise; whole run {seconds / 60:.1f} min. Ratios compare figures "
        "measured in the same run. Nothing here is asserted by the tests: these are "
        "measurements, and the machine is shared, so expect noise.",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        *(f"| {what} | {value} |" for what, value in machine),
        "",
        "## Results",
        "",
        *table(sections),
        "",
        "## Notes per goal",
        "",
    ]
    for section in sections:
        key = str(section.number) if section.number else "r"
        verdicts = [row.met for row in section.rows if row.met is not None]
        if section.failures:
            verdict = "failed (see the errors in the table)"
        elif not verdicts:
            verdict = "reference figures, no goal"
        else:
            verdict = "met" if all(verdicts) else "**not met**"
        lines += [f"### {key}. {section.title} — {verdict}", ""]
        lines += [f"- {note}" for note in section.notes]
        analysis = ANALYSIS.get(key)
        if analysis is not None:
            lines += [f"- **What limits it.** {analysis.limits}"]
            if verdicts and not all(verdicts):
                lines += [f"- **What would close the gap.** {analysis.close}"]
        lines += [f"- This goal's benchmark took {section.seconds:.0f} s.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    parser.add_argument(
        "--only", default=",".join(ORDER), help="goals to run, e.g. 1,3 (r: reference)"
    )
    parser.add_argument("--output", type=Path, default=None, help="where to write the results")
    args = parser.parse_args(argv)
    goals = [g.strip().lower() for g in args.only.split(",") if g.strip()]
    unknown = [g for g in goals if g not in TITLES]
    if unknown:
        parser.error(f"unknown goal(s): {', '.join(unknown)}")
    size = SIZES[args.size]
    output = args.output or BENCH_DIR / (
        "RESULTS-smoke.md" if size.name == "smoke" else "RESULTS.md"
    )
    quiet_logging()
    # Every database, data folder and log the benchmarks make goes under one folder that is
    # removed at the end.
    scratch = tempfile.TemporaryDirectory(prefix="bench-")
    tempfile.tempdir = scratch.name
    command = "python -m bench " + " ".join(argv if argv is not None else sys.argv[1:])
    started = time.perf_counter()
    try:
        sections = [run_goal(goal, size) for goal in ORDER if goal in goals]
    finally:
        tempfile.tempdir = None
        scratch.cleanup()
    seconds = time.perf_counter() - started
    text = report(sections, size, command.strip(), seconds)
    output.write_text(text, encoding="utf-8")
    print()
    print("\n".join(table(sections)))
    print(f"\nWritten to {output} ({seconds:.0f} s).")
    return 1 if any(section.failures for section in sections) else 0


if __name__ == "__main__":
    sys.exit(main())
