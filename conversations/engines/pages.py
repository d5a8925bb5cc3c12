"""The pages engine: pages read one at a time in one message that Next / Back edit in place.

Any pages section of the worksheet (/learn, /tips, and those of another worksheet file): reading
pages, and tips with their example and "I'll try this" (marks stored with the one selection
codec of the model). The conversation state names the page by its item id ("learn.page.3") and
its data holds the id of the message the pages are shown in, so buttons on any older message are
out of date. Leaving by a command or the menu ends the place, so the page is also kept as a
bookmark (the progress mark "learn.page", its value the page's id and message): coming back
offers to continue there.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    filters,
)

from bot.context import BotContext
from conversations.kit.callbacks import MENU, Callbacks
from conversations.kit.prompting import leaving
from conversations.kit.steps import (
    END,
    Button,
    State,
    Step,
    acknowledge,
    callback_query,
    keyboard,
    later_row,
    position_data,
    quietly,
    save,
    section_handler,
    send,
    stops,
    wait_for_buttons,
)
from conversations.worksheet import words
from conversations.worksheet.content import Html, lookup, t
from conversations.worksheet.model import Item, ItemKind, Section
from storage.repository import Unit

Write = Callable[[Unit], Awaitable[None]]
Handler = BaseHandler[Update, Any, Any]
Handlers = list[Handler]
# Any new message that is not a command (those leave the section) while buttons are expected.


@dataclass(frozen=True, slots=True)
class Words:
    """Content keys of the texts a pager section shows around its pages."""

    resume: str  # with {number} and {total}
    from_start: str
    later: str
    last_button: str


@dataclass(frozen=True, slots=True)
class Place:
    """The page a person last saw in a section, and the message it was shown in."""

    page: int
    message_id: int | None


def page_state(section: str, item_id: str) -> str:
    """The conversation state while one page (by its item id) is shown."""
    return f"{section}.page.{item_id}"


def bookmark(section: str) -> str:
    """The progress mark that keeps a section's page after the person leaves it."""
    return f"{section}.page"


def keep_place(section: str, item_id: str, message_id: int) -> Write:
    """A write that remembers the page (by its item id) as the section's bookmark."""

    async def write(unit: Unit) -> None:
        await unit.mark(bookmark(section), f"{item_id}:{message_id}")

    return write


def forget_place(section: str) -> Write:
    """A write that forgets the page (the section was read to the end)."""

    async def write(unit: Unit) -> None:
        await unit.unmark(bookmark(section))

    return write


def together(*writes: Write | None) -> Write:
    """Several writes, one after the other, in the same transaction."""

    async def write(unit: Unit) -> None:
        for each in writes:
            if each is not None:
                await each(unit)

    return write


async def place(update: Update, context: BotContext, pager: Pager) -> Place | None:
    """The page the person last saw in a section, if they left it before the end."""
    user = update.effective_user
    if user is None:
        return None
    # "<page's item id>:<id of the message it was shown in>"
    saved = await context.store.mark_value(user.id, bookmark(pager.section))
    item_id, _, message = (saved or "").partition(":")
    number = pager.number_of(item_id) if saved is not None else None
    if number is None:
        return None
    return Place(number, int(message) if message.isdecimal() else None)


def message_of(update: Update) -> Message:
    """The message whose button was pressed."""
    message = callback_query(update).message
    assert isinstance(message, Message)
    return message


class Pager:
    """A section of pages in one message, with Next / Back on each page and Not now.

    Subclasses give the pages (`page`), what to store when a page is reached (`reached`), what
    to say before the first page (`begin`) and after the last one (`finish`), and any extra
    buttons of a page (`page_handlers`).
    """

    def __init__(self, section: Section, words: Words) -> None:
        self.model = section
        self.section = section.id
        self.cb = Callbacks(section.id)
        self.count = len(section.items)
        self.command = section.command
        self.words = words

    def id_of(self, number: int) -> str:
        """The item id of page `number` (1-based): states and buttons name pages by id."""
        return self.model.items[number - 1].id

    def number_of(self, item_id: str) -> int | None:
        ids = [item.id for item in self.model.items]
        return ids.index(item_id) + 1 if item_id in ids else None

    # Hooks -----------------------------------------------------------------------------------

    async def page(
        self, update: Update, context: BotContext, number: int
    ) -> tuple[Html, list[list[Button]]]:
        """The text of one page and the rows of buttons above Back / Next."""
        raise NotImplementedError

    def reached(self, number: int) -> Write | None:
        """What to store when a page is shown (nothing by default)."""
        return None

    async def begin(self, update: Update, context: BotContext) -> None:
        """Said before the first page when reading from the beginning (nothing by default)."""

    async def finish(self, update: Update, context: BotContext) -> None:
        """Said after the last page."""
        raise NotImplementedError

    def page_handlers(self, number: int) -> Handlers:
        """Handlers for a page's own buttons (none by default)."""
        return []

    # Showing pages ---------------------------------------------------------------------------

    async def markup(
        self, update: Update, context: BotContext, number: int
    ) -> tuple[Html, InlineKeyboardMarkup]:
        """A page with its buttons: the page's own, Back / Next (or the last button), Not now."""
        text, rows = await self.page(update, context, number)
        nav: list[Button] = []
        if number > 1:
            nav.append((t("common.back"), self.cb("back", self.id_of(number))))
        label = t("common.next") if number < self.count else t(self.words.last_button)
        nav.append((label, self.cb("next", self.id_of(number))))
        return text, keyboard(*rows, nav, later_row(self.section))

    async def move(
        self,
        update: Update,
        context: BotContext,
        number: int,
        message_id: int,
        write: Write | None = None,
    ) -> State:
        """Saves page `number` as the state and the place (with `write`), in one transaction."""
        return await save(
            update,
            context,
            self.section,
            page_state(self.section, self.id_of(number)),
            together(
                keep_place(self.section, self.id_of(number), message_id),
                self.reached(number),
                write,
            ),
            data_={"message": message_id},
        )

    async def open(self, update: Update, context: BotContext, number: int) -> State:
        """Shows a page in a new message and makes that message the section's current one."""
        text, markup = await self.markup(update, context, number)
        message = await send(update, text, markup)
        if message is None:
            return END
        return await self.move(update, context, number, message.message_id)

    async def redraw(self, update: Update, context: BotContext, number: int) -> None:
        """Shows a page in the message whose button was pressed."""
        text, markup = await self.markup(update, context, number)
        await quietly(callback_query(update).edit_message_text(text, reply_markup=markup))

    async def is_live(self, update: Update, context: BotContext) -> bool:
        """Whether the pressed button is on the section's current message."""
        message = callback_query(update).message
        current = (await position_data(update, context, self.section)).get("message")
        return message is not None and message.message_id == current

    def live(self, step: Step, state: str) -> Step:
        """A button step that only acts on the current message; older ones are out of date."""

        async def checked(update: Update, context: BotContext) -> State:
            if not await self.is_live(update, context):
                await acknowledge(update, t("errors.stale_button"), close=False)
                return state
            return await step(update, context)

        return stops(checked)

    # Steps -----------------------------------------------------------------------------------

    async def enter(self, update: Update, context: BotContext) -> State:
        """Starts at the first page, or offers to continue where the person left off."""
        await acknowledge(update)
        spot = await place(update, context, self)
        chat = update.effective_chat
        if spot is not None and spot.message_id is not None and chat is not None:
            # The old page's buttons would only be out of date now.
            await quietly(
                context.bot.edit_message_reply_markup(chat.id, spot.message_id, reply_markup=None)
            )
        if spot is None or not 1 < spot.page <= self.count:
            await self.begin(update, context)
            return await self.open(update, context, 1)
        choice = [
            (t("common.continue"), self.cb("continue")),
            (t(self.words.from_start), self.cb("over")),
        ]
        message = await send(
            update,
            t(self.words.resume, number=spot.page, total=self.count),
            keyboard(choice, later_row(self.section)),
        )
        if message is None:
            return END
        return await save(
            update,
            context,
            self.section,
            self.choose_state,
            data_={"message": message.message_id},
        )

    async def resume(self, update: Update, context: BotContext) -> State:
        """Shows the page the person left off at."""
        await acknowledge(update)
        spot = await place(update, context, self)
        if spot is None or not 1 <= spot.page <= self.count:
            return await self.start_over(update, context)
        return await self.open(update, context, spot.page)

    async def start_over(self, update: Update, context: BotContext) -> State:
        """Shows the first page again."""
        await acknowledge(update)
        await self.begin(update, context)
        return await self.open(update, context, 1)

    def turn(self, number: int, to: int) -> Step:
        """Next or Back: shows another page in the same message."""

        async def step(update: Update, context: BotContext) -> State:
            await acknowledge(update, close=False)
            state = await self.move(update, context, to, message_of(update).message_id)
            if state != END:
                await self.redraw(update, context, to)
            return state

        return step

    async def end(self, update: Update, context: BotContext) -> State:
        """The button on the last page: the section is read to the end."""
        await acknowledge(update)
        state = await save(update, context, self.section, END, forget_place(self.section))
        if state == END:
            await self.finish(update, context)
        return state

    async def later(self, update: Update, context: BotContext) -> State:
        """Not now: leaves the section; the place is kept for next time."""
        return await leaving(self.section, self.words.later)(update, context)

    # Wiring ----------------------------------------------------------------------------------

    @property
    def choose_state(self) -> str:
        """The state while "continue or start from the beginning?" waits for an answer."""
        return f"{self.section}.choose"

    def button(self, step: Step, state: str, action: str, *parts: str) -> Handler:
        """A handler for one button of the current message, in one state (parts are literal)."""
        literal = (re.escape(part) for part in parts)
        return CallbackQueryHandler(
            self.live(step, state), pattern=self.cb.pattern(action, *literal)
        )

    def build(self) -> ConversationHandler[Any]:
        """The section's ConversationHandler."""
        choose = self.choose_state
        states: dict[object, Handlers] = {
            choose: [
                self.button(self.resume, choose, "continue"),
                self.button(self.start_over, choose, "over"),
                self.button(self.later, choose, "later"),
                wait_for_buttons(choose),
            ]
        }
        for number in range(1, self.count + 1):
            item_id = self.id_of(number)
            state = page_state(self.section, item_id)
            forward = self.turn(number, number + 1) if number < self.count else self.end
            handlers: Handlers = [self.button(forward, state, "next", item_id)]
            if number > 1:
                back = self.turn(number, number - 1)
                handlers.append(self.button(back, state, "back", item_id))
            handlers += [
                *self.page_handlers(number),
                self.button(self.later, state, "later"),
                wait_for_buttons(state),
            ]
            states[state] = handlers
        enter = stops(self.enter)
        return section_handler(
            self.section,
            entry_points=[
                CommandHandler(self.command, enter, filters=filters.UpdateType.MESSAGE),
                CallbackQueryHandler(enter, pattern=MENU.pattern(self.section)),
            ],
            states=states,
        )


def words_of(section: Section, name: str, **values: object) -> Html:
    """A section's own words if it has them ("tips.mark"), else the shared ones."""
    key = f"{section.id}.{name}"
    return t(key if isinstance(lookup(key), str) else f"common.pages.{name}", **values)


class Pages(Pager):
    """A pages section of the worksheet: reading pages, or tips that can be marked to try.

    Reaching the last page marks the section read (its progress mark); a tip's "I'll try this"
    is stored at once in the section's selection.
    """

    # The section's own words this engine looks up ("<section>.<name>"); those it lacks come
    # from "common.pages.<name>".
    WORDS: tuple[str, ...] = ("intro", "progress", "resume", "from_start", "later", "closing")
    TIP_WORDS: tuple[str, ...] = ("tip", "example", "marked_note", "mark", "unmark")
    TIP_WORDS += ("summary", "summary_none", "summary_item")

    def __init__(self, section: Section) -> None:
        super().__init__(
            section,
            Words(
                resume=_key(section, "resume"),
                from_start=_key(section, "from_start"),
                later=_key(section, "later"),
                last_button="common.done",
            ),
        )
        self.tips = any(item.kind is ItemKind.TIP for item in section.items)

    async def marks(self, update: Update, context: BotContext) -> list[Item]:
        """The tips this person marked "I'll try this" (read at most once per update; they are
        an answer, so they are not kept in the place's plain data)."""
        loaded = _marks.get()
        if loaded is not None and loaded[0] == update.update_id:
            return self.model.selected(loaded[1])
        user = update.effective_user
        assert user is not None
        key = self.model.selection_key
        answer = (await context.store.answers(user.id, key)).get(key)
        stored = answer.text if answer and answer.text else ""
        _marks.set((update.update_id, stored))
        return self.model.selected(stored)

    async def begin(self, update: Update, context: BotContext) -> None:
        """The section's opening words, if it has any."""
        if isinstance(lookup(f"{self.section}.intro"), str):
            await send(update, t(f"{self.section}.intro"))

    async def page(
        self, update: Update, context: BotContext, number: int
    ) -> tuple[Html, list[list[Button]]]:
        """One page; a tip with its example and "I'll try this" (checked when marked)."""
        item = self.model.items[number - 1]
        heading = words_of(self.model, "progress", number=number, total=self.count)
        if item.kind is ItemKind.PAGE:
            return Html(f"{heading}\n\n{words.of(item)['text']}"), []
        marked = item in await self.marks(update, context)
        parts = [
            heading,
            words_of(self.model, "tip", title=words.title(item), text=words.of(item)["text"]),
        ]
        example = words.field(item, "example")
        if example:
            parts.append(words_of(self.model, "example", example=example))
        if marked:
            parts.append(words_of(self.model, "marked_note"))
        label = words_of(self.model, "unmark" if marked else "mark")
        return Html("\n\n".join(parts)), [[(label, self.cb("mark", item.id))]]

    def reached(self, number: int) -> Write | None:
        """The last page marks the section as read."""
        return self.store_done if number == self.count else None

    async def store_done(self, unit: Unit) -> None:
        await unit.mark(self.model.done_key)

    def toggle(self, number: int) -> Step:
        """I'll try this: marks or unmarks the tip, stored at once, and shows it."""
        item_id = self.id_of(number)

        async def step(update: Update, context: BotContext) -> State:
            await acknowledge(update, close=False)
            marked = [item.id for item in await self.marks(update, context)]
            stored = self.model.toggled(self.model.selection(marked), item_id)

            async def write(unit: Unit) -> None:
                await unit.save_answer(self.model.selection_key, stored)

            state = await self.move(update, context, number, message_of(update).message_id, write)
            _marks.set((update.update_id, stored))
            if state != END:
                await self.redraw(update, context, number)
            return state

        return step

    def page_handlers(self, number: int) -> Handlers:
        """The "I'll try this" button of a tip."""
        item = self.model.items[number - 1]
        if item.kind is not ItemKind.TIP:
            return []
        state = page_state(self.section, item.id)
        return [self.button(self.toggle(number), state, "mark", item.id)]

    async def finish(self, update: Update, context: BotContext) -> None:
        """The section's closing words, then (for tips) the ones the person wants to try."""
        await send(update, words_of(self.model, "closing"))
        if not self.tips:
            return
        marks = await self.marks(update, context)
        if not marks:
            await send(update, words_of(self.model, "summary_none"))
            return
        lines = [words_of(self.model, "summary_item", title=words.title(i)) for i in marks]
        await send(update, words_of(self.model, "summary", marked=Html("\n".join(lines))))


# The marks one update has read (update id, stored selection): a tip's page and its redraw
# after "I'll try this" share one read.
_marks: ContextVar[tuple[int, str] | None] = ContextVar("marks", default=None)


def _key(section: Section, name: str) -> str:
    key = f"{section.id}.{name}"
    return key if isinstance(lookup(key), str) else f"common.pages.{name}"
