"""First words and everything around the sections: consent, menu, help, cancel, crisis, guards."""

from __future__ import annotations

import html
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
from bot.visit import current_visit
from conversations.kit.callbacks import MENU, Callbacks
from conversations.kit.steps import acknowledge, help_row, keyboard, person_of, send, text_of
from conversations.worksheet.content import (
    Html,
    items,
    language,
    lookup,
    set_language,
    supported,
    t,
)
from conversations.worksheet.current import worksheet
from storage.repository import PersonMissing

logger = logging.getLogger(__name__)

SECTION = "start"
CB = Callbacks(SECTION)
# The bot's own features, after the worksheet's sections in the menu and the command list.
FEATURES = ("review", "summary", "schedule", "settings", "export", "delete")
# What a person may do before giving consent (help in a crisis is one tap away from the start).
OPEN_COMMANDS = frozenset({"start", "help", "crisis", "privacy"})
OPEN_BUTTONS = frozenset({CB("agree"), MENU("crisis")})


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
    # Help in a crisis second, right after the way in: one tap from the command menu.
    return [
        "start",
        "crisis",
        "menu",
        *sections,
        *features(),
        "language",
        "privacy",
        "cancel",
        "help",
    ]


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


def privacy_note() -> Html:
    """The privacy note before "I agree": a title, the notice, and how to agree."""
    parts = (t("start.privacy_title"), t("privacy.notice"), t("start.agree_prompt"))
    return Html("\n\n".join(parts))


def privacy_page() -> Html:
    """/privacy at any time: the same notice, under its own title."""
    return Html(f"{t('privacy.title')}\n\n{t('privacy.notice')}")


def profile() -> tuple[str, str]:
    """The bot's description and short description (plain text, no HTML)."""
    title = html.unescape(str(t("worksheet.title")))
    description = html.unescape(str(t("profile.description", title=title)))
    return description, html.unescape(str(t("profile.short_description", title=title)))


def welcome() -> Html:
    """The worksheet's title and objective, as /start shows them."""
    return t("start.welcome", title=t("worksheet.title"), objective=t("worksheet.objective"))


def _command_of(update: Update) -> str | None:
    message = update.message
    if message is None or not message.text or not message.text.startswith("/"):
        return None
    return message.text[1:].split(maxsplit=1)[0].split("@")[0].lower()


async def private_only(update: Update, context: BotContext) -> None:
    """Leaves any group or channel at once, storing nothing; and in a private chat, takes only
    what its own person sent (a person is known by their user id, and what the bot says goes to
    the chat: the two must be one)."""
    chat = update.effective_chat
    if chat is None:
        return
    if chat.type == Chat.PRIVATE:
        user = update.effective_user
        if user is not None and user.id != chat.id:
            logger.warning("Ignored an update in a private chat from someone else")
            raise ApplicationHandlerStop
        set_language(their_language(update))
        return
    if chat.type != Chat.CHANNEL:
        try:
            await context.bot.leave_chat(chat.id)
        except Exception as error:  # already gone, or never a member
            logger.info("Could not leave chat: %s", type(error).__name__)
    raise ApplicationHandlerStop


def their_language(update: Update) -> str:
    """The language to answer in: the person's own choice (stored), else their Telegram's
    (aiogram's i18n middleware reads it the same way), else English."""
    visit = current_visit()
    if visit is not None and visit.person is not None and visit.person.language:
        return visit.person.language
    user = update.effective_user
    return supported(user.language_code if user is not None else None)


def renewed_note() -> Html:
    """The privacy note again, for a person who agreed to an older version of it."""
    return Html(f"{t('start.renewed')}\n\n{privacy_note()}")


async def consent_gate(update: Update, context: BotContext) -> None:
    """Before consent, only /start, the consent button, /help and /crisis do anything.

    A person who agreed to an older version of the notice is shown the current one first,
    whatever they sent (what they stored stays; their reminders wait until they agree)."""
    user = update.effective_user
    if user is None or update.my_chat_member is not None:
        return
    if _command_of(update) in OPEN_COMMANDS:
        return
    query = update.callback_query
    if query is not None and query.data in OPEN_BUTTONS:
        return
    person = await person_of(update, context)
    if person is not None and person.consent_version == context.settings.consent_version:
        return
    if person is not None:
        await acknowledge(update, close=False)
        await send(update, renewed_note(), keyboard([(t("start.agree_button"), CB("agree"))]))
        raise ApplicationHandlerStop
    if query is not None:
        await acknowledge(update, t("errors.stale_button"), close=False)
    elif update.message is not None:
        # Whatever was typed (often "does my therapist see this?"): the short privacy answer.
        await send(update, t("errors.before_consent"), keyboard(help_row()[:1]))
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
        privacy_note(),
        keyboard([(t("start.agree_button"), CB("agree"))]),
    )


async def agree(update: Update, context: BotContext) -> None:
    """Stores consent and its version, then shows the menu."""
    user = update.effective_user
    assert user is not None
    await acknowledge(update)
    await context.store.consent(
        user.id,
        context.settings.consent_version,
        update_id=update.update_id,
        language=language(),  # their Telegram's, which the notice was read in
    )
    await send(update, t("start.agreed"), menu_keyboard())


async def show_menu(update: Update, context: BotContext) -> None:
    """Shows the main menu."""
    await acknowledge(update, close=False)
    await send(update, t("menu.title"), menu_keyboard())


async def show_help(update: Update, context: BotContext) -> None:
    """Lists the commands, with help in a crisis one tap away."""
    await send(update, help_text(), keyboard(help_row()))


async def show_privacy(update: Update, context: BotContext) -> None:
    """The privacy notice, before or after consent."""
    await send(update, privacy_page())


async def show_crisis(update: Update, context: BotContext) -> None:
    """What to do in a crisis: the deployer's own text if configured (in the person's language
    where the deployer wrote one: crisis.de.html beside crisis.html)."""
    await acknowledge(update, close=False)
    path = context.settings.crisis_text_file
    if path is None:
        await send(update, t("crisis.text"))
        return
    own = path.with_name(f"{path.stem}.{language()}{path.suffix}")
    await send(update, (own if own.is_file() else path).read_text(encoding="utf-8"))


async def cancel(update: Update, context: BotContext) -> None:
    """Leaves whatever is in progress (the sections already left quietly)."""
    await send(update, t("cancel.done" if context.left_sections else "cancel.nothing"))


async def stale_button(update: Update, context: BotContext) -> None:
    """A button no section expects any more."""
    await acknowledge(update, t("errors.stale_button"), close=False)


async def unknown_command(update: Update, context: BotContext) -> None:
    """A command the bot does not know."""
    await send(update, t("errors.unknown_command"))


def is_help_word(text: str) -> bool:
    """Whether a message is just "help" (or one of its words in the content)."""
    word = " ".join(text.casefold().strip(" .!?¡¿…").split())
    return word in {w.casefold() for w in items("errors.help_words")}


async def not_understood(update: Update, context: BotContext) -> None:
    """A message outside any section: nothing is stored; one warm, honest reply (the bot does
    not try to read distress in it), with help one tap away. "help" alone gets /help too."""
    if is_help_word(text_of(update)):
        await send(update, Html(f"{help_text()}\n\n{t('errors.help_word')}"), keyboard(help_row()))
        return
    await send(update, t("errors.not_understood"), keyboard(help_row()))


async def edited(update: Update, context: BotContext) -> None:
    """An edit updates the answer it was given for, if it was a written answer."""
    message = update.edited_message
    user = update.effective_user
    if message is None or user is None or not message.text:
        return
    text, message_id = message.text.strip(), message.message_id
    key = await context.store.answer_for_message(user.id, message_id)
    entry = (
        None
        if key is not None
        else await context.store.entry_field_for_message(user.id, message_id)
    )
    if (key is None and entry is None) or not text:
        await send(update, t("errors.edited"))
        return
    try:
        async with context.store.unit(user.id) as unit:
            if key is not None:
                await unit.save_answer(key, text, message_id=message_id)
            elif entry is not None:
                uid, field = entry
                await unit.update_session_entry(uid, message_id=message_id, **{field: text})
    except (PersonMissing, LookupError):  # gone meanwhile: nothing to update
        await send(update, t("errors.edited"))
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
        CommandHandler("privacy", show_privacy, filters=new),
        CallbackQueryHandler(show_crisis, pattern=MENU.pattern("crisis")),
        CommandHandler("cancel", cancel, filters=new),
        CallbackQueryHandler(stale_button),
        MessageHandler(filters.UpdateType.EDITED_MESSAGE, edited),
        MessageHandler(new & filters.COMMAND, unknown_command),
        MessageHandler(new, not_understood),
    ]
