"""First words and everything around the sections: consent, menu, help, cancel, crisis, guards."""

from __future__ import annotations

import logging
from typing import Any

from telegram import Chat, ChatMember, Update
from telegram.ext import (
    ApplicationHandlerStop,
    BaseHandler,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.context import BotContext
from conversations.kit.callbacks import MENU, Callbacks
from conversations.kit.steps import acknowledge, keyboard, person_of, send
from conversations.worksheet.content import Html, lookup, t
from conversations.worksheet.current import worksheet
from storage.repository import PersonMissing

logger = logging.getLogger(__name__)

SECTION = "start"
CB = Callbacks(SECTION)
# The bot's own features, after the worksheet's sections in the menu and the command list.
FEATURES = ("review", "summary", "schedule", "settings", "export", "delete")
# What a person may do before giving consent.
OPEN_COMMANDS = frozenset({"start", "help", "crisis"})
OPEN_BUTTONS = frozenset({CB("agree")})


# Features that only make sense with a session chart: its reminders and its weekly summary.
CHART_FEATURES = frozenset({"summary", "schedule"})


def features() -> list[str]:
    """The features this worksheet has (without a chart, no reminders and no summary)."""
    charted = worksheet().chart is not None
    return [name for name in FEATURES if charted or name not in CHART_FEATURES]


def menu_names() -> list[str]:
    """The menu's buttons: the worksheet's sections in order, then the features."""
    return [section.id for section in worksheet()] + features()


def commands() -> list[str]:
    """The command list, in the order /help and Telegram's command menu show it."""
    sections = [section.command for section in worksheet()]
    return ["start", "menu", *sections, *features(), "crisis", "cancel", "help"]


def menu_keyboard() -> Any:
    """The main menu: a button per section and feature, two to a row, then the crisis help."""
    names = menu_names()
    rows = [names[i : i + 2] for i in range(0, len(names), 2)] + [["crisis"]]
    return keyboard(*[[(t(f"menu.{name}"), MENU(name)) for name in row] for row in rows])


def help_text() -> Html:
    """Every command with what it does (a section's own help words, else its command words)."""
    lines = []
    for name in commands():
        words = f"help.commands.{name}"
        text = t(words) if isinstance(lookup(words), str) else t(f"commands.{name}")
        lines.append(t("help.line", command=name, text=text))
    return Html("\n\n".join([t("help.title"), "\n".join(lines), t("help.footer")]))


def welcome() -> Html:
    """The worksheet's title and objective, as /start shows them."""
    return t("start.welcome", title=t("worksheet.title"), objective=t("worksheet.objective"))


def _command_of(update: Update) -> str | None:
    message = update.message
    if message is None or not message.text or not message.text.startswith("/"):
        return None
    return message.text[1:].split(maxsplit=1)[0].split("@")[0].lower()


async def private_only(update: Update, context: BotContext) -> None:
    """Leaves any group or channel at once, storing nothing."""
    chat = update.effective_chat
    if chat is None or chat.type == Chat.PRIVATE:
        return
    if chat.type != Chat.CHANNEL:
        try:
            await context.bot.leave_chat(chat.id)
        except Exception as error:  # already gone, or never a member
            logger.info("Could not leave chat: %s", type(error).__name__)
    raise ApplicationHandlerStop


async def consent_gate(update: Update, context: BotContext) -> None:
    """Before consent, only /start, the consent button, /help and /crisis do anything."""
    user = update.effective_user
    if user is None or update.my_chat_member is not None:
        return
    if _command_of(update) in OPEN_COMMANDS:
        return
    query = update.callback_query
    if query is not None and query.data in OPEN_BUTTONS:
        return
    if await person_of(update, context) is not None:
        return
    if query is not None:
        await acknowledge(update, t("errors.stale_button"), close=False)
    elif update.message is not None:
        await send(update, t("errors.consent_needed"))
    raise ApplicationHandlerStop


async def start(update: Update, context: BotContext) -> None:
    """Shows the objective and the privacy notice, with an "I agree" button."""
    user = update.effective_user
    assert user is not None
    person = await person_of(update, context)
    if person is not None and person.consent_version == context.settings.consent_version:
        if person.blocked:
            await context.store.set_blocked(user.id, False)
            await send(update, t("start.resumed"))
        await send(update, t("start.already"), menu_keyboard())
        return
    await send(update, welcome())
    await send(
        update,
        t("start.privacy"),
        keyboard([(t("start.agree_button"), CB("agree"))]),
    )


async def agree(update: Update, context: BotContext) -> None:
    """Stores consent and its version, then shows the menu."""
    user = update.effective_user
    assert user is not None
    await acknowledge(update)
    await context.store.consent(
        user.id, context.settings.consent_version, update_id=update.update_id
    )
    await send(update, t("start.agreed"), menu_keyboard())


async def show_menu(update: Update, context: BotContext) -> None:
    """Shows the main menu."""
    await acknowledge(update, close=False)
    await send(update, t("menu.title"), menu_keyboard())


async def show_help(update: Update, context: BotContext) -> None:
    """Lists the commands."""
    await send(update, help_text())


async def show_crisis(update: Update, context: BotContext) -> None:
    """What to do in a crisis: the deployer's own text if configured."""
    await acknowledge(update, close=False)
    path = context.settings.crisis_text_file
    text = path.read_text(encoding="utf-8") if path is not None else t("crisis.text")
    await send(update, text)


async def cancel(update: Update, context: BotContext) -> None:
    """Leaves whatever is in progress (the sections already left quietly)."""
    await send(update, t("cancel.done" if context.left_sections else "cancel.nothing"))


async def stale_button(update: Update, context: BotContext) -> None:
    """A button no section expects any more."""
    await acknowledge(update, t("errors.stale_button"), close=False)


async def unknown_command(update: Update, context: BotContext) -> None:
    """A command the bot does not know."""
    await send(update, t("errors.unknown_command"))


async def not_understood(update: Update, context: BotContext) -> None:
    """A message outside any section."""
    await send(update, t("errors.not_understood"))


async def edited(update: Update, context: BotContext) -> None:
    """An edit updates the answer it was given for, if it was a written answer."""
    message = update.edited_message
    user = update.effective_user
    if message is None or user is None or not message.text:
        return
    key = await context.store.answer_for_message(user.id, message.message_id)
    if key is None:
        await send(update, t("errors.edited"))
        return
    try:
        async with context.store.unit(user.id) as unit:
            await unit.save_answer(key, message.text.strip(), message_id=message.message_id)
    except PersonMissing:
        return
    await send(update, t("errors.edited_saved"))


async def member_changed(update: Update, context: BotContext) -> None:
    """Notes when a person blocks or unblocks the bot (in a private chat)."""
    change = update.my_chat_member
    if change is None or change.chat.type != Chat.PRIVATE:
        return
    blocked = change.new_chat_member.status in (ChatMember.BANNED, ChatMember.LEFT)
    await context.store.set_blocked(change.chat.id, blocked)


def guards() -> list[BaseHandler[Update, Any, Any]]:
    """Handlers that run before everything else (group -1)."""
    return [TypeHandler(Update, private_only)]


def gate() -> list[BaseHandler[Update, Any, Any]]:
    """The consent gate (its own group, after the guards)."""
    return [
        ChatMemberHandler(member_changed, ChatMemberHandler.MY_CHAT_MEMBER),
        TypeHandler(Update, consent_gate),
    ]


def handlers() -> list[BaseHandler[Update, Any, Any]]:
    """Everything not in a section, in the last group (order matters: specific first)."""
    new = filters.UpdateType.MESSAGE
    return [
        CommandHandler("start", start, filters=new),
        CallbackQueryHandler(agree, pattern=CB.pattern("agree")),
        CommandHandler("menu", show_menu, filters=new),
        CallbackQueryHandler(show_menu, pattern=MENU.pattern("menu")),
        CommandHandler("help", show_help, filters=new),
        CommandHandler("crisis", show_crisis, filters=new),
        CallbackQueryHandler(show_crisis, pattern=MENU.pattern("crisis")),
        CommandHandler("cancel", cancel, filters=new),
        CallbackQueryHandler(stale_button),
        MessageHandler(filters.UpdateType.EDITED_MESSAGE, edited),
        MessageHandler(new & filters.COMMAND, unknown_command),
        MessageHandler(new, not_understood),
    ]
