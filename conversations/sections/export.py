"""/export: a copy of everything stored about the person, as three documents in the chat.

The PDF (the worksheet with their answers, to print or bring to a session), the JSON (everything
stored, decrypted; docs/export-format.md) and the session chart as CSV. The files are built in
memory and uploaded from there: nothing is written to disk, so nothing is left to clean up.

Each file is built and sent on its own: one that cannot be made (or sent) this time is named in
a kind word at the end, and the others still arrive. The files are made as a task of their own
(kit/renders.py), so pressing Export again meanwhile says they are on their way.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from telegram import Update
from telegram.constants import ChatAction
from telegram.error import Forbidden
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot.context import BotContext
from conversations.files.chart import render_chart_async
from conversations.kit.callbacks import MENU
from conversations.kit.renders import render_once
from conversations.kit.steps import END, State, acknowledge, quietly, section_handler, send, stops
from conversations.worksheet.content import Html, t
from conversations.worksheet.dates import local_today
from storage.export import gather
from storage.repository import DuplicateUpdate, PersonMissing

logger = logging.getLogger(__name__)

SECTION = "export"
# With fewer sessions a line says nothing the table doesn't.
MIN_CHART_POINTS = 2


async def chart_png(data: dict[str, Any]) -> bytes | None:
    """The trend chart of the session chart, if there are enough sessions to draw one."""
    from conversations.files.exports import chart_points, plain

    points = chart_points(data["sessions"])
    if len(points) < MIN_CHART_POINTS:
        return None
    labels = {
        "trust": plain(t("export.columns.trust")),
        "safety": plain(t("export.columns.safety")),
        "y": plain(t("export.pdf.chart_y")),
        "title": "",  # the PDF's heading above the chart says it
    }
    return await render_chart_async(points, labels=labels)


@dataclass(frozen=True, slots=True)
class ExportFile:
    """One of the export's documents: what it is, its name and caption, and how it is made."""

    kind: str  # "pdf", "json", "csv"
    name: str
    caption: str
    build: Callable[[], Awaitable[bytes]]


Upload = Callable[[bytes, str, str], Awaitable[object]]


async def deliver(files: Sequence[ExportFile], upload: Upload) -> list[str]:
    """Builds and uploads each file on its own; returns the kinds of those that failed (logged
    by the error's type only: a message could quote what the person wrote)."""
    failed: list[str] = []
    for file in files:
        try:
            content = await file.build()
            await upload(content, file.name, file.caption)
        except Forbidden:
            raise  # blocked: nothing more can reach the person
        except Exception as error:
            logger.warning("The export's %s was not sent: %s", file.kind, type(error).__name__)
            failed.append(file.kind)
    return failed


def export_files(data: dict[str, Any], today: dt.date) -> list[ExportFile]:
    """The PDF, the JSON and the CSV of gathered data, each built only when its turn comes."""
    # fpdf2 (with Pillow and fontTools) costs ~35 MiB: loaded only when someone exports.
    from conversations.files.exports import build_csv, build_json, build_pdf

    async def pdf() -> bytes:
        png = await chart_png(data)
        # Laying out the PDF is CPU work: off the event loop, so others are answered meanwhile.
        return await asyncio.to_thread(build_pdf, data, chart_png=png, today=today)

    async def json() -> bytes:
        return build_json(data)

    async def csv() -> bytes:
        return build_csv(data["sessions"])

    return [
        ExportFile("pdf", t("export.pdf_name", date=today), t("export.pdf_caption"), pdf),
        ExportFile("json", t("export.json_name", date=today), t("export.json_caption"), json),
        ExportFile("csv", t("export.csv_name", date=today), t("export.csv_caption"), csv),
    ]


def closing(failed: Sequence[str]) -> Html:
    """The last word: that's everything, or which files could not be made this time."""
    if not failed:
        return t("export.after")
    lines = [t("export.failed", file=t(f"export.kinds.{kind}")) for kind in failed]
    return Html("\n".join([*lines, "", t("export.after_partial")]))


async def export(update: Update, context: BotContext) -> State:
    """Sends the PDF, the JSON and the CSV (one at a time, made on their own), and records
    that an export was made."""
    await acknowledge(update, close=False)
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return END

    async def make() -> None:
        try:
            data = await gather(context.store, user.id)
        except PersonMissing:
            await send(update, t("errors.consent_needed"))
            return
        await send(update, t("export.intro"))
        await quietly(chat.send_action(ChatAction.UPLOAD_DOCUMENT))
        today = local_today(data["person"]["timezone"])

        async def upload(content: bytes, name: str, caption: str) -> None:
            # Uploaded from memory (a BytesIO with a file name): no temporary file on disk.
            await chat.send_document(io.BytesIO(content), filename=name, caption=caption)

        files = export_files(data, today)
        failed = await deliver(files, upload)
        if len(failed) < len(files):
            try:
                async with context.store.unit(user.id, update_id=update.update_id) as unit:
                    await unit.audit("exported")
            except (DuplicateUpdate, PersonMissing):
                pass
        await send(update, closing(failed))

    await render_once(update, context, SECTION, make, busy="export.busy")
    return END


def build_handler() -> Any:
    """The /export command and menu button (one step: nothing waits for an answer)."""
    return section_handler(
        SECTION,
        entry_points=[
            CommandHandler(SECTION, stops(export), filters=filters.UpdateType.MESSAGE),
            CallbackQueryHandler(stops(export), pattern=MENU.pattern(SECTION)),
        ],
        states={},
    )
