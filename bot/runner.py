"""Running the bot: one active instance, polling or a webhook, and a bounded graceful stop.

PTB's `run_polling`/`run_webhook` own the event loop and the signals; this runner does the same
steps (initialize, post_init, start, receive; then stop receiving, stop, shutdown) itself, because
it also has to:
- become the active instance first (storage.leader: SQLite refuses a second instance, PostgreSQL
  keeps it as a standby until the active one's lock goes);
- serve the webhook with our own server (bot/webhook.py);
- handle the updates a previous run left in the inbox (bot/updates.py) before any new one;
- on SIGTERM stop taking updates, let the ones already taken and the running jobs finish, and
  exit within STOP_BUDGET seconds whatever happens (what is not finished by then is safe: the
  conversation place is stored with each answer, updates not handled stay in the inbox for the
  next start, and a claimed but unsent reminder is sent at the next start);
- report its health (bot/health.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import TYPE_CHECKING, Any

from telegram import Update
from telegram.error import TelegramError

from bot.app import App, build_application
from bot.health import PROBE_AFTER, ContactRequest, Status
from bot.settings import Settings
from bot.updates import Intake
from storage import Store
from storage.leader import InstanceLock, acquire

if TYPE_CHECKING:
    from bot.webhook import WebhookServer

logger = logging.getLogger(__name__)

# Docker waits 10 s after SIGTERM before SIGKILL; finish well inside that.
STOP_BUDGET = 6.5
SHUTDOWN_BUDGET = 2.0
POLL_TIMEOUT = 10
BOOTSTRAP_RETRIES = 5


class Runner:
    """One run of the bot process."""

    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self.stop_requested = asyncio.Event()
        self.status = Status(settings.data_dir, "webhook" if settings.webhook_url else "polling")
        self.lost_lock = False

    def _signals(self) -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self._on_signal, signum)

    def _on_signal(self, signum: int) -> None:
        if not self.stop_requested.is_set():
            logger.info("Received %s: finishing what is in progress", signal.Signals(signum).name)
        self.stop_requested.set()

    async def run(self) -> int:
        """Wait to be the active instance, then serve until a signal; returns the exit code."""
        self._signals()
        writer: asyncio.Task[None] | None = None

        def report(role: str) -> None:
            # Only once this process may speak for the data folder: a second instance refused
            # on a SQLite file must not touch the running one's status.
            nonlocal writer
            self.status.role = role
            if writer is None:
                writer = asyncio.create_task(self.status.keep_writing())
            self.status.write()

        try:
            lock = await acquire(
                self.store.db, self.stop_requested, on_standby=lambda: report("standby")
            )
            if lock is None:
                return 0
            report("starting")
            try:
                if lock.shared:
                    logger.info("This instance is now the active one")
                return await self._serve(lock)
            finally:
                await lock.release()
        finally:
            if writer is not None:
                writer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await writer
                self.status.remove()

    def _build(self) -> App:
        contact = self.status.contact
        return build_application(
            self.settings,
            self.store,
            request=ContactRequest(contact, connection_pool_size=256),
            get_updates_request=ContactRequest(contact, connection_pool_size=1),
        )

    async def _serve(self, lock: InstanceLock) -> int:
        application = self._build()
        await application.initialize()
        webhook: WebhookServer | None = None
        try:
            if application.post_init is not None:
                await application.post_init(application)
            await application.start()
            webhook = await self._receive(application)
            self.status.role = "active"
            self.status.write()
            probe = application.bot.get_webhook_info if webhook else application.bot.get_me
            prober = asyncio.create_task(self._probe(probe))
            lost = asyncio.create_task(lock.lost())
            stop = asyncio.create_task(self.stop_requested.wait())
            try:
                await asyncio.wait({lost, stop}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in (prober, lost, stop):
                    task.cancel()
            if lost.done() and not lost.cancelled():
                self.lost_lock = True
                logger.error("Stopping: this instance can no longer be sure it is the active one")
            self.status.role = "stopping"
            self.status.write()
            await self._stop(application, webhook)
        finally:
            try:
                await asyncio.wait_for(application.shutdown(), SHUTDOWN_BUDGET)
            except Exception as error:  # after an unfinished stop; we are exiting anyway
                logger.warning("Shutdown was not complete: %s", type(error).__name__)
        return 1 if self.lost_lock else 0

    async def _probe(self, probe: Any) -> None:
        """Ask Telegram something cheap when it has been quiet, for the health check."""
        while True:
            await asyncio.sleep(PROBE_AFTER / 3)
            age = self.status.contact.age()
            if age is None or age > PROBE_AFTER:
                try:
                    await probe()
                except TelegramError as error:
                    logger.warning("Telegram did not answer a check: %s", type(error).__name__)

    async def _receive(self, application: App) -> WebhookServer | None:
        """Start taking updates: those left in the inbox first, then our webhook server, or
        PTB's long polling."""
        settings = self.settings
        intake: Intake | None = application.bot_data.get("intake")
        if intake is not None:
            await _recover(application, intake)
        if settings.webhook_url and settings.webhook_secret is not None:
            from bot.webhook import WebhookServer  # aiohttp: only in webhook mode

            secret = settings.webhook_secret.get_secret_value()
            server = WebhookServer(
                application,
                path=settings.webhook_path,
                secret=secret,
                listen=settings.webhook_listen,
                port=settings.webhook_port,
                on_update=self.status.contact.touch,
                intake=intake,
            )
            await server.start()
            await application.bot.set_webhook(
                url=settings.webhook_url,
                secret_token=secret,
                allowed_updates=Update.ALL_TYPES,
                max_connections=settings.webhook_max_connections,
            )
            return server
        assert application.updater is not None
        await application.updater.start_polling(
            timeout=POLL_TIMEOUT,
            allowed_updates=Update.ALL_TYPES,
            bootstrap_retries=BOOTSTRAP_RETRIES,
            error_callback=_polling_error,
        )
        return None

    async def _stop(self, application: App, webhook: WebhookServer | None) -> None:
        """Stop taking updates, finish the ones taken and the running jobs, within the budget."""

        async def graceful() -> None:
            if webhook is not None:
                await webhook.stop()
            elif application.updater is not None and application.updater.running:
                await application.updater.stop()
            await application.stop()
            intake: Intake | None = application.bot_data.get("intake")
            if intake is not None:
                await intake.flush()

        try:
            await asyncio.wait_for(graceful(), STOP_BUDGET)
            logger.info("Stopped cleanly")
        except TimeoutError:
            logger.warning(
                "Not everything finished within %.0f s; the rest is resumed at the next start",
                STOP_BUDGET,
            )


async def _recover(application: App, intake: Intake) -> None:
    """Queue the updates a previous run took and did not handle, in their order."""
    for data in await intake.recover():
        try:
            update = Update.de_json(data, application.bot)
        except Exception as error:  # stored, so it once was an update; nothing to do with it
            logger.warning("An update left in the inbox is unreadable: %s", type(error).__name__)
            if isinstance(data.get("update_id"), int):
                intake.handled(data["update_id"])
            continue
        await application.update_queue.put(update)


def _polling_error(error: TelegramError) -> None:
    # The type only: a network error's text can contain the request URL, and so the token.
    logger.warning("Fetching updates failed (%s); retrying", type(error).__name__)
