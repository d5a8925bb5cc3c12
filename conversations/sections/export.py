"""/export: a copy of everything stored about the person, as three documents in the chat.

The PDF (the worksheet with their answers, to print or bring to a session), the JSON (everything
stored, decrypted; docs/export-format.md) and the session chart as CSV. The files are built in
memory and uploaded from there: nothing is written to disk, so nothing is left to clean up.
"""

from __future__ import annotations

import asyncio
import io
from typing import Any

from telegram import Update
from telegram.constants import ChatAction
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot.context import BotContext
from conversations.files.chart import render_chart_async
from conversations.kit.callbacks import MENU
from conversations.kit.steps import END, State, acknowledge, quietly, section_handler, send, stops
from conversations.worksheet.content import t
from conversations.worksheet.dates import local_today
from storage.export import gather
from storage.repository import DuplicateUpdate, PersonMissing

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


async def export(update: Update, context: BotContext) -> State:
    """Sends the PDF, the JSON and the CSV, and records that an export was made."""
    # fpdf2 (with Pillow and fontTools) costs ~35 MiB: loaded only when someone exports.
    from conversations.files.exports import build_csv, build_json, build_pdf

    await acknowledge(update, close=False)
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return END
    try:
        data = await gather(context.store, user.id)
    except PersonMissing:
        await send(update, t("errors.consent_needed"))
        return END
    await send(update, t("export.intro"))
    await quietly(chat.send_action(ChatAction.UPLOAD_DOCUMENT))
    today = local_today(data["person"]["timezone"])
    png = await chart_png(data)
    # Laying out the PDF is CPU work: off the event loop, so other people are answered meanwhile.
    pdf = await asyncio.to_thread(build_pdf, data, chart_png=png, today=today)
    files = (
        (pdf, t("export.pdf_name", date=today), t("export.pdf_caption")),
        (build_json(data), t("export.json_name", date=today), t("export.json_caption")),
        (build_csv(data["sessions"]), t("export.csv_name", date=today), t("export.csv_caption")),
    )
    for content, name, caption in files:
        # Uploaded from memory (a BytesIO with a file name): no temporary file on disk.
        await chat.send_document(io.BytesIO(content), filename=name, caption=caption)
    try:
        async with context.store.unit(user.id, update_id=update.update_id) as unit:
            await unit.audit("exported")
    except (DuplicateUpdate, PersonMissing):
        pass
    await send(update, t("export.after"))
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
