"""/summary: the last seven days at a glance, with a trend chart; also the weekly summary."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler
from telegram.ext.filters import UpdateType

from bot.context import BotContext
from conversations.files.chart import render_chart_async
from conversations.kit.callbacks import MENU
from conversations.kit.steps import (
    END,
    State,
    acknowledge,
    keyboard,
    section_handler,
    send,
    stops,
)
from conversations.worksheet import words
from conversations.worksheet.content import Html, t
from conversations.worksheet.current import worksheet
from conversations.worksheet.dates import show_date
from conversations.worksheet.model import ItemKind, SectionKind, with_marks
from conversations.worksheet.summaries import WeekSummary, chart_points, summarise_week
from storage import Store
from storage.models import utcnow
from storage.repository import AnswerValue

SECTION = "summary"
LIMIT = 4096
CAPTION_LIMIT = 1024


@dataclass(frozen=True, slots=True)
class Composed:
    """What a summary sends: messages (each under Telegram's limit) and a chart, if any."""

    messages: list[Html]
    chart: bytes | None
    empty: bool


def split_message(text: str, limit: int = LIMIT) -> list[Html]:
    """Split at paragraph boundaries so no message exceeds the limit."""
    parts: list[str] = []
    current = ""
    for paragraph in text.split("\n\n"):
        while len(paragraph) > limit:  # one paragraph longer than a message: split at lines
            cut = paragraph.rfind("\n", 0, limit)
            cut = cut if cut > 0 else limit
            if current:
                parts.append(current)
                current = ""
            parts.append(paragraph[:cut])
            paragraph = paragraph[cut:].lstrip("\n")
        candidate = f"{current}\n\n{paragraph}" if current else paragraph
        if len(candidate) > limit:
            parts.append(current)
            current = paragraph
        else:
            current = candidate
    if current:
        parts.append(current)
    return [Html(p) for p in parts if p.strip()]


def _value(value: int | float | None) -> str:
    return t("summary.no_value") if value is None else f"{value:g}"


def _change(value: float | None) -> Html:
    if value is None:
        return Html("")
    if value > 0:
        return t("summary.change_up", value=f"{value:g}")
    if value < 0:
        return t("summary.change_down", value=f"{-value:g}")
    return t("summary.change_same")


def week_text(week: WeekSummary) -> str:
    """The week's sessions, averages, notes and gentle signals."""
    blocks: list[str] = [t("summary.title", start=show_date(week.start), end=show_date(week.end))]
    lines = [
        t(
            "summary.session_line",
            date=show_date(row.session_date),
            trust=_value(row.trust),
            safety=_value(row.safety),
            topic=t("summary.topic_part", topic=row.topic) if row.topic else Html(""),
        )
        for row in week.sessions
    ]
    blocks.append("\n".join(lines))
    blocks.append(
        t(
            "summary.averages",
            trust=_value(week.trust_average),
            trust_change=_change(week.trust_change),
            safety=_value(week.safety_average),
            safety_change=_change(week.safety_change),
        )
    )
    if week.notes:
        notes = [
            t("summary.note_line", date=show_date(n.session_date), text=n.text) for n in week.notes
        ]
        blocks.append("\n".join([t("summary.notes_title"), *notes]))
    if week.signals:
        said = []
        for signal in week.signals:
            measure = t(f"summary.measure_{signal.measure}")
            if signal.kind == "drop":
                said.append(
                    t(
                        "summary.signal_drop",
                        measure=measure,
                        before=signal.previous_value,
                        after=signal.value,
                        date=show_date(signal.session_date),
                    )
                )
            else:
                said.append(
                    t(
                        "summary.signal_low",
                        measure=measure,
                        value=signal.value,
                        date=show_date(signal.session_date),
                    )
                )
        measure = t(f"summary.measure_{week.signals[0].measure}")
        blocks.append("\n".join(said))
        blocks.append(t("summary.signal_advice", measure=measure))
    if week.all_tens:
        blocks.append(t("summary.all_tens"))
    return "\n\n".join(blocks)


def progress_text(answers: dict[str, AnswerValue], marks: set[str]) -> str:
    """Which sections are done (the model's rule for each), and one suggested next step."""
    stored = with_marks({key: value.text for key, value in answers.items()}, marks)
    sheet = worksheet()
    done = {s.id: s.is_done(stored) for s in sheet if s.kind is not SectionKind.CHART}
    lines = [
        t(
            "summary.progress_line",
            mark=t("summary.done_mark" if finished else "summary.open_mark"),
            name=t(f"menu.{name}"),
        )
        for name, finished in done.items()
    ]
    marked = [
        item
        for s in sheet
        if s.kind is SectionKind.PAGES
        for item in s.selected(stored.get(s.selection_key))
        if item.kind is ItemKind.TIP
    ]
    # The closing sections (offered later, like /finish) are not suggested as a next step.
    early = [s for s in sheet if s.kind is not SectionKind.CHART and s.offer is None]
    unfinished = next((s for s in early if not done[s.id]), None)
    if marked:
        step = t("summary.next_tip", tip=words.title(marked[0]))
    elif unfinished is not None:
        step = t(
            "summary.next_section",
            name=t(f"menu.{unfinished.id}"),
            command=f"/{unfinished.command}",
        )
    else:
        step = t("summary.next_log")
    return "\n\n".join(
        ["\n".join([t("summary.progress_title"), *lines]), t("summary.next_title") + "\n" + step]
    )


async def compose(store: Store, telegram_id: int, now: dt.datetime | None = None) -> Composed:
    """Build a person's summary from the store (numbers, text and chart)."""
    now = now or utcnow()
    person = await store.get_person(telegram_id)
    zone = (person.timezone if person else None) or "UTC"
    rows = await store.sessions(telegram_id)
    week = summarise_week(rows, now, zone)
    answers = await store.answers(telegram_id)
    marks = await store.marks(telegram_id)
    if week.empty:
        return Composed(
            split_message(t("summary.empty") + "\n\n" + progress_text(answers, marks)), None, True
        )
    points = chart_points(rows, now, zone)
    chart = None
    if points:
        chart = await render_chart_async(
            points,
            labels={
                "trust": t("summary.chart_trust"),
                "safety": t("summary.chart_safety"),
                "title": t("summary.chart_title"),
                "y": t("summary.chart_y"),
                "empty": t("summary.chart_empty"),
            },
        )
    text = week_text(week) + "\n\n" + progress_text(answers, marks)
    return Composed(split_message(text), chart, False)


async def show(update: Update, context: BotContext) -> State:
    """Sends the summary of the last seven days, with the chart."""
    await acknowledge(update, close=False)
    user = update.effective_user
    assert user is not None
    composed = await compose(context.store, user.id)
    if composed.empty:
        button = keyboard([(t("summary.log_button"), MENU("log"))])
        for index, message in enumerate(composed.messages):
            last = index == len(composed.messages) - 1
            await send(update, message, button if last else None)
        return END
    for message in composed.messages:
        await send(update, message)
    if composed.chart is not None and update.effective_chat is not None:
        await update.effective_chat.send_photo(composed.chart, caption=t("summary.chart_caption"))
    return END


def build_handler() -> Any:
    """The /summary command and menu button (one step, nothing to resume)."""
    return section_handler(
        SECTION,
        entry_points=[
            CommandHandler("summary", stops(show), filters=UpdateType.MESSAGE),
            CallbackQueryHandler(stops(show), pattern=MENU.pattern(SECTION)),
        ],
        states={},
    )
