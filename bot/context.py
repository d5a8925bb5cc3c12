"""A typed callback context, so handlers read `context.store` instead of digging in bot_data."""

from __future__ import annotations

import datetime as dt
from typing import Any

from telegram.ext import Application, CallbackContext, ExtBot, JobQueue

from bot.settings import Settings
from bot.visit import current_visit
from storage import Store
from storage.repository import Visit

JOB_PREFIX = "reminder"


def job_name(schedule_id: int, occurrence: dt.datetime) -> str:
    """A reminder job's name: it says what the job is, so it is found, replaced and removed."""
    return f"{JOB_PREFIX}:{schedule_id}:{occurrence.isoformat()}"


def forget_jobs(job_queue: JobQueue[Any] | None, schedule_ids: list[int]) -> None:
    """Remove queued reminder jobs of some schedules (they are planned again from the store)."""
    if job_queue is None:
        return
    prefixes = tuple(f"{JOB_PREFIX}:{sid}:" for sid in schedule_ids)
    for job in job_queue.jobs():
        if job.name and job.name.startswith(prefixes):
            job.schedule_removal()


class BotData(dict[str, Any]):
    """Application-wide objects: the store and the settings."""


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]):
    """The context every handler receives."""

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> None:
        super().__init__(application=application, chat_id=chat_id, user_id=user_id)
        self.left_sections: list[str] = []

    @property
    def store(self) -> Store:
        """The repository."""
        store: Store = self.bot_data["store"]
        return store

    @property
    def settings(self) -> Settings:
        """The settings the bot was started with."""
        settings: Settings = self.bot_data["settings"]
        return settings

    def forget_reminders(self, schedule_ids: list[int]) -> None:
        """Drops queued reminder jobs of these schedules (the store plans them again)."""
        forget_jobs(self.job_queue, schedule_ids)

    def forget_person(self, chat_id: int, user_id: int) -> None:
        """Drops whatever PTB keeps for the person's chat (their place went with their rows)."""
        self.application.drop_chat_data(chat_id)
        self.application.drop_user_data(user_id)

    @property
    def visit(self) -> Visit | None:
        """The update's visit: the person, their place, read once before any handler."""
        return current_visit()
