"""The bot's log filters: a repeating record cannot flood the disk; jobs are not described."""

from __future__ import annotations

import datetime as dt
import logging

from bot.__main__ import JobFilter, RateLimitFilter

ACCEPT_FAILED = "socket.accept() out of system resource\nsocket: <socket fd=7>"


def record(name: str, msg: str, *args: object) -> logging.LogRecord:
    """A log record as a logger of that name would make it."""
    return logging.LogRecord(name, logging.ERROR, __file__, 1, msg, args or None, None)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_repeating_asyncio_error_passes_once_a_minute_with_a_count() -> None:
    clock = Clock()
    limit = RateLimitFilter(("asyncio",), every=60.0, clock=clock)
    passed = []
    for _ in range(600):  # ten minutes of failed accepts, one a second
        item = record("asyncio", ACCEPT_FAILED)
        if limit.filter(item):
            passed.append(item.getMessage())
        clock.now += 1.0
    assert len(passed) == 10
    assert passed[0] == ACCEPT_FAILED
    assert passed[1] == f"{ACCEPT_FAILED} (59 more like it left out)"


def test_other_loggers_and_other_messages_pass() -> None:
    limit = RateLimitFilter(("asyncio",), clock=Clock())
    assert all(limit.filter(record("bot.reminders", "Reminder sent")) for _ in range(5))
    assert limit.filter(record("asyncio", ACCEPT_FAILED))
    assert limit.filter(record("asyncio", "Unclosed client session"))
    assert not limit.filter(record("asyncio", ACCEPT_FAILED))


def test_scheduler_records_keep_their_words_but_not_the_job() -> None:
    job = "reminders:12:2026-12-04T18:30:00 (trigger: date[2026-12-04 17:30:00 UTC])"
    item = record("apscheduler.executors.default", 'Run time of job "%s" was missed by %s')
    item.args = (job, dt.timedelta(seconds=3))
    assert JobFilter().filter(item)
    assert item.getMessage() == 'Run time of job "<job>" was missed by 0:00:03'
    added = record("apscheduler.scheduler", 'Added job "%s" to job store "%s"', job, "default")
    JobFilter().filter(added)
    assert "18:30" not in added.getMessage() and "17:30" not in added.getMessage()
