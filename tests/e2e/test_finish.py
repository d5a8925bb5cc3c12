"""/finish: looking back after the chart, and the one gentle offer of it after /log."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from conversations.sections.start import help_text as help_words
from conversations.worksheet.content import t
from conversations.worksheet.parsing import rating_problem
from conversations.worksheet.words import prompt_text
from storage import Store
from tests.botproc import BotProcess
from tests.e2e.helpers import (
    begin,
    marks,
    new_messages,
    news,
    reply,
    stored,
    to_the_date,
    with_store,
)
from tests.fake_telegram import BotMessage, FakeUser
from tests.worksheet import chat

TRUST = "finish.trust"
SURPRISE = "finish.surprise"
DETAIL = "finish.surprise_detail"
HELPFUL = "finish.helpful"
OFFERED = "finish.offered"


def reply_to(user: FakeUser, act: object, key: str) -> BotMessage:
    """Does something (a callable) and waits for the message with one content key."""
    mark = user.mark()
    assert callable(act)
    act()
    return user.wait_for(lambda m: m.event == "new" and m.html == chat(key), after=mark)


def start_finish(user: FakeUser) -> BotMessage:
    """/finish the first time: the intro, then the trust prompt (returned)."""
    mark = user.mark()
    user.command("finish")
    intro, prompt = user.wait_replies(mark, 2)
    assert intro.html == t("finish.intro")
    assert prompt.html == prompt_text("finish.trust")
    return prompt


def skip(user: FakeUser, name: str, next_key: str) -> BotMessage:
    """Taps Skip on a prompt and waits for the next message."""
    return reply_to(user, lambda: user.press(f"finish:skip:ask.{name}"), next_key)


def test_every_part_answered(bot: BotProcess, user: FakeUser, data_dir: Path) -> None:
    begin(user)
    trust = start_finish(user)
    assert trust.button_labels == [t("common.skip"), t("common.not_now")]

    surprise = reply_to(user, lambda: user.send("Mostly <yes>, she listens."), "finish.surprise")
    assert surprise.button_labels == [
        t("common.yes"),
        t("common.no"),
        t("common.skip"),
        t("common.not_now"),
    ]
    reply_to(user, lambda: user.press(t("common.yes"), surprise), "finish.surprise_detail")
    helpful = reply_to(user, lambda: user.send("How much the chart showed me."), "finish.helpful")
    assert helpful.button_labels == [
        *(str(n) for n in range(1, 11)),
        t("common.skip"),
        t("common.not_now"),
    ]
    reply_to(user, lambda: user.press("8", helpful), "finish.done")
    assert stored(data_dir, user, "finish.") == {
        TRUST: "Mostly <yes>, she listens.",
        SURPRISE: "yes",
        DETAIL: "How much the chart showed me.",
        HELPFUL: "8",
    }

    again = reply_to(user, lambda: user.command("finish"), "finish.complete")
    assert again.button_labels == [t("common.start_over"), t("common.not_now")]


def test_no_surprise_goes_straight_to_the_rating_which_can_be_typed(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    begin(user)
    start_finish(user)
    surprise = reply_to(user, lambda: user.send("Yes."), "finish.surprise")
    reply_to(user, lambda: user.press(t("common.no"), surprise), "finish.helpful")
    reply_to(user, lambda: user.send(" 10 "), "finish.done")
    assert stored(data_dir, user, "finish.") == {TRUST: "Yes.", SURPRISE: "no", HELPFUL: "10"}


def test_skipped_parts_can_be_answered_later(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    begin(user)
    start_finish(user)
    skip(user, "trust", "finish.surprise")
    skip(user, "surprise", "finish.helpful")
    mark = user.mark()
    user.press("finish:skip:ask.helpful")
    done = user.wait_for(lambda m: m.event == "new", after=mark)
    assert done.html == t("finish.done_with_skips", count=3)
    assert t("common.skipped") in [a.text for a in user.callback_answers()]
    assert stored(data_dir, user, "finish.") == {TRUST: None, SURPRISE: None, HELPFUL: None}

    choice = reply_to(user, lambda: user.command("finish"), "finish.revisit")
    reply_to(user, lambda: user.press(t("common.prompts.revisit_button"), choice), "finish.trust")
    surprise = reply_to(user, lambda: user.send("Not yet."), "finish.surprise")
    reply_to(user, lambda: user.press(t("common.yes"), surprise), "finish.surprise_detail")
    helpful = reply_to(user, lambda: user.send("That it changed."), "finish.helpful")
    reply_to(user, lambda: user.press("3", helpful), "finish.done")
    assert stored(data_dir, user, "finish.") == {
        TRUST: "Not yet.",
        SURPRISE: "yes",
        DETAIL: "That it changed.",
        HELPFUL: "3",
    }


@pytest.mark.parametrize("bad", ["11", "0", "purple", "7.5", "٧", "-3"])
def test_a_bad_rating_gets_a_kind_word_and_the_prompt_again(
    bot: BotProcess, user: FakeUser, data_dir: Path, bad: str
) -> None:
    begin(user)
    start_finish(user)
    skip(user, "trust", "finish.surprise")
    skip(user, "surprise", "finish.helpful")
    why = t(rating_problem(bad) or "?")  # typed: why it is not a rating ("above 10")
    for send, said in ((lambda: user.send(bad), why), (user.send_photo, None)):
        earlier = user.messages()[-1]
        replies = news(user, send, 2)
        assert [m.html for m in replies] == [
            said or t("common.prompts.bad_rating"),
            prompt_text("finish.helpful"),
        ]
        # The prompt asked again replaces the one before: only the newest has buttons.
        before = next(m for m in user.messages() if m.message_id == earlier.message_id)
        assert before.buttons == [] and replies[1].buttons
    assert HELPFUL not in stored(data_dir, user, "finish.")
    assert reply(user, lambda: user.send("7")).html == t("finish.done_with_skips", count=2)
    assert stored(data_dir, user, "finish.")[HELPFUL] == "7"


def test_a_yes_or_no_can_be_typed_in_any_language_the_bot_speaks(
    bot: BotProcess, user: FakeUser, user2: FakeUser, data_dir: Path
) -> None:
    begin(user)
    start_finish(user)
    reply_to(user, lambda: user.send("Mostly."), "finish.surprise")
    reply_to(user, lambda: user.send("Nope"), "finish.helpful")
    assert stored(data_dir, user, "finish.")[SURPRISE] == "no"
    reply_to(user, lambda: user.send("8"), "finish.done")
    # Someone else's "Ja!" is a yes, and its description is asked next.
    begin(user2)
    start_finish(user2)
    reply_to(user2, lambda: user2.send("Yes, more."), "finish.surprise")
    reply_to(user2, lambda: user2.send("Ja!"), "finish.surprise_detail")
    assert stored(data_dir, user2, "finish.")[SURPRISE] == "yes"


def test_wrong_kinds_of_answer(bot: BotProcess, user: FakeUser, data_dir: Path) -> None:
    begin(user)
    start_finish(user)
    replies = news(user, user.send_sticker, 2)
    assert [m.html for m in replies] == [t("common.expect_text"), prompt_text("finish.trust")]
    assert stored(data_dir, user, "finish.") == {}

    reply_to(user, lambda: user.send("Somewhat."), "finish.surprise")
    reply_to(user, lambda: user.send("kind of"), "common.expect_buttons")  # not a yes or no
    reply_to(user, user.send_voice, "common.expect_buttons")
    assert stored(data_dir, user, "finish.") == {TRUST: "Somewhat."}


def test_not_now_then_continue_or_start_over(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    begin(user)
    start_finish(user)
    surprise = reply_to(user, lambda: user.send("I think so."), "finish.surprise")
    reply_to(user, lambda: user.press(t("common.not_now"), surprise), "common.later")
    # The section is left: a message is no longer taken as an answer.
    reply_to(user, lambda: user.send("hello"), "errors.not_understood")
    assert stored(data_dir, user, "finish.") == {TRUST: "I think so."}

    choice = reply_to(user, lambda: user.command("finish"), "finish.resume")
    assert choice.button_labels == [
        t("common.continue"),
        t("common.start_over"),
        t("common.not_now"),
    ]
    surprise = reply_to(user, lambda: user.press(t("common.continue"), choice), "finish.surprise")
    reply_to(user, lambda: user.press(t("common.not_now"), surprise), "common.later")

    # Starting over erases nothing: each prompt comes with the earlier answer and Keep.
    choice = reply_to(user, lambda: user.command("finish"), "finish.resume")
    again = reply(user, lambda: user.press(t("common.start_over"), choice))
    assert again.html.startswith(prompt_text("finish.trust"))
    assert "I think so." in again.text
    assert again.button_labels == [t("common.prompts.keep"), t("common.skip"), t("common.not_now")]
    assert stored(data_dir, user, "finish.") == {TRUST: "I think so."}
    surprise = reply(user, lambda: user.press(t("common.prompts.keep"), again))
    assert surprise.html == prompt_text("finish.surprise")
    assert stored(data_dir, user, "finish.") == {TRUST: "I think so."}
    # Answered anew, only that answer changes.
    reply(user, lambda: user.press(t("common.no"), surprise))
    assert stored(data_dir, user, "finish.") == {TRUST: "I think so.", SURPRISE: "no"}


def test_a_button_from_an_earlier_prompt_is_out_of_date(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    begin(user)
    trust = start_finish(user)
    reply_to(user, lambda: user.send("Yes, mostly."), "finish.surprise")
    # Answered by typing, the prompt loses its buttons: nothing on it can change the answer.
    before = next(m for m in user.messages() if m.message_id == trust.message_id)
    assert before.buttons == []
    # A forged press of its old Skip is out of date and changes nothing.
    callback = user.press_data("finish:skip:ask.trust", trust)
    assert user.wait_callback_answer(callback).text == t("errors.stale_button")
    assert stored(data_dir, user, "finish.") == {TRUST: "Yes, mostly."}


def test_a_restart_takes_the_next_message_as_the_answer(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    begin(user)
    start_finish(user)
    surprise = reply_to(user, lambda: user.send("Yes."), "finish.surprise")
    reply_to(user, lambda: user.press(t("common.yes"), surprise), "finish.surprise_detail")
    bot.kill()
    bot.start().wait_ready()
    reply_to(user, lambda: user.send("How slowly trust grew."), "finish.helpful")
    assert stored(data_dir, user, "finish.") == {
        TRUST: "Yes.",
        SURPRISE: "yes",
        DETAIL: "How slowly trust grew.",
    }


# The offer after /log ------------------------------------------------------------------------


def log_session(user: FakeUser, day: dt.date) -> list[BotMessage]:
    """Logs one session through /log (typed date, every other step skipped).

    Returns what the bot sent after the entry was confirmed, up to the reply to a following
    /help (updates of one chat are handled in order, so nothing the entry triggers comes later).
    """
    to_the_date(user)
    mark = user.mark()
    user.send(day.isoformat())
    for step in ("topic", "trust", "safety", "role"):
        prompt = user.wait_for(lambda m, s=step: f"log:skip:{s}" in str(m.buttons), after=mark)
        mark = user.mark()
        user.press(f"log:skip:{step}", prompt)
    confirmed = user.wait_for(lambda m: "log:another" in str(m.buttons), after=mark)
    user.command("help")
    user.wait_for(lambda m: m.html == help_words(), after=mark)
    after = [m for m in new_messages(user, confirmed.seq - 1) if m.seq > confirmed.seq]
    return [m for m in after if m.html != help_words()]


def offers(messages: list[BotMessage]) -> list[BotMessage]:
    """The offers of /finish among some messages."""
    return [m for m in messages if m.html == t("finish.offer")]


def test_finish_is_offered_once_when_twelve_weeks_have_passed(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    begin(user)
    today = dt.datetime.now(dt.UTC).date()
    assert offers(log_session(user, today - dt.timedelta(weeks=12) + dt.timedelta(days=2))) == []
    assert OFFERED not in marks(data_dir, user, "finish.")

    offered = offers(log_session(user, today - dt.timedelta(weeks=12, days=1)))
    assert len(offered) == 1
    assert offered[0].buttons == [[(t("finish.offer_button"), "menu:finish")]]
    assert stored(data_dir, user, "finish.") == {}
    assert marks(data_dir, user, "finish.") == {OFFERED}

    assert offers(log_session(user, today)) == []

    # The button opens /finish; starting over there does not bring the offer back.
    reply_to(user, lambda: user.press("menu:finish", offered[0]), "finish.trust")
    reply_to(user, lambda: user.send("Yes."), "finish.surprise")
    choice = reply_to(user, lambda: user.command("finish"), "finish.resume")
    again = reply(user, lambda: user.press(t("common.start_over"), choice))
    assert again.html.startswith(prompt_text("finish.trust"))
    assert stored(data_dir, user, "finish.") == {TRUST: "Yes."}
    assert marks(data_dir, user, "finish.") == {OFFERED}


def test_finish_is_offered_after_the_twelfth_session(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    begin(user)
    today = dt.datetime.now(dt.UTC).date()

    async def seed(store: Store) -> None:
        async with store.unit(user.user_id) as unit:
            for back in range(1, 11):
                uid = await unit.new_session_entry(today - dt.timedelta(days=back))
                await unit.update_session_entry(uid, trust=5, complete=True)

    with_store(data_dir, seed)  # ten sessions in the last ten days
    assert offers(log_session(user, today)) == []  # the eleventh
    assert len(offers(log_session(user, today))) == 1  # the twelfth
    assert stored(data_dir, user, "finish.") == {}
    assert marks(data_dir, user, "finish.") == {OFFERED}


def test_no_offer_once_finish_was_begun(bot: BotProcess, user: FakeUser, data_dir: Path) -> None:
    begin(user)
    start_finish(user)
    skip(user, "trust", "finish.surprise")
    reply_to(user, lambda: user.command("menu"), "menu.title")
    today = dt.datetime.now(dt.UTC).date()
    assert offers(log_session(user, today - dt.timedelta(weeks=13))) == []
    assert OFFERED not in marks(data_dir, user, "finish.")
