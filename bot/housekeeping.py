"""Standing jobs that keep what is stored to what is needed: handled update ids are forgotten
after 48 hours (Telegram redelivers an update for at most 24, so the ledger needs no more, and
kept longer it would be a timeline of when each person wrote)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from telegram.ext import ContextTypes, JobQueue

from storage import Store

logger = logging.getLogger(__name__)

KEEP_HANDLED = dt.timedelta(hours=48)
EVERY = dt.timedelta(hours=1)


async def prune(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Forget the ids of updates handled more than 48 hours ago."""
    store: Store = context.bot_data["store"]
    removed = await store.prune_processed_updates(KEEP_HANDLED)
    if removed:
        logger.info("Forgot %d handled updates older than 48 hours", removed)


def start_jobs(job_queue: JobQueue[Any]) -> None:
    """Prune a few seconds after start, then every hour."""
    job_queue.run_repeating(prune, interval=EVERY, first=5, name="housekeeping:prune")
