"""The prompts engine: a section's questions one at a time, whatever their kind.

Written answers, numbered answers (one part at a time), Yes / No and 1-10 ratings, with
`shown_if` from the model. Each answer is saved with the place after it, in one transaction.
Skip, Not now, continuing, going back to skipped prompts and starting over are written here once
for every prompts section (/reflect, /finish, and those of another worksheet file).

Coming back offers to continue at the first prompt not reached, to answer the skipped ones, or
to start over. Starting over never erases: it walks the prompts again, showing each earlier
answer with "Keep"; only what the person answers anew replaces it.

States name the prompt by its stored key, never by its position: "reflect.ask.q6.2" waits for
the second part of prompt 6; "revisit." walks the skipped ones, "over." walks all again.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
)
from telegram.ext.filters import UpdateType

from bot.context import BotContext
from conversations.kit.callbacks import MENU, RATING, Callbacks
from conversations.kit.prompting import ask_once, leaving, on_live, retire
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
    person_of,
    position_data,
    save,
    section_handler,
    send,
    stops,
    text_of,
)
from conversations.worksheet.content import Html, escape, lookup, t
from conversations.worksheet.current import worksheet
from conversations.worksheet.dates import local_today
from conversations.worksheet.model import NO, YES, Answers, ItemKind, Prompt, Section
from conversations.worksheet.parsing import parse_rating, parse_yes_no, rating_problem
from conversations.worksheet.words import prompt_text
from storage.repository import PersonMissing, Unit

Write = Callable[[Unit], Awaitable[None]]
ASK, REVISIT, OVER = "ask", "revisit", "over"
MODES = (ASK, REVISIT, OVER)
PREVIEW = 300  # characters of an earlier answer shown when walking again
YES_OR_NO = f"{YES}|{NO}"


def words(section: Section, name: str, **values: object) -> Html:
    """A section's own words if it has them ("reflect.done"), else the shared ones."""
    key = f"{section.id}.{name}"
    return t(key if isinstance(lookup(key), str) else f"common.prompts.{name}", **values)


# A stand-in for an answer's text where only "answered" matters (never shown, never stored).
ANSWERED = "\x00answered"


def tally(answers: Answers) -> dict[str, Any]:
    """Which prompts are answered and which skipped, by key: kept with the place (no text)."""
    return {
        "answered": sorted(k for k, v in answers.items() if v),
        "skipped": sorted(k for k, v in answers.items() if not v),
    }


def untally(saved: dict[str, Any]) -> dict[str, str | None]:
    """Answers as far as a tally knows them: answered ones stand in, skipped ones are None."""
    return {
        **dict.fromkeys(map(str, saved["skipped"]), None),
        **dict.fromkeys(map(str, saved["answered"]), ANSWERED),
    }


class Prompts:
    """One prompts section's steps and wiring."""

    # The section's own words this engine looks up ("<section>.<name>"), each optional but the
    # intro; those it lacks come from "common.prompts.<name>".
    WORDS = ("intro", "progress", "resume", "revisit", "complete", "done", "done_with_skips")
    OFFER_WORDS = ("offer", "offer_button")

    def __init__(self, section: Section) -> None:
        self.section = section
        self.cb = Callbacks(section.id)
        self.conditional = any(item.shown_if is not None for item in section.items)

    # Reading ---------------------------------------------------------------------------------

    async def answers(self, update: Update, context: BotContext) -> dict[str, str | None]:
        """This section's stored answers (key -> text, None when skipped)."""
        user = update.effective_user
        assert user is not None
        stored = await context.store.answers(user.id, f"{self.section.id}.")
        keys = {p.key for p in self.section.prompts()}
        return {key: value.text for key, value in stored.items() if key in keys}

    async def known(self, update: Update, context: BotContext, mode: str) -> Answers:
        """Which prompts are answered or skipped, for finding the next one: from the tally kept
        with the place when that is enough (no shown_if to decide, no earlier answer to show),
        so a step reads nothing; else the stored answers."""
        if mode != OVER and not self.conditional:
            saved = await position_data(update, context, self.section.id)
            if isinstance(saved.get("answered"), list) and isinstance(saved.get("skipped"), list):
                return untally(saved)
        return await self.answers(update, context)

    def after(self, answers: Answers, prompt: Prompt, mode: str) -> Prompt | None:
        """Where a walk goes after `prompt`: the next open one, or (walking again) any one."""
        prompts = self.section.prompts()
        later = prompts[[p.key for p in prompts].index(prompt.key) + 1 :]
        for candidate in later:
            if not candidate.applies(answers):
                continue
            # Walking again shows every prompt; otherwise the next one still open (never
            # reached, or skipped), so a prompt that comes to apply on the way is not missed.
            if mode == OVER or not answers.get(candidate.key):
                return candidate
        return None

    def state(self, prompt: Prompt, mode: str) -> str:
        return f"{self.section.id}.{mode}.{self.short(prompt)}"

    def short(self, prompt: Prompt) -> str:
        return prompt.key.removeprefix(f"{self.section.id}.")

    # Asking ----------------------------------------------------------------------------------

    def heading(self, prompt: Prompt) -> str:
        """ "Question 6 of 8" where the section numbers its questions."""
        key = f"{self.section.id}.progress"
        if not isinstance(lookup(key), str):
            return ""
        number = prompt.item.label
        total = len(self.section.items)
        return f"<i>{t(key, number=number, total=total)}</i>\n\n"

    async def ask(
        self,
        update: Update,
        context: BotContext,
        prompt: Prompt,
        mode: str,
        earlier: str | None = None,
    ) -> None:
        """Sends one prompt with its buttons, Skip and Not now; the one live copy of it."""
        text = self.heading(prompt) + prompt_text(prompt)
        rows: list[list[Button]] = []
        short = self.short(prompt)
        if prompt.kind is ItemKind.YES_NO:
            rows.append(
                [
                    (t("common.yes"), self.cb("pick", short, YES)),
                    (t("common.no"), self.cb("pick", short, NO)),
                ]
            )
        elif prompt.kind is ItemKind.RATING:
            numbers = [(str(n), self.cb("rate", short, n)) for n in range(1, 11)]
            rows.extend([numbers[:5], numbers[5:]])
        if mode == OVER and earlier is not None:
            text += "\n\n" + t("common.prompts.earlier", answer=self.shown(prompt, earlier))
            rows.append([(t("common.prompts.keep"), self.cb("keep", short))])
        rows.append(
            [
                (t("common.skip"), self.cb("skip", f"{mode}.{short}")),
                (t("common.not_now"), self.cb("later")),
            ]
        )
        await ask_once(update, context, self.section.id, Html(text), keyboard(*rows))

    def shown(self, prompt: Prompt, value: str) -> Html:
        if prompt.kind is ItemKind.YES_NO:
            return t("common.yes") if value == YES else t("common.no")
        cut = value if len(value) <= PREVIEW else value[: PREVIEW - 1] + "…"
        return escape(cut)

    async def move(
        self,
        update: Update,
        context: BotContext,
        prompt: Prompt | None,
        mode: str,
        answers: Answers,
        write: Write | None = None,
    ) -> State:
        """Saves `write` with the place of the next prompt (or the end), then asks it."""
        if prompt is None:
            state = await save(update, context, self.section.id, END, write)
            await retire(update, context, self.section.id)
            skipped = len(self.section.skipped(answers))
            if skipped:
                await send(update, words(self.section, "done_with_skips", count=skipped))
            else:
                await send(update, words(self.section, "done"))
            return state
        state = await save(
            update, context, self.section.id, self.state(prompt, mode), write, data_=tally(answers)
        )
        if state != END:
            await self.ask(update, context, prompt, mode, answers.get(prompt.key))
        return state

    # Entering --------------------------------------------------------------------------------

    async def enter(self, update: Update, context: BotContext) -> State:
        """Starts the section, or offers to continue, revisit or start over."""
        await acknowledge(update)
        answers = await self.answers(update, context)
        first = self.section.prompts()[0]
        if not answers:
            await send(update, t(f"{self.section.id}.intro"))
            return await self.move(update, context, first, ASK, answers)
        over = (t("common.start_over"), self.cb("over"))
        if self.section.first_open(answers) is not None:
            text, choice = (
                words(self.section, "resume"),
                [
                    (t("common.continue"), self.cb("continue")),
                    over,
                ],
            )
        elif self.section.first_skipped(answers) is not None:
            text, choice = (
                words(self.section, "revisit"),
                [
                    (t("common.prompts.revisit_button"), self.cb("revisit")),
                    over,
                ],
            )
        else:
            text, choice = words(self.section, "complete"), [over]
        await send(update, text, keyboard(choice, [(t("common.not_now"), self.cb("later"))]))
        return await save(update, context, self.section.id, f"{self.section.id}.choose")

    async def resume(self, update: Update, context: BotContext) -> State:
        await acknowledge(update)
        answers = await self.answers(update, context)
        return await self.move(update, context, self.section.first_open(answers), ASK, answers)

    async def revisit(self, update: Update, context: BotContext) -> State:
        await acknowledge(update)
        answers = await self.answers(update, context)
        skipped = self.section.first_skipped(answers)
        return await self.move(update, context, skipped, REVISIT, answers)

    async def start_over(self, update: Update, context: BotContext) -> State:
        """Walks every prompt again from the first; nothing is erased."""
        await acknowledge(update)
        answers = await self.answers(update, context)
        first = self.section.asked(answers)[0]
        return await self.move(update, context, first, OVER, answers)

    async def later(self, update: Update, context: BotContext) -> State:
        """Leaves the section; everything answered stays."""
        return await leaving(self.section.id)(update, context)

    # Answering -------------------------------------------------------------------------------

    async def answered(
        self,
        update: Update,
        context: BotContext,
        prompt: Prompt,
        mode: str,
        value: str | None,
        write: Write | None,
    ) -> State:
        """Stores an answer (None: skipped, or kept) and goes on."""
        answers = dict(await self.known(update, context, mode))
        if value is not None:
            answers[prompt.key] = value
        elif write is not None and prompt.key not in answers:
            answers[prompt.key] = None
        return await self.move(
            update, context, self.after(answers, prompt, mode), mode, answers, write
        )

    def written(self, prompt: Prompt, mode: str) -> Step:
        async def step(update: Update, context: BotContext) -> State:
            text = text_of(update)
            if not text:
                await send(update, t("common.empty"))
                return await self.again(update, context, prompt, mode)
            message = update.message
            assert message is not None

            async def write(unit: Unit) -> None:
                await unit.save_answer(prompt.key, text, message_id=message.message_id)

            return await self.answered(update, context, prompt, mode, text, write)

        return step

    def picked(self, prompt: Prompt, mode: str) -> Step:
        async def step(update: Update, context: BotContext) -> State:
            await acknowledge(update)
            value = self.cb.parts(update)[-1]

            async def write(unit: Unit) -> None:
                await unit.save_answer(prompt.key, value)

            return await self.answered(update, context, prompt, mode, value, write)

        return on_live(self.section.id, self.state(prompt, mode), step)

    def said_yes_no(self, prompt: Prompt, mode: str) -> Step:
        """A typed "yes" or "nein" at a yes-or-no question, in any language the bot speaks;
        anything else hears that the buttons answer it."""
        wrong = self.wrong(prompt, mode)

        async def step(update: Update, context: BotContext) -> State:
            said = parse_yes_no(text_of(update))
            if said is None:
                return await wrong(update, context)
            value = YES if said else NO

            async def write(unit: Unit) -> None:
                await unit.save_answer(prompt.key, value)

            return await self.answered(update, context, prompt, mode, value, write)

        return step

    def rated_button(self, prompt: Prompt, mode: str) -> Step:
        async def step(update: Update, context: BotContext) -> State:
            await acknowledge(update)
            return await self.rated(update, context, prompt, mode, int(self.cb.parts(update)[-1]))

        return on_live(self.section.id, self.state(prompt, mode), step)

    def rated_typed(self, prompt: Prompt, mode: str) -> Step:
        async def step(update: Update, context: BotContext) -> State:
            text = text_of(update)
            rating = parse_rating(text)
            if rating is None:
                # "11" hears that it is above 10, "7.5" that it needs a whole number.
                await send(update, t(rating_problem(text) or "input.rating_unreadable"))
                return await self.again(update, context, prompt, mode)
            return await self.rated(update, context, prompt, mode, rating)

        return step

    async def rated(
        self, update: Update, context: BotContext, prompt: Prompt, mode: str, rating: int
    ) -> State:
        async def write(unit: Unit) -> None:
            # No message id: editing "7" into something else must not change a stored number.
            await unit.save_answer(prompt.key, str(rating))

        return await self.answered(update, context, prompt, mode, str(rating), write)

    def skip(self, prompt: Prompt, mode: str) -> Step:
        async def step(update: Update, context: BotContext) -> State:
            await acknowledge(update, t("common.skipped"))
            answers = await self.answers(update, context)
            if mode == OVER and answers.get(prompt.key):
                # Walking again, Skip passes over a prompt; what was written stays.
                return await self.answered(update, context, prompt, mode, None, None)

            async def write(unit: Unit) -> None:
                await unit.skip_answer(prompt.key)

            return await self.answered(update, context, prompt, mode, None, write)

        return on_live(self.section.id, self.state(prompt, mode), step)

    def keep(self, prompt: Prompt, mode: str) -> Step:
        async def step(update: Update, context: BotContext) -> State:
            await acknowledge(update, t("common.prompts.kept"))
            return await self.answered(update, context, prompt, mode, None, None)

        return on_live(self.section.id, self.state(prompt, mode), step)

    def wrong(self, prompt: Prompt, mode: str) -> Step:
        """A message the prompt cannot take: says what it takes, and asks again."""

        async def step(update: Update, context: BotContext) -> State:
            if prompt.kind is ItemKind.TEXT:
                await expect_text(update, context)
            elif prompt.kind is ItemKind.RATING:
                await send(update, t("common.prompts.bad_rating"))
            else:
                await expect_buttons(update, context)
            return await self.again(update, context, prompt, mode)

        return step

    async def again(self, update: Update, context: BotContext, prompt: Prompt, mode: str) -> State:
        """Asks the same prompt again; the earlier copy loses its buttons."""
        answers = await self.answers(update, context)
        await self.ask(update, context, prompt, mode, answers.get(prompt.key))
        return self.state(prompt, mode)

    # Wiring ----------------------------------------------------------------------------------

    def handlers(self, prompt: Prompt, mode: str) -> list[BaseHandler[Update, Any, Any]]:
        short = self.short(prompt)
        out: list[BaseHandler[Update, Any, Any]] = []
        if prompt.kind is ItemKind.YES_NO:
            out.append(self.button(self.picked(prompt, mode), "pick", re.escape(short), YES_OR_NO))
            out.append(MessageHandler(NEW_TEXT, stops(self.said_yes_no(prompt, mode))))
        elif prompt.kind is ItemKind.RATING:
            rate = self.rated_button(prompt, mode)
            out.append(self.button(rate, "rate", re.escape(short), RATING))
            out.append(MessageHandler(NEW_TEXT, stops(self.rated_typed(prompt, mode))))
        else:
            out.append(MessageHandler(NEW_TEXT, stops(self.written(prompt, mode))))
        out += [
            self.button(self.skip(prompt, mode), "skip", re.escape(f"{mode}.{short}")),
            self.button(self.keep(prompt, mode), "keep", re.escape(short)),
            self.button(self.later, "later"),
            MessageHandler(NEW_TEXT | NEW_NOT_TEXT, stops(self.wrong(prompt, mode))),
        ]
        return out

    def button(self, step: Step, action: str, *parts: str) -> CallbackQueryHandler[Any, Any]:
        return CallbackQueryHandler(stops(step), pattern=self.cb.pattern(action, *parts))

    def build(self) -> ConversationHandler[Any]:
        """The section's ConversationHandler."""
        s = self.section.id
        states: dict[object, list[BaseHandler[Update, Any, Any]]] = {
            f"{s}.choose": [
                self.button(self.resume, "continue"),
                self.button(self.revisit, "revisit"),
                self.button(self.start_over, "over"),
                self.button(self.later, "later"),
            ],
        }
        for prompt in self.section.prompts():
            for mode in MODES:
                states[self.state(prompt, mode)] = self.handlers(prompt, mode)
            # Before the worksheet was data, /finish stored a waiting prompt's place as its
            # answer key ("finish.trust"); such places still resume.
            states.setdefault(prompt.key, self.handlers(prompt, ASK))
        return section_handler(
            s,
            entry_points=[
                CommandHandler(self.section.command, stops(self.enter), UpdateType.MESSAGE),
                CallbackQueryHandler(stops(self.enter), pattern=MENU.pattern(s)),
            ],
            states=states,
        )


async def maybe_offer(update: Update, context: BotContext) -> None:
    """Offers, once, each section whose `offer` rule is due (after a chart entry is saved)."""
    user = update.effective_user
    if user is None:
        return
    for section in worksheet().sections:
        if section.offer is None:
            continue
        standing = await context.store.standing(user.id, f"{section.id}.", section.offered_key)
        person = await person_of(update, context)
        if standing is None or person is None:
            return
        if standing.marked or standing.answered:
            continue
        today = local_today(person.timezone)
        if not section.offer.due(standing.entries, standing.first_date, today):
            continue
        try:
            async with context.store.unit(user.id) as unit:
                await unit.mark(section.offered_key)
        except PersonMissing:
            return
        await send(
            update,
            t(f"{section.id}.offer"),
            keyboard([(t(f"{section.id}.offer_button"), MENU(section.id))]),
        )
