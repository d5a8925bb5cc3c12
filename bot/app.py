"""The one place the application is built: handlers in order, start-up and shut-down."""

from __future__ import annotations

import logging
import re
import traceback
import warnings
from typing import Any

from sqlalchemy.exc import OperationalError
from telegram import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    LinkPreviewOptions,
    MenuButtonCommands,
    MessageEntity,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import Forbidden
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    BaseHandler,
    CallbackQueryHandler,
    ContextTypes,
    ConversationHandler,
    Defaults,
    TypeHandler,
)
from telegram.request import BaseRequest, HTTPXRequest
from telegram.warnings import PTBUserWarning

from bot import housekeeping, reminders
from bot.context import BotContext, BotData
from bot.pacing import Pacer
from bot.processor import PerChatUpdateProcessor
from bot.reminders import REMINDER
from bot.settings import Settings
from bot.updates import InboxRequest, Intake
from conversations.engines.pages import Pages
from conversations.engines.prompts import Prompts
from conversations.engines.toggles import Toggles
from conversations.kit.callbacks import DAY, MENU, NUMBER
from conversations.sections import delete, export, log, review, schedule, start, summary
from conversations.sections import settings as settings_section
from conversations.worksheet.content import ENGLISH, languages, speaking, t
from conversations.worksheet.current import worksheet
from conversations.worksheet.model import Section, SectionKind
from storage import Inbox, Store
from storage.repository import PersonMissing

logger = logging.getLogger(__name__)

App = Application[Any, BotContext, dict[Any, Any], dict[Any, Any], BotData, Any]

# Handler groups: guards, the consent gate, leaving sections on a command or menu button, one
# group per section, then everything else.
GUARD_GROUP = -2
GATE_GROUP = -1
SWITCH_GROUP = 0
FIRST_SECTION_GROUP = 1
LAST_GROUP = 100


def worksheet_section(section: Section) -> ConversationHandler[Any]:
    """A worksheet section's conversation: the engine of its kind, over its part of the model."""
    if section.kind is SectionKind.PAGES:
        return Pages(section).build()
    if section.kind is SectionKind.TOGGLES:
        return Toggles(section).build()
    if section.kind is SectionKind.PROMPTS:
        return Prompts(section).build()
    return log.build_handler()


def sections() -> list[ConversationHandler[Any]]:
    """Every worksheet section's conversation in menu order, then the bot's features."""
    # Sections track their buttons per person, not per message, on purpose (states are stored).
    warnings.filterwarnings("ignore", message=".*per_message=False.*", category=PTBUserWarning)
    return [
        *(worksheet_section(section) for section in worksheet()),
        review.build_handler(),
        summary.build_handler(),
        schedule.build_handler(),
        settings_section.build_handler(),
        export.build_handler(),
        delete.build_handler(),
    ]


# Updates that leave whatever section a person is in: any new command, and buttons that open a
# section (the menu, and a reminder's "Log now"). Matched in full, so a forged or garbled button
# that merely starts like one is out of date and leaves nothing.
SECTION_ENTRY_BUTTONS = [re.compile(MENU.any_action()), re.compile(log.CB.pattern("new", DAY))]


def _leaves_sections(update: Update) -> bool:
    message = update.message
    if message is not None:
        entities = message.entities or ()
        return any(e.type == MessageEntity.BOT_COMMAND and e.offset == 0 for e in entities)
    query = update.callback_query
    return query is not None and any(p.match(query.data or "") for p in SECTION_ENTRY_BUTTONS)


async def section_switch(update: Update, context: BotContext) -> None:
    """Before a command or a button that opens a section, leaves the place the person is in.

    A person has one place; the section it names would otherwise take the command and stop the
    update, or stay open and take the next message. Leaving is one write, and the visit's place
    is cleared for the handlers that follow.
    """
    visit = context.visit
    user = update.effective_user
    if visit is None or visit.place is None or user is None or not _leaves_sections(update):
        return
    left = visit.place.section
    try:
        async with context.store.unit(user.id, visit=visit) as unit:
            await unit.set_state(left, None)
    except PersonMissing:
        pass
    visit.place = None
    context.left_sections.append(left)


async def on_error(update: object, context: BotContext) -> None:
    """Logs the error's type, update id and where it happened, and tells the person gently."""
    error = context.error
    update_id = update.update_id if isinstance(update, Update) else None
    # Where, but not the exception's message: messages can quote what a person typed.
    where = "".join(traceback.format_tb(error.__traceback__)) if error is not None else ""
    logger.error("Error while handling update %s: %s\n%s", update_id, type(error).__name__, where)
    # Nothing to put back: every update reads the person's place from the store (bot/places.py),
    # so a failure after a saved answer leaves the next message for the prompt after it.
    if not isinstance(update, Update):
        return
    if update.effective_chat is not None and not isinstance(error, Forbidden):
        key = "errors.busy" if isinstance(error, OperationalError) else "errors.generic"
        try:
            await update.effective_chat.send_message(t(key))
        except Exception as send_error:
            logger.warning(
                "Could not tell the person about the error: %s", type(send_error).__name__
            )
    # The update has had its answer: later handler groups must not take it too (a failed save in
    # a section would otherwise also get "I'm not sure what to do with that").
    raise ApplicationHandlerStop


def reminder_buttons() -> list[BaseHandler[Update, Any, Any]]:
    """The buttons under a reminder (its "Log now" opens the /log section itself)."""
    return [
        CallbackQueryHandler(reminders.snooze, pattern=REMINDER.pattern("snooze", NUMBER)),
        CallbackQueryHandler(reminders.no_session, pattern=REMINDER.pattern("none", NUMBER)),
    ]


async def _post_init(application: App) -> None:
    bot = application.bot
    # The command list for private chats (the bot leaves groups); the one an older version
    # set for every chat is removed. The menu button opens the command list.
    await bot.delete_my_commands()
    # In every language the bot speaks: Telegram shows a person the list, description and
    # short description for their app's language (English, with no language_code, otherwise).
    for code in languages():
        telegram_code = None if code == ENGLISH else code.split("_")[0]
        with speaking(code):
            await bot.set_my_commands(
                [BotCommand(name, t(f"commands.{name}")) for name in start.commands()],
                scope=BotCommandScopeAllPrivateChats(),
                language_code=telegram_code,
            )
            description, short = start.profile()
            await bot.set_my_description(description, language_code=telegram_code)
            await bot.set_my_short_description(short, language_code=telegram_code)
    await bot.set_chat_menu_button(menu_button=MenuButtonCommands())
    assert application.job_queue is not None
    reminders.start_jobs(application.job_queue)
    housekeeping.start_jobs(application.job_queue)
    logger.info("Bot ready")


def build_application(
    settings: Settings,
    store: Store,
    *,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
) -> App:
    """Build the application with every handler; nothing runs until it is started."""
    context_types = ContextTypes(context=BotContext, bot_data=BotData)
    intake = Intake(Inbox(store.db, store.cipher))
    builder = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token.get_secret_value())
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                # Replies answer what the person just did, and many carry their answers or
                # ratings: none of them notifies (a lock screen would show it). Only the
                # discreet reminder and the summary's first line notify, by saying so.
                disable_notification=True,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        .context_types(context_types)
        .concurrent_updates(
            PerChatUpdateProcessor(
                settings.max_concurrent_updates,
                visit=store.visit,
                finished=intake.handled,
            )
        )
        .rate_limiter(Pacer(limit=settings.messages_per_second))
        .post_init(_post_init)
        .arbitrary_callback_data(False)
    )
    if settings.telegram_api_base_url:
        builder = builder.base_url(settings.telegram_api_base_url)
    if settings.telegram_api_file_url:
        builder = builder.base_file_url(settings.telegram_api_file_url)
    if request is not None:
        builder = builder.request(request)
    # getUpdates stores what it brings in the inbox before confirming it (see bot/updates.py).
    builder = builder.get_updates_request(
        InboxRequest(get_updates_request or HTTPXRequest(connection_pool_size=1), intake)
    )
    application: App = builder.build()
    application.bot_data["store"] = store
    application.bot_data["settings"] = settings
    application.bot_data["intake"] = intake
    intake.attach(application.bot)

    add_all(application, GUARD_GROUP, start.guards())
    add_all(application, GATE_GROUP, start.gate())
    conversations = sections()
    application.add_handler(TypeHandler(Update, section_switch), group=SWITCH_GROUP)
    for offset, conversation in enumerate(conversations):
        application.add_handler(conversation, group=FIRST_SECTION_GROUP + offset)
    add_all(application, LAST_GROUP, [*reminder_buttons(), *start.handlers()])
    application.add_error_handler(on_error)
    return application


def add_all(application: App, group: int, handlers: list[BaseHandler[Update, Any, Any]]) -> None:
    """Add handlers to one group, in order."""
    for handler in handlers:
        application.add_handler(handler, group=group)
