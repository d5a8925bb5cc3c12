"""Pages read one at a time in one message that Next / Back edit in place (/learn and /tips).

The conversation state names the page ("learn.page.3") and its data holds the id of the message
the pages are shown in, so buttons on any older message are out of date. Leaving by a command or
the menu ends the state (common.leave_quietly), so the page is also kept in a small place row
("learn.place") that only the section reads: coming back offers to continue there.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.context import BotContext
from conversations.kit.steps import (
    END,
    Button,
    State,
    Step,
    acknowledge,
    callback_query,
    data,
    expect_buttons,
    keyboard,
    later_row,
    position_data,
    quietly,
    save,
    section_handler,
    send,
    stops,
)
from conversations.worksheet.content import Html, t
from storage.repository import Unit

Write = Callable[[Unit], Awaitable[None]]
Handlers = list[BaseHandler[Update, Any, Any]]
# Any new message that is not a command (those leave the section) while buttons are expected.
NOT_A_BUTTON = filters.UpdateType.MESSAGE & ~filters.COMMAND


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


def page_state(section: str, number: int) -> str:
    """The conversation state while page `number` (1-based) is shown."""
    return f"{section}.page.{number}"


def place_name(section: str) -> str:
    """The name of the row that keeps a section's page after the person leaves it."""
    return f"{section}.place"


def keep_place(section: str, page: int, message_id: int) -> Write:
    """A write that remembers the page and its message."""

    async def write(unit: Unit) -> None:
        await unit.set_state(place_name(section), "page", {"page": page, "message": message_id})

    return write


def forget_place(section: str) -> Write:
    """A write that forgets the page (the section was read to the end)."""

    async def write(unit: Unit) -> None:
        await unit.set_state(place_name(section), None)

    return write


def together(*writes: Write | None) -> Write:
    """Several writes, one after the other, in the same transaction."""

    async def write(unit: Unit) -> None:
        for each in writes:
            if each is not None:
                await each(unit)

    return write


async def place(update: Update, context: BotContext, section: str) -> Place | None:
    """The page the person last saw in a section, if they left it before the end."""
    user = update.effective_user
    if user is None:
        return None
    position = await context.store.position(user.id, place_name(section))
    if position is None or not isinstance(position.data.get("page"), int):
        return None
    message_id = position.data.get("message")
    return Place(position.data["page"], message_id if isinstance(message_id, int) else None)


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

    def __init__(self, section: str, *, count: int, command: str, words: Words) -> None:
        self.section = section
        self.count = count
        self.command = command
        self.words = words

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
            nav.append((t("common.back"), data(self.section, "back", number)))
        label = t("common.next") if number < self.count else t(self.words.last_button)
        nav.append((label, data(self.section, "next", number)))
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
            page_state(self.section, number),
            together(keep_place(self.section, number, message_id), self.reached(number), write),
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
        spot = await place(update, context, self.section)
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
            (t("common.continue"), data(self.section, "continue")),
            (t(self.words.from_start), data(self.section, "over")),
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
        spot = await place(update, context, self.section)
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
        await acknowledge(update)
        state = await save(update, context, self.section, END)
        await send(update, t(self.words.later))
        return state

    def not_a_button(self, state: str) -> Step:
        """A message where a button is expected: points to the buttons, changes nothing."""

        async def step(update: Update, context: BotContext) -> State:
            await expect_buttons(update, context)
            return state

        return stops(step)

    # Wiring ----------------------------------------------------------------------------------

    @property
    def choose_state(self) -> str:
        """The state while "continue or start from the beginning?" waits for an answer."""
        return f"{self.section}.choose"

    def button(self, step: Step, state: str, *parts: object) -> CallbackQueryHandler[Any, Any]:
        """A handler for one button of the current message, in one state."""
        return CallbackQueryHandler(
            self.live(step, state), pattern=f"^{data(self.section, *parts)}$"
        )

    def build(self) -> Any:
        """The section's ConversationHandler."""
        choose = self.choose_state
        states: dict[object, Handlers] = {
            choose: [
                self.button(self.resume, choose, "continue"),
                self.button(self.start_over, choose, "over"),
                self.button(self.later, choose, "later"),
                MessageHandler(NOT_A_BUTTON, self.not_a_button(choose)),
            ]
        }
        for number in range(1, self.count + 1):
            state = page_state(self.section, number)
            forward = self.turn(number, number + 1) if number < self.count else self.end
            handlers: Handlers = [self.button(forward, state, "next", number)]
            if number > 1:
                handlers.append(self.button(self.turn(number, number - 1), state, "back", number))
            handlers += [
                *self.page_handlers(number),
                self.button(self.later, state, "later"),
                MessageHandler(NOT_A_BUTTON, self.not_a_button(state)),
            ]
            states[state] = handlers
        enter = stops(self.enter)
        return section_handler(
            self.section,
            entry_points=[
                CommandHandler(self.command, enter, filters=filters.UpdateType.MESSAGE),
                CallbackQueryHandler(enter, pattern=f"^menu:{self.section}$"),
            ],
            states=states,
        )
