"""Webhook mode: a small aiohttp server that hands Telegram's updates to the application.

PTB's own `run_webhook` (tornado) reads a request's whole body, up to 100 MB, before it looks at
the secret header, and logs a body it cannot parse. This server follows PTB's "custom webhook"
pattern instead (updates go to `application.update_queue`), so it can decide from the headers:
a request without the right `X-Telegram-Bot-Api-Secret-Token` is answered 403 before its body is
read, a body over 1 MB is refused with 413, and a body that is not one JSON update gets 400.
Nothing of a request is logged but its outcome.

An update is answered 200 only once it has been handled (or after HANDLED_WAIT), so that one
that was being handled when the process died is sent again by Telegram; the processed-update
ledger keeps one whose writes had committed from being taken twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
from collections.abc import Callable
from typing import Any

from aiohttp import web
from telegram import Update
from telegram.ext import Application

from bot.updates import InFlight

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY = 1024 * 1024
SHUTDOWN_TIMEOUT = 3.0
HANDLED_WAIT = 50.0


class WebhookServer:
    """Serves POST <path> for Telegram; start() listens, stop() closes."""

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        *,
        path: str,
        secret: str,
        listen: str,
        port: int,
        on_update: Callable[[], None] | None = None,
        in_flight: InFlight | None = None,
    ) -> None:
        self._application = application
        self._secret = secret.encode()
        self._listen = listen
        self._port = port
        self._on_update = on_update
        self._in_flight = in_flight
        self._accepting = True
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_post(path, self._receive)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT)

    async def start(self) -> None:
        """Listen on the configured address and port."""
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._listen, self._port)
        await site.start()
        logger.info("Webhook server listening on %s:%s", self._listen, self._port)

    async def stop(self) -> None:
        """Stop taking updates (later ones get 503, so Telegram keeps them) and close."""
        self._accepting = False
        await self._runner.cleanup()

    async def _receive(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self._secret):
            # Decided from the headers alone: the body is never read.
            logger.warning("Webhook request refused: missing or wrong secret")
            return _refuse(403, "Forbidden")
        if request.content_length is not None and request.content_length > MAX_BODY:
            logger.warning("Webhook request refused: body over 1 MB")
            return _refuse(413, "Payload Too Large")
        if not self._accepting:
            return _refuse(503, "Stopping")
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            logger.warning("Webhook request refused: body over 1 MB")
            return _refuse(413, "Payload Too Large")
        try:
            data = json.loads(body)
            if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
                raise ValueError("not an update")
            update = Update.de_json(data, self._application.bot)
        except Exception as error:
            logger.warning("Webhook request refused: not an update (%s)", type(error).__name__)
            return _refuse(400, "Bad Request: expected one JSON update")
        if self._on_update is not None:
            self._on_update()
        handled = None if self._in_flight is None else self._in_flight.expect(update.update_id)
        await self._application.update_queue.put(update)
        if handled is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(handled), HANDLED_WAIT)
        return web.Response(status=200)


def _refuse(status: int, reason: str) -> web.Response:
    # Close the connection: the client may still be sending a body we will not read.
    response = web.Response(status=status, text=reason)
    response.force_close()
    return response
