"""/summary: this week, or everything since the first session, with a trend chart; also the
weekly summary. Every message of a summary is sent silently and, unless the person turned
"Protect my messages" off in /settings, protected (see send_composed)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, ExtBot
from telegram.ext.filters import UpdateType

from bot.context import BotContext
from conversations.files.chart import render_chart_async
from conversations.kit.callbacks import MENU, Callbacks
from conversations.kit.limits import CAPTION, fits, split
from conversations.kit.renders import render_once
from conversations.kit.steps import (
    END,
    State,
    acknowledge,
    help_row,
    keyboard,
    person_of,
    section_handler,
    send,
    stops,
)
from conversations.worksheet import words
from conversations.worksheet.content import Html, items, t
from conversations.worksheet.current import worksheet
from conversations.worksheet.dates import show_date
from conversations.worksheet.formats import number
from conversations.worksheet.model import ItemKind, Section, SectionKind, with_marks
from conversations.worksheet.summaries import (
    MEASURES,
    ChartPoint,
    Dip,
    HistorySummary,
    MonthAverage,
    Signal,
    WeekSummary,
    chart_points,
    history_points,
    summarise_history,
    summarise_week,
)
from storage import Store
from storage.models import utcnow
from storage.repository import AnswerValue

SECTION = "summary"
CB = Callbacks(SECTION)


@dataclass(frozen=True, slots=True)
class Composed:
    """What a summary sends: messages (each within Telegram's limit) and a chart, if any."""

    messages: list[Html]
    chart: bytes | None
    empty: bool
    caption: str = ""  # the chart's


def _value(value: int | float | None) -> str:
    return t("summary.no_value") if value is None else number(value)


def _change(value: float | None) -> Html:
    if value is None:
        return Html("")
    if value > 0:
        return t("summary.change_up", value=number(value))
    if value < 0:
        return t("summary.change_down", value=number(-value))
    return t("summary.change_same")


def weekday_name(day: dt.date) -> str:
    """The day's full weekday name ("Wednesday")."""
    return str(items("summary.weekdays")[day.weekday()])


def month_name(month: dt.date) -> Html:
    """A month with its year ("September 2026")."""
    return t("summary.month_name", month=items("summary.months")[month.month - 1], year=month.year)


def long_day(day: dt.date, today: dt.date) -> Html:
    """A day as a person says it ("Thursday 15 October"), with the year if not this year's."""
    values = {
        "weekday": weekday_name(day),
        "day": day.day,
        "month": items("summary.months")[day.month - 1],
    }
    if day.year == today.year:
        return t("summary.long_day", **values)
    return t("summary.long_day_year", **values, year=day.year)


def signal_sentences(signals: Sequence[Signal]) -> list[Html]:
    """The week's signals as a person would say them: "Trust was 3 on Wednesday.",
    "Safety went from 8 to 4 on Wednesday." A fall that is also low is said once, as a fall."""
    fell = {(s.session_date, s.measure) for s in signals if s.kind == "drop"}
    said: list[Html] = []
    for signal in signals:
        day = weekday_name(signal.session_date)
        if signal.kind == "drop":
            said.append(
                t(
                    f"summary.said_drop_{signal.measure}",
                    before=signal.previous_value,
                    after=signal.value,
                    day=day,
                )
            )
        elif (signal.session_date, signal.measure) not in fell:
            said.append(t(f"summary.said_low_{signal.measure}", value=signal.value, day=day))
    return said


def say_words(signals: Sequence[Signal]) -> Html:
    """Something the person could say to their therapist: about a fall only when there was
    an earlier session to fall from, else about how hard it is now."""
    drop = next((s for s in signals if s.kind == "drop"), None)
    if drop is not None:
        words_ = t(f"summary.say_drop_{drop.measure}")
    else:
        words_ = t(f"summary.say_low_{signals[0].measure}")
    return t("summary.say", words=words_)


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
        blocks.append("\n".join(signal_sentences(week.signals)))
        blocks.append(t("summary.signal_advice"))
        blocks.append(say_words(week.signals))
    if week.all_tens:
        blocks.append(t("summary.all_tens"))
    return "\n\n".join(blocks)


def _sessions(count: int) -> Html:
    return t("summary.sessions_one") if count == 1 else t("summary.sessions_many", count=count)


def comparison_sentences(first: MonthAverage, last: MonthAverage) -> list[Html]:
    """The first month with sessions against the last one, a sentence per measure that both
    months have: "Trust went from 3.7 in September 2026 to 6.3 in November 2026." """
    said: list[Html] = []
    if first.month.year == last.month.year:  # "September" and "November": the year is known
        months = items("summary.months")
        names = {"first": months[first.month.month - 1], "last": months[last.month.month - 1]}
    else:
        names = {"first": month_name(first.month), "last": month_name(last.month)}
    for measure in MEASURES:
        before = first.trust if measure == "trust" else first.safety
        after = last.trust if measure == "trust" else last.safety
        if before is None or after is None:
            continue
        if before == after:
            said.append(t(f"summary.compare_same_{measure}", value=number(after), **names))
        else:
            said.append(
                t(f"summary.compare_{measure}", before=number(before), after=number(after), **names)
            )
    return said


def dip_sentence(dip: Dip, today: dt.date) -> Html:
    """ "On Thursday 15 October, trust went from 5 to 3 and safety from 6 to 4." """
    falls = {fall.measure: fall for fall in dip.falls}
    trust, safety = falls.get("trust"), falls.get("safety")
    if trust is not None and safety is not None:
        change = t(
            "summary.dip_both",
            trust_before=trust.before,
            trust_after=trust.after,
            safety_before=safety.before,
            safety_after=safety.after,
        )
    else:
        fall = dip.falls[0]
        change = t(f"summary.dip_{fall.measure}", before=fall.before, after=fall.after)
    return t("summary.dip_line", day=long_day(dip.session_date, today), change=change)


def history_text(history: HistorySummary) -> str:
    """Everything since the first session: month by month, first against last month, the
    biggest dip, and the notes of the harder sessions."""
    assert history.start is not None
    count = len(history.sessions)
    if history.start == history.end:
        title = t("summary.history_title_one_day", day=show_date(history.end))
    else:
        title = t(
            "summary.history_title", start=show_date(history.start), end=show_date(history.end)
        )
    blocks: list[str] = [
        title,
        t("summary.history_count_one")
        if count == 1
        else t("summary.history_count_many", count=count),
    ]
    months = [
        t(
            "summary.month_line",
            month=month_name(m.month),
            trust=_value(m.trust),
            safety=_value(m.safety),
            sessions=_sessions(m.sessions),
        )
        for m in history.months
    ]
    blocks.append("\n".join([t("summary.months_title"), *months]))
    pair = history.first_and_last_month
    if pair is not None and (said := comparison_sentences(*pair)):
        blocks.append("\n".join([t("summary.compare_title"), *said]))
    if history.dip is not None:
        lines = [t("summary.dip_title"), dip_sentence(history.dip, history.end)]
        if history.dip.topic:
            lines.append(t("summary.dip_topic", topic=history.dip.topic))
        blocks.append("\n".join(lines))
    notes = [
        t(
            "summary.hard_line",
            date=show_date(h.session_date),
            trust=_value(h.trust),
            safety=_value(h.safety),
            text=h.note,
        )
        for h in history.hard
        if h.note
    ]
    if notes:
        blocks.append("\n".join([t("summary.hard_title"), *notes]))
    return "\n\n".join(blocks)


def _opened(section: Section, stored: dict[str, str | None]) -> bool:
    """Whether the person ever opened a section: anything stored under it (an answer, a
    bookmark, a mark) other than the bot's own offer of it."""
    prefix = f"{section.id}."
    return any(key.startswith(prefix) and key != section.offered_key for key in stored)


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
    unfinished = [s for s in early if not done[s.id]]
    # One begun and left is picked up first; else the first never opened is offered as new.
    begun = next((s for s in unfinished if _opened(s, stored)), None)
    if marked:
        step = t("summary.next_tip", tip=words.title(marked[0]))
    elif begun is not None:
        step = t("summary.next_section", name=t(f"menu.{begun.id}"), command=f"/{begun.command}")
    elif unfinished:
        new = unfinished[0]
        step = t("summary.next_section_new", name=t(f"menu.{new.id}"), command=f"/{new.command}")
    else:
        step = t("summary.next_log")
    return "\n\n".join(
        ["\n".join([t("summary.progress_title"), *lines]), t("summary.next_title") + "\n" + step]
    )


async def _chart(points: Sequence[ChartPoint]) -> bytes | None:
    if not points:
        return None
    return await render_chart_async(
        points,
        labels={
            "trust": t("summary.chart_trust"),
            "safety": t("summary.chart_safety"),
            "title": t("summary.chart_title"),
            "y": t("summary.chart_y"),
            "empty": t("summary.chart_empty"),
        },
    )


async def _zone_of(store: Store, telegram_id: int) -> str:
    person = await store.get_person(telegram_id)
    return (person.timezone if person else None) or "UTC"


async def compose(store: Store, telegram_id: int, now: dt.datetime | None = None) -> Composed:
    """Build a person's summary of this week from the store (numbers, text and chart)."""
    now = now or utcnow()
    zone = await _zone_of(store, telegram_id)
    rows = await store.sessions(telegram_id)
    week = summarise_week(rows, now, zone)
    answers = await store.answers(telegram_id)
    marks = await store.marks(telegram_id)
    if week.empty:
        # Without any session at all there is no "before" to point to.
        empty = "summary.empty" if rows else "summary.empty_ever"
        text = t(empty) + "\n\n" + progress_text(answers, marks)
        return Composed(split(text), None, True)
    chart = await _chart(chart_points(rows, now, zone))
    text = week_text(week) + "\n\n" + progress_text(answers, marks)
    return Composed(split(text), chart, False, t("summary.chart_caption"))


async def compose_history(
    store: Store, telegram_id: int, now: dt.datetime | None = None
) -> Composed:
    """Build a person's summary since their first session, with the chart over all of it."""
    now = now or utcnow()
    zone = await _zone_of(store, telegram_id)
    rows = await store.sessions(telegram_id)
    history = summarise_history(rows, now, zone)
    if history.empty:
        answers = await store.answers(telegram_id)
        marks = await store.marks(telegram_id)
        text = t("summary.empty_ever") + "\n\n" + progress_text(answers, marks)
        return Composed(split(text), None, True)
    chart = await _chart(history_points(rows, now, zone))
    caption = t("summary.history_chart_caption")
    return Composed(split(history_text(history)), chart, False, caption)


def closing_keyboard(empty: bool) -> InlineKeyboardMarkup:
    """The summary's last buttons: the menu and, always and quietly, help now; when nothing
    was logged, a way to log first."""
    rows: list[list[tuple[str, str]]] = []
    if empty:
        rows.append([(t("summary.log_button"), MENU("log"))])
    rows.append(help_row())
    return keyboard(*rows)


async def send_composed(
    bot: ExtBot[Any],
    chat_id: int,
    composed: Composed,
    *,
    protect: bool,
    rate_limit_args: Any = None,
) -> list[Message]:
    """Send a summary. Every message is silent (no sound, no lock-screen banner) and, while
    `protect`, cannot be forwarded or saved. The closing buttons go on the last message (the
    chart, when there is one). `rate_limit_args` is the pacing of the reminders' sends."""
    markup = closing_keyboard(composed.empty)
    quiet: dict[str, Any] = {
        "disable_notification": True,
        "protect_content": protect,
        "rate_limit_args": rate_limit_args,
    }
    texts, caption = list(composed.messages), composed.caption
    if composed.chart is not None and not fits(caption, CAPTION):
        texts += split(caption)  # words too long for a caption go just before the chart
        caption = ""
    sent: list[Message] = []
    for index, text in enumerate(texts):
        last = composed.chart is None and index == len(texts) - 1
        sent.append(
            await bot.send_message(chat_id, text, reply_markup=markup if last else None, **quiet)
        )
    if composed.chart is not None:
        sent.append(
            await bot.send_photo(
                chat_id, composed.chart, caption=caption, reply_markup=markup, **quiet
            )
        )
    return sent


async def ask(update: Update, context: BotContext) -> State:
    """/summary: this week or since the start (only the kind word when nothing was logged)."""
    await acknowledge(update, close=False)
    user = update.effective_user
    assert user is not None
    if await context.store.count_sessions(user.id) == 0:
        return await _show(update, context, compose, "week")
    choice = keyboard(
        [(t("summary.week_button"), CB("week")), (t("summary.history_button"), CB("history"))]
    )
    await send(update, t("summary.choose"), choice)
    return END


async def show_week(update: Update, context: BotContext) -> State:
    """Sends the summary of the last seven days, with the chart."""
    await acknowledge(update, close=False)
    return await _show(update, context, compose, "week")


async def show_history(update: Update, context: BotContext) -> State:
    """Sends the summary since the first session, with the chart over the whole range."""
    await acknowledge(update, close=False)
    return await _show(update, context, compose_history, "history")


async def _show(
    update: Update,
    context: BotContext,
    build: Callable[[Store, int], Awaitable[Composed]],
    kind: str,
) -> State:
    """Makes and sends the summary on its own (kit/renders.py): asking again while it is being
    made gets a word that it is on its way."""
    user, chat = update.effective_user, update.effective_chat
    assert user is not None
    if chat is None:
        return END
    person = await person_of(update, context)
    # The person asked for it, so silence costs nothing; protected unless they turned it off.
    protect = person is None or person.protect_messages

    async def make() -> None:
        composed = await build(context.store, user.id)
        await send_composed(context.bot, chat.id, composed, protect=protect)

    await render_once(update, context, f"summary.{kind}", make, busy="summary.busy")
    return END


def build_handler() -> Any:
    """The /summary command, its menu button and its two choices (nothing to resume)."""
    return section_handler(
        SECTION,
        entry_points=[
            CommandHandler("summary", stops(ask), filters=UpdateType.MESSAGE),
            CallbackQueryHandler(stops(ask), pattern=MENU.pattern(SECTION)),
            CallbackQueryHandler(stops(show_week), pattern=CB.pattern("week")),
            CallbackQueryHandler(stops(show_history), pattern=CB.pattern("history")),
        ],
        states={},
    )
