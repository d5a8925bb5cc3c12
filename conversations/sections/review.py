"""/review, "My answers": every section's answers to read, change or clear; the chart to correct.

Reading is stateless: the overview and every view are entry points, so their buttons keep working
from older messages and always show what is stored now. Only two steps wait for something, and
each names its target in the state's data so that a restart resumes it: a new value for one
answer or chart field (EDIT), and Yes / No before clearing or removing (CONFIRM). A new value is
only taken from the message right after its prompt. Everything is looked up by the id of the
person who pressed, so a button can never reach someone else's data.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.context import BotContext
from conversations.kit.callbacks import MENU, Callbacks
from conversations.kit.limits import MESSAGE, length, split
from conversations.kit.prompting import leaving
from conversations.kit.steps import (
    END,
    NEW_NOT_TEXT,
    NEW_TEXT,
    Button,
    State,
    Step,
    acknowledge,
    expect_buttons,
    expect_text,
    keyboard,
    later_row,
    position_data,
    protected,
    rating_rows,
    save,
    section_handler,
    send,
    stops,
    text_of,
    wait_for_buttons,
)
from conversations.sections.log import today_for
from conversations.worksheet import words
from conversations.worksheet.content import Html, escape, short_prompt, t
from conversations.worksheet.current import worksheet
from conversations.worksheet.dates import session_date_problem, show_date
from conversations.worksheet.model import ItemKind, Prompt, Section, SectionKind, with_marks
from conversations.worksheet.parsing import parse_date, parse_rating, rating_problem
from conversations.worksheet.words import prompt_text
from storage.repository import AnswerValue, SessionRow, Unit

SECTION = "review"
CB = Callbacks(SECTION)
EDIT = "review.edit"  # waiting for a new value; data: {"target": ...}
CONFIRM = "review.confirm"  # waiting for Yes / No; data: {"target": ...}

PREVIEW = 300  # characters of an answer shown in a list
TOPIC_PREVIEW = 30  # characters of a topic shown in the chart's list
PAGE = 20  # chart rows per page

TEXT, CHOICE, RATING, DATE = "text", "choice", "rating", "date"
CHOICES = ("yes", "no")
DAYS = {"today": 0, "yesterday": 1}
FIELDS = {"date": DATE, "topic": TEXT, "trust": RATING, "safety": RATING, "role": TEXT}
STORED_FIELD = {"date": "session_date"}
SESSION = "s"  # target prefix of a chart row: "s.<uid>" (the row), "s.<uid>.<field>"
UID = "[0-9a-f]{32}"
KEY = r"[a-z0-9_.]{1,45}"

Part = tuple[str, list[list[Button]]]  # a block of HTML and the buttons that go with it


# The questions, in the words of their own sections -------------------------------------------


@dataclass(frozen=True, slots=True)
class Question:
    """One answer that can be changed here: its stored key, its number, a short prompt."""

    key: str
    number: str
    prompt: str  # plain text, escaped where shown
    kind: str


KINDS = {ItemKind.YES_NO: CHOICE, ItemKind.RATING: RATING}


def as_question(prompt: Prompt) -> Question:
    """A prompt of the model as this view lists it: its label and its question in short."""
    text = short_prompt(words.question(prompt))
    return Question(prompt.key, prompt.label, text, KINDS.get(prompt.kind, TEXT))


def prompt_sections() -> list[Section]:
    """The sections whose answers are listed and changed here, in worksheet order."""
    return worksheet().of_kind(SectionKind.PROMPTS)


def questions(section_id: str, answers: dict[str, AnswerValue]) -> list[Question]:
    """The questions of a prompts section that apply (the model's shown_if)."""
    return [as_question(p) for p in worksheet().section(section_id).asked(texts(answers))]


def texts(answers: dict[str, AnswerValue]) -> dict[str, str | None]:
    """Stored answers as the model reads them: key -> text (None when skipped)."""
    return {key: value.text for key, value in answers.items()}


def view_names() -> list[str]:
    """The sections with a view here, in worksheet order (the chart has its own)."""
    return [s.id for s in worksheet() if s.kind is not SectionKind.CHART]


CHANGE_WORDS = {
    TEXT: "review.change.text",
    CHOICE: "review.change.choice",
    RATING: "review.change.rating",
}
FIX_LABELS = {
    "date": "review.chart.fix_date",
    "topic": "review.chart.fix_topic",
    "trust": "review.chart.fix_trust",
    "safety": "review.chart.fix_safety",
    "role": "review.chart.fix_role",
}


def question(key: str) -> Question | None:
    """The question with this answer key, if it is one that can be changed here."""
    prompt = worksheet().prompt(key)
    if prompt is None or worksheet().section(prompt.item.section).kind is not SectionKind.PROMPTS:
        return None
    return as_question(prompt)


def _text(answers: dict[str, AnswerValue], key: str) -> str | None:
    value = answers.get(key)
    return value.text if value is not None else None


def titles(section: Section, stored: str | None) -> list[str]:
    """The titles of the chosen items of a section (ticked statements, marked tips)."""
    return [words.title(item) for item in section.selected(stored)]


# Messages no longer than Telegram takes (kit/limits.py counts and cuts) ------------------------


def split_text(text: str, limit: int) -> list[str]:
    """What a person wrote, in pieces that stay within `limit` once escaped; cut at paragraph
    or line ends or spaces where it can."""
    return [html.unescape(piece) for piece in split(escape(text.strip()), limit)]


def pack(parts: Sequence[Part], sep: str = "\n\n", limit: int = MESSAGE) -> list[Part]:
    """Blocks of HTML joined into as few messages as fit (a block longer than a message in
    parts), each message with the buttons of its blocks."""
    messages: list[Part] = []
    for text, rows in parts:
        pieces = split(text, limit) or [Html(text)]
        for index, piece in enumerate(pieces):
            own = list(rows) if index == len(pieces) - 1 else []
            if messages and length(messages[-1][0]) + length(sep) + length(piece) <= limit:
                messages[-1] = (messages[-1][0] + sep + piece, messages[-1][1] + own)
            else:
                messages.append((piece, own))
    return messages


def long_blocks(heading: str, text: str, empty: str) -> list[str]:
    """A heading and a long text as blocks: the heading with the first piece, then the rest."""
    pieces = split_text(text, MESSAGE - length(heading) - 1)
    if not pieces:
        return [f"{heading}\n{empty}"]
    return [f"{heading}\n{escape(pieces[0])}", *(escape(p) for p in pieces[1:])]


async def reply(
    update: Update, parts: Sequence[Part], last: Sequence[list[Button]] = (), sep: str = "\n\n"
) -> None:
    """Sends blocks in as few messages as fit; `last` rows go on the last one."""
    messages = pack(parts, sep)
    for index, (text, rows) in enumerate(messages):
        if index == len(messages) - 1:
            rows = [*rows, *last]
        await send(update, Html(text), keyboard(*rows) if any(rows) else None)


def back_row(*extra: Button) -> list[Button]:
    """A row that leads back: to a view, and to the overview."""
    return [*extra, (t("review.back"), CB("home"))]


# Small helpers for steps ---------------------------------------------------------------------


def user_id(update: Update) -> int:
    """The id of the person the update came from: every lookup here is by it."""
    user = update.effective_user
    assert user is not None
    return user.id


def parts_of(update: Update) -> list[str]:
    """The parts of the pressed button's data after its action ("review:fix:<uid>:<field>")."""
    return CB.parts(update)


async def unchanged(update: Update, context: BotContext) -> State:
    """Says a button is out of date and keeps whatever step the person is on."""
    await acknowledge(update, t("errors.stale_button"), close=False)
    position = await context.store.position(user_id(update), SECTION)
    return END if position is None else position.state


async def target_of(update: Update, context: BotContext) -> str | None:
    """What the current step is about (saved with it)."""
    target = (await position_data(update, context, SECTION)).get("target")
    return target if isinstance(target, str) else None


async def chart_row(update: Update, context: BotContext, uid: str) -> SessionRow | None:
    """A complete chart row of the person pressing; None for drafts and other people's rows."""
    row = await context.store.session_entry(user_id(update), uid)
    return row if row is not None and row.complete else None


def session_target(target: str) -> tuple[str, str | None] | None:
    """(uid, field or None) of a chart target "s.<uid>[.<field>]"."""
    parts = target.split(".")
    if parts[0] != SESSION or len(parts) not in (2, 3) or not re.fullmatch(UID, parts[1]):
        return None
    field = parts[2] if len(parts) == 3 else None
    return (parts[1], field) if field is None or field in FIELDS else None


# The overview --------------------------------------------------------------------------------


def status(section: Section, stored: dict[str, str | None], sessions: int) -> Html:
    """How far the person has come in one section, in a few words (answers and marks)."""
    if section.kind is SectionKind.CHART:
        if sessions == 0:
            return t("review.status.no_sessions")
        if sessions == 1:
            return t("review.status.one_session")
        return t("review.status.sessions", count=sessions)
    if section.kind is SectionKind.PROMPTS:
        done, skipped, total = section.counts(stored)
        if skipped:
            return t("review.status.answered_skipped", answered=done, total=total, skipped=skipped)
        return t("review.status.answered", answered=done, total=total)
    if section.kind is SectionKind.TOGGLES:
        ticked = section.selected(stored.get(section.selection_key))
        if ticked:
            return t("review.status.checked", count=len(ticked), total=len(section.items))
        if section.is_done(stored):
            return t("review.status.none_checked")
        return t("review.status.not_done")
    if any(item.kind is ItemKind.TIP for item in section.items):
        marked = section.selected(stored.get(section.selection_key))
        if marked:
            return t("review.status.marked", count=len(marked), total=len(section.items))
        return t("review.status.none_marked")
    return t("review.status.read" if section.is_done(stored) else "review.status.unread")


def label_of(section: Section) -> Html:
    return t("review.chart_label") if section.kind is SectionKind.CHART else t(f"menu.{section.id}")


def status_lines(answers: dict[str, AnswerValue], marks: set[str], sessions: int) -> list[str]:
    """One line per section saying how far the person has come."""
    stored = with_marks(texts(answers), marks)
    return [
        t("review.line", label=label_of(section), status=status(section, stored, sessions))
        for section in worksheet()
    ]


async def overview(update: Update, context: BotContext) -> State:
    """Shows how far each section has come, with a button per section."""
    await acknowledge(update, close=False)
    state = await save(update, context, SECTION, END)
    person = user_id(update)
    answers = await context.store.answers(person)
    marks = await context.store.marks(person)
    lines = status_lines(answers, marks, await context.store.count_sessions(person))
    buttons = [
        (label_of(section), CB("chart", 0))
        if section.kind is SectionKind.CHART
        else (label_of(section), CB("view", section.id))
        for section in worksheet()
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append([(t("common.menu"), "menu:menu")])
    await send(update, Html("\n\n".join([t("review.title"), "\n".join(lines)])), keyboard(*rows))
    return state


# Sections that are changed in their own place -------------------------------------------------


def open_row(section: Section) -> list[Button]:
    """The button that opens the section itself."""
    return [(t(f"menu.{section.id}"), f"menu:{section.id}")]


async def view_pages(update: Update, context: BotContext, section: Section) -> None:
    """Whether a reading section was read to the end."""
    marks = await context.store.marks(user_id(update), f"{section.id}.")
    answers = with_marks(
        texts(await context.store.answers(user_id(update), f"{section.id}.")), marks
    )
    key = "review.pages.read" if section.is_done(answers) else "review.pages.unread"
    text = t(key, name=t(f"menu.{section.id}"))
    await send(update, text, keyboard(open_row(section), back_row()))


async def view_toggles(update: Update, context: BotContext, section: Section) -> None:
    """The statements the person checked, and a way back to the list."""
    answers = texts(await context.store.answers(user_id(update), f"{section.id}."))
    chosen = titles(section, answers.get(section.selection_key))
    name = t(f"menu.{section.id}")
    if chosen:
        lines = "\n".join(t("review.toggles.item", title=title) for title in chosen)
        text = t("review.toggles.chosen", name=name, statements=Html(lines))
    elif answers:
        text = t("review.toggles.none", name=name)
    else:
        text = t("review.toggles.not_done", name=name)
    await send(update, text, keyboard(open_row(section), back_row()))


async def view_marks(update: Update, context: BotContext, section: Section) -> None:
    """The tips the person marked to try, and a way back to the tips."""
    answers = texts(await context.store.answers(user_id(update), f"{section.id}."))
    chosen = titles(section, answers.get(section.selection_key))
    name = t(f"menu.{section.id}")
    if chosen:
        lines = "\n".join(t("review.marks.item", title=title) for title in chosen)
        text = t("review.marks.marked", name=name, tips=Html(lines))
    else:
        text = t("review.marks.none", name=name)
    await send(update, text, keyboard(open_row(section), back_row()))


# Written answers: read, show in full ----------------------------------------------------------


def shown(q: Question, value: str | None) -> Html:
    """An answer as it is shown in a list (long ones cut short)."""
    if not value:
        return t("review.not_answered")
    if q.kind == CHOICE:
        return t("common.yes") if value == "yes" else t("common.no")
    if q.kind == RATING:
        return t("review.rating", value=value)
    if len(value) > PREVIEW:
        return t("review.preview", start=value[:PREVIEW].rstrip(), number=q.number)
    return escape(value)


def answer_row(q: Question, value: str | None) -> list[Button]:
    """Show (for long answers), Change, and Clear (for given answers) of one question."""
    row: list[Button] = []
    if q.kind == TEXT and value and len(value) > PREVIEW:
        row.append((t("review.show_button", number=q.number), CB("show", q.key)))
    row.append((t("review.change_button", number=q.number), CB("change", q.key)))
    if value:
        row.append((t("review.clear_button", number=q.number), CB("clear", q.key)))
    return row


def group_back(key: str) -> list[Button]:
    """Back to the view of the section an answer belongs to, and to the overview."""
    group = key.split(".", 1)[0]
    back = t("review.prompts.back", name=t(f"menu.{group}"))
    return back_row((back, CB("view", group)))


async def view_answers(update: Update, context: BotContext, group: str) -> None:
    """Every question of a section with its answer, in as few messages as fit."""
    answers = await context.store.answers(user_id(update), f"{group}.")
    parts: list[Part] = [(t("review.prompts.title", name=t(f"menu.{group}")), [])]
    for q in questions(group, answers):
        value = _text(answers, q.key)
        block = t("review.answer", number=q.number, prompt=q.prompt, answer=shown(q, value))
        parts.append((block, [answer_row(q, value)]))
    await reply(update, parts, [back_row()])


async def view(update: Update, context: BotContext) -> State:
    """Opens one section's view from the overview."""
    await acknowledge(update, close=False)
    section = worksheet().get(parts_of(update)[0])
    if section is None or section.kind is SectionKind.CHART:
        return await unchanged(update, context)
    state = await save(update, context, SECTION, END)
    if section.kind is SectionKind.PROMPTS:
        await view_answers(update, context, section.id)
    elif section.kind is SectionKind.TOGGLES:
        await view_toggles(update, context, section)
    elif any(item.kind is ItemKind.TIP for item in section.items):
        await view_marks(update, context, section)
    else:
        await view_pages(update, context, section)
    return state


async def show_full(update: Update, context: BotContext) -> State:
    """Sends one whole answer in its own message(s)."""
    q = question(parts_of(update)[0])
    if q is None:
        return await unchanged(update, context)
    await acknowledge(update, close=False)
    state = await save(update, context, SECTION, END)
    value = _text(await context.store.answers(user_id(update), q.key), q.key)
    heading = t("review.full", number=q.number, prompt=q.prompt)
    if value and q.kind == TEXT:
        blocks = long_blocks(heading, value, t("review.not_answered"))
    else:
        blocks = [f"{heading}\n{shown(q, value)}"]
    await reply(
        update, [(block, []) for block in blocks], [answer_row(q, value), group_back(q.key)]
    )
    return state


# Changing an answer or a chart field ----------------------------------------------------------


def target_kind(target: str) -> str | None:
    """What kind of value a target takes: text, a choice, a rating or a date."""
    q = question(target)
    if q is not None:
        return q.kind
    found = session_target(target)
    return FIELDS[found[1]] if found is not None and found[1] is not None else None


def value_rows(target: str, kind: str) -> list[list[Button]]:
    """The buttons that give a value at once: Yes / No, 1-10, Today / Yesterday."""
    if kind == CHOICE:
        return [[(t(f"common.{v}"), CB("set", target, v)) for v in CHOICES]]
    if kind == RATING:
        return rating_rows(SECTION, "set", target)
    if kind == DATE:
        return [
            [
                (t("log.today_button"), CB("set", target, "today")),
                (t("log.yesterday_button"), CB("set", target, "yesterday")),
            ]
        ]
    return []


async def ask(update: Update, context: BotContext, target: str) -> State:
    """Asks for a new value, with Skip (keep it as it is) and Not now, and waits for it."""
    kind = target_kind(target)
    if kind is None:
        return END
    q = question(target)
    if q is not None:
        text = t(CHANGE_WORDS[q.kind], number=q.number, prompt=q.prompt)
    else:
        field = target.rsplit(".", 1)[1]
        text = Html(f"{prompt_text(f'log.{field}')}\n\n{t('review.chart.keep_hint')}")
    state = await save(update, context, SECTION, EDIT, data_={"target": target})
    if state != EDIT:
        return state
    await send(update, text, keyboard(*value_rows(target, kind), later_row(SECTION, target)))
    return state


async def change(update: Update, context: BotContext) -> State:
    """Change on an answer: asks for the new one."""
    q = question(parts_of(update)[0])
    if q is None:
        return await unchanged(update, context)
    await acknowledge(update, close=False)
    return await ask(update, context, q.key)


async def fix(update: Update, context: BotContext) -> State:
    """A field button on a chart row: asks for the corrected value."""
    uid, field = parts_of(update)
    if await chart_row(update, context, uid) is None:
        return await unchanged(update, context)
    await acknowledge(update, close=False)
    return await ask(update, context, f"{SESSION}.{uid}.{field}")


async def again(
    update: Update, context: BotContext, target: str, text: Html | None = None
) -> State:
    """Says what was wrong (if anything to say) and asks the same thing again."""
    if text is not None:
        await send(update, text)
    return await ask(update, context, target)


def change_button(target: str) -> Button:
    """The button that asks for a target's new value again."""
    uid, field = session_target(target) or ("", None)
    if field is not None:
        return (t(FIX_LABELS[field]), CB("fix", uid, field))
    q = question(target)
    number = q.number if q is not None else ""
    return (t("review.change_button", number=number), CB("change", target))


async def new_text(update: Update, context: BotContext) -> State:
    """A message while a change waits: the new value, if it is one."""
    target = await target_of(update, context)
    kind = None if target is None else target_kind(target)
    if target is None or kind is None:
        return await gone(update, context)
    message = update.message
    assert message is not None
    text = text_of(update)
    if not text:
        return await again(update, context, target, t("common.empty"))
    if kind == CHOICE:
        await expect_buttons(update, context)
        return await again(update, context, target)
    if kind == RATING:
        rating = parse_rating(text)
        if rating is None:
            why = rating_problem(text) or "input.rating_unreadable"
            return await again(update, context, target, t(why))
        return await store_value(update, context, target, rating)
    if kind == DATE:
        today = await today_for(update, context)
        day = parse_date(text, today)
        if day is None:
            return await again(update, context, target, t("log.date_invalid"))
        problem = session_date_problem(day, today)
        if problem is not None:
            return await again(update, context, target, t(problem, date=show_date(day)))
        return await store_value(update, context, target, day)
    return await store_value(update, context, target, text, message_id=message.message_id)


async def chosen(update: Update, context: BotContext) -> State:
    """A value button (Yes / No, 1-10, Today / Yesterday) while a change waits."""
    target, value = parts_of(update)
    kind = target_kind(target)
    if target != await target_of(update, context) or kind is None:
        return await unchanged(update, context)
    await acknowledge(update)
    if kind == CHOICE and value in CHOICES:
        return await store_value(update, context, target, value)
    rating = parse_rating(value)
    if kind == RATING and rating is not None:
        return await store_value(update, context, target, rating)
    if kind == DATE and value in DAYS:
        day = await today_for(update, context) - dt.timedelta(days=DAYS[value])
        return await store_value(update, context, target, day)
    return await again(update, context, target)


async def store_value(
    update: Update,
    context: BotContext,
    target: str,
    value: str | int | dt.date | None,
    *,
    message_id: int | None = None,
) -> State:
    """Saves the new value of an answer or a chart field, then says so."""
    q = question(target)
    if q is not None:
        key, text = q.key, str(value)

        async def write_answer(unit: Unit) -> None:
            # Only a written answer follows later edits of its message.
            await unit.save_answer(key, text, message_id=message_id)

        state = await save(update, context, SECTION, END, write_answer)
        await send(update, t("review.saved"), keyboard(group_back(key)))
        return state
    uid, field = target.split(".")[1:]
    if await chart_row(update, context, uid) is None:
        return await gone(update, context, chart_back())

    fields: dict[str, Any] = {STORED_FIELD.get(field, field): value}

    async def write_field(unit: Unit) -> None:
        # A typed topic or role follows later edits of its message, as in /log.
        await unit.update_session_entry(uid, message_id=message_id, **fields)

    state = await save(update, context, SECTION, END, write_field)
    await send(update, t("review.saved"))
    row = await chart_row(update, context, uid)
    if row is not None:
        await send_row(update, row)
    return state


async def gone(update: Update, context: BotContext, back: list[Button] | None = None) -> State:
    """What a step was about no longer exists: says so and ends the step."""
    state = await save(update, context, SECTION, END)
    await send(update, t("review.gone"), keyboard(back or back_row()))
    return state


async def keep(update: Update, context: BotContext) -> State:
    """Skip while a change waits, or No to clearing or removing: keeps the value as it is."""
    target = parts_of(update)[0]
    if target != await target_of(update, context):
        return await unchanged(update, context)
    await acknowledge(update)
    state = await save(update, context, SECTION, END)
    await send(update, t("review.kept"), keyboard(back_for(target)))
    return state


# Not now: leaves; nothing was changed.
later = leaving(SECTION)


async def wrong_kind(update: Update, context: BotContext) -> State:
    """A photo, sticker or file while a change waits: says what is expected, asks again."""
    target = await target_of(update, context)
    if target is None or target_kind(target) is None:
        return await gone(update, context)
    if target_kind(target) == CHOICE:
        await expect_buttons(update, context)
    else:
        await expect_text(update, context)
    return await again(update, context, target)


# Clearing an answer, removing a chart row ------------------------------------------------------


def confirm_rows(target: str, yes: str, no: str) -> list[Button]:
    """Yes / No for one target."""
    return [(t(yes), CB("yes", target)), (t(no), CB("no", target))]


async def ask_clear(update: Update, context: BotContext) -> State:
    """Clear on an answer: asks first."""
    q = question(parts_of(update)[0])
    if q is None or not _text(await context.store.answers(user_id(update), q.key), q.key):
        return await unchanged(update, context)
    await acknowledge(update, close=False)
    state = await save(update, context, SECTION, CONFIRM, data_={"target": q.key})
    await send(
        update,
        t("review.clear.ask", number=q.number, prompt=q.prompt),
        keyboard(confirm_rows(q.key, "review.clear.yes", "review.clear.no")),
    )
    return state


async def ask_remove(update: Update, context: BotContext) -> State:
    """Remove on a chart row: asks first."""
    uid = parts_of(update)[0]
    row = await chart_row(update, context, uid)
    if row is None:
        return await unchanged(update, context)
    await acknowledge(update, close=False)
    target = f"{SESSION}.{uid}"
    state = await save(update, context, SECTION, CONFIRM, data_={"target": target})
    await send(
        update,
        t("review.chart.remove_ask", date=show_date(row.session_date)),
        keyboard(confirm_rows(target, "review.chart.remove_yes", "review.chart.remove_no")),
    )
    return state


async def confirm(update: Update, context: BotContext) -> State:
    """Yes: clears the answer or removes the chart row."""
    target = parts_of(update)[0]
    if target != await target_of(update, context):
        return await unchanged(update, context)
    await acknowledge(update)
    q = question(target)
    if q is not None:
        key = q.key

        async def clear(unit: Unit) -> None:
            await unit.clear_answer(key)

        state = await save(update, context, SECTION, END, clear)
        await send(update, t("review.clear.done"), keyboard(group_back(key)))
        return state
    uid = target.split(".")[1]
    if await chart_row(update, context, uid) is None:
        return await gone(update, context, chart_back())

    async def remove(unit: Unit) -> None:
        await unit.delete_session_entry(uid)

    state = await save(update, context, SECTION, END, remove)
    await send(update, t("review.chart.removed"), keyboard(chart_back()))
    return state


# The session chart (dates and ratings shown, and dates checked, as /log does) -----------------


def format_rating(value: int | None) -> Html:
    """A 1-10 rating as /log shows it."""
    return t("log.blank") if value is None else t("log.rating_value", value=value)


def chart_back() -> list[Button]:
    """Back to the chart, and to the overview."""
    return back_row((t("review.chart.back"), CB("chart", 0)))


def back_for(target: str) -> list[Button]:
    """Back to where a target is listed."""
    return chart_back() if target.startswith(f"{SESSION}.") else group_back(target)


def chart_line(row: SessionRow) -> Html:
    """One chart row in a line: date · trust · safety · topic."""
    topic = row.topic or ""
    if len(topic) > TOPIC_PREVIEW:
        topic = topic[:TOPIC_PREVIEW].rstrip() + "…"
    return t(
        "review.chart.line",
        date=show_date(row.session_date),
        trust=format_rating(row.trust),
        safety=format_rating(row.safety),
        topic=topic or t("log.blank"),
    )


async def chart(update: Update, context: BotContext) -> State:
    """The chart, the most recent sessions first, a button per session, a page at a time."""
    await acknowledge(update, close=False)
    state = await save(update, context, SECTION, END)
    rows = list(reversed(await context.store.sessions(user_id(update))))
    if not rows:
        await send(
            update, t("review.chart.empty"), keyboard([(t("menu.log"), "menu:log")], back_row())
        )
        return state
    pages = (len(rows) + PAGE - 1) // PAGE
    page = min(int(parts_of(update)[0]), pages - 1)
    first = page * PAGE
    chunk = rows[first : first + PAGE]
    heading = [t("review.chart.title"), t("review.chart.hint")]
    if pages > 1:
        heading.insert(
            1, t("review.chart.page", first=first + 1, last=first + len(chunk), total=len(rows))
        )
    parts: list[Part] = [("\n".join(heading) + "\n", [])]
    for row in chunk:
        label = t(
            "review.chart.button",
            date=show_date(row.session_date),
            trust=row.trust or t("log.blank"),
            safety=row.safety or t("log.blank"),
        )
        parts.append((chart_line(row), [[(html.unescape(label), CB("entry", row.uid))]]))
    nav: list[Button] = []
    if page > 0:
        nav.append((t("review.chart.newer"), CB("chart", page - 1)))
    if page < pages - 1:
        nav.append((t("review.chart.older"), CB("chart", page + 1)))
    await reply(update, parts, [nav, back_row()], sep="\n")
    return state


async def send_row(update: Update, row: SessionRow) -> None:
    """One chart row in full, with a button per field to correct, and Remove."""
    head = t(
        "review.chart.entry",
        date=show_date(row.session_date),
        trust=format_rating(row.trust),
        safety=format_rating(row.safety),
    )
    blank = t("log.blank")
    blocks = [
        head,
        *long_blocks(t("review.chart.topic"), row.topic or "", blank),
        *long_blocks(t("review.chart.role"), row.role or "", blank),
    ]
    fix_: list[Button] = [(t(FIX_LABELS[f]), CB("fix", row.uid, f)) for f in FIELDS]
    remove: Button = (t("review.chart.remove"), CB("remove", row.uid))
    rows: list[list[Button]] = [fix_[0:2], fix_[2:4], [fix_[4], remove], chart_back()]
    await reply(update, [(block, []) for block in blocks], rows)


async def entry(update: Update, context: BotContext) -> State:
    """A session button in the chart: the row in full."""
    row = await chart_row(update, context, parts_of(update)[0])
    if row is None:
        return await unchanged(update, context)
    await acknowledge(update, close=False)
    state = await save(update, context, SECTION, END)
    await send_row(update, row)
    return state


# Wiring --------------------------------------------------------------------------------------


def step(action: Step) -> Step:
    """Every step of /review shows what the person wrote: protected while they keep it so."""
    return stops(protected(action))


def button(action: Step, name: str, *parts: str) -> CallbackQueryHandler[Any, Any]:
    """A handler for the buttons of one action whose parts match `parts` exactly."""
    return CallbackQueryHandler(step(action), pattern=CB.pattern(name, *parts))


def build_handler() -> Any:
    """The /review conversation."""
    field = "(?:" + "|".join(FIELDS) + ")"
    value = "(?:yes|no|today|yesterday|[0-9]{1,2})"
    return section_handler(
        SECTION,
        entry_points=[
            CommandHandler("review", step(overview), filters=filters.UpdateType.MESSAGE),
            CallbackQueryHandler(step(overview), pattern=MENU.pattern(SECTION)),
            button(overview, "home"),
            button(view, "view", "(?:" + "|".join(view_names()) + ")"),
            button(show_full, "show", KEY),
            button(change, "change", KEY),
            button(ask_clear, "clear", KEY),
            button(chart, "chart", "[0-9]{1,4}"),
            button(entry, "entry", UID),
            button(fix, "fix", UID, field),
            button(ask_remove, "remove", UID),
        ],
        states={
            EDIT: [
                MessageHandler(NEW_TEXT, step(new_text)),
                button(chosen, "set", KEY, value),
                button(keep, "skip", KEY),
                button(later, "later"),
                MessageHandler(NEW_NOT_TEXT, step(wrong_kind)),
            ],
            CONFIRM: [
                button(confirm, "yes", KEY),
                button(keep, "no", KEY),
                wait_for_buttons(CONFIRM),
            ],
        },
    )
