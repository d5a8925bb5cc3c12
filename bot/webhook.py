"""Webhook mode: a small aiohttp server that hands Telegram's updates to the application.

PTB's own `run_webhook` (tornado) reads a request's whole body, up to 100 MB, before it looks at
the secret header, and logs a body it cannot parse. This server follows PTB's "custom webhook"
pattern instead (updates go to `application.update_queue`), so it can decide from the headers:
a request without the right `X-Telegram-Bot-Api-Secret-Token` is answered 403 before its body is
read, a body over 1 MB is refused with 413, and a body that is not one JSON update gets 400.
Nothing of a request is logged but its outcome.

A connection that has not sent a whole request head within HEADER_TIMEOUT (or sits idle that
long after an answer) is closed, a body must come within BODY_TIMEOUT, and over MAX_OPEN open
connections a new one is closed at once: slow or many connections cannot hold the bot's files.

An update is answered 200 once it is stored in the inbox (bot/updates.py), before it is
handled: one being handled when the process died is handled at the next start, and Telegram can
send the chat's next update at once. If the inbox cannot be written, the update is handled all
the same, held: answered 200 only once handled (or after HANDLED_WAIT), so that one being handled
when the process died is sent again by Telegram; the processed-update ledger keeps one whose
writes had committed from being taken twice.
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

from bot.updates import Intake

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY = 1024 * 1024
SHUTDOWN_TIMEOUT = 3.0
HANDLED_WAIT = 50.0
# aiohttp closes a connection whose handler has waited this long for a request: one that sends
# its head too slowly, or keeps an idle connection open (Telegram simply opens a new one).
HEADER_TIMEOUT = 10.0
BODY_TIMEOUT = 30.0
# Telegram opens at most max_connections (40 here, 100 at most) at once.
MAX_OPEN = 128


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
        intake: Intake | None = None,
    ) -> None:
        self._application = application
        self._secret = secret.encode()
        self._listen = listen
        self._port = port
        self._on_update = on_update
        self._intake = intake
        self._accepting = True
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_post(path, self._receive)
        self._runner = web.AppRunner(
            app,
            access_log=None,
            shutdown_timeout=SHUTDOWN_TIMEOUT,
            keepalive_timeout=HEADER_TIMEOUT,
        )
        self._listener: asyncio.Server | None = None

    async def start(self) -> None:
        """Listen on the configured address and port."""
        await self._runner.setup()
        loop = asyncio.get_running_loop()
        self._listener = await loop.create_server(self._connection, self._listen, self._port)
        logger.info("Webhook server listening on %s:%s", self._listen, self._port)

    def _connection(self) -> asyncio.BaseProtocol:
        """A new connection: aiohttp's, unless MAX_OPEN are open already."""
        server = self._runner.server
        assert server is not None
        if len(server.connections) >= MAX_OPEN:
            logger.warning("Webhook connection refused: %s open already", MAX_OPEN)
            return _Closed()
        return server()

    async def stop(self) -> None:
        """Stop taking updates (later ones get 503, so Telegram keeps them) and close."""
        self._accepting = False
        if self._listener is not None:
            self._listener.close()
        await self._runner.cleanup()
        if self._listener is not None:
            await self._listener.wait_closed()
            self._listener = None

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
            body = await asyncio.wait_for(request.read(), BODY_TIMEOUT)
        except web.HTTPRequestEntityTooLarge:
            logger.warning("Webhook request refused: body over 1 MB")
            return _refuse(413, "Payload Too Large")
        except TimeoutError:
            logger.warning("Webhook request refused: body too slow")
            return _refuse(408, "Request Timeout")
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
        handled = None
        if self._intake is not None:
            taken, held = await self._intake.take([data])
            if not taken:
                return web.Response(status=200)  # already waiting, or not kept
            if held:
                handled = self._intake.expect(update.update_id)
        await self._application.update_queue.put(update)
        if handled is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(handled), HANDLED_WAIT)
        return web.Response(status=200)


class _Closed(asyncio.Protocol):
    """A connection over the cap: closed as soon as it is made."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport.close()


def _refuse(status: int, reason: str) -> web.Response:
    # Close the connection: the client may still be sending a body we will not read.
    response = web.Response(status=status, text=reason)
    response.force_close()
    return response
