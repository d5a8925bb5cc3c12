"""/finish: looking back after the chart, and the one gentle offer of it after /log."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from conversations.worksheet.content import t
from storage import Store
from tests.botproc import BotProcess
from tests.e2e.helpers import begin, new_messages, stored, with_store
from tests.fake_telegram import BotMessage, FakeUser

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
    return user.wait_for(lambda m: m.event == "new" and m.html == t(key), after=mark)


def start_finish(user: FakeUser) -> BotMessage:
    """/finish the first time: the intro, then the trust prompt (returned)."""
    mark = user.mark()
    user.command("finish")
    intro, prompt = user.wait_replies(mark, 2)
    assert intro.html == t("finish.intro")
    assert prompt.html == t("finish.trust_prompt")
    return prompt


def skip(user: FakeUser, name: str, next_key: str) -> BotMessage:
    """Taps Skip on a prompt and waits for the next message."""
    return reply_to(user, lambda: user.press(f"finish:skip:{name}"), next_key)


def test_every_part_answered(bot: BotProcess, user: FakeUser, data_dir: Path) -> None:
    begin(user)
    trust = start_finish(user)
    assert trust.button_labels == [t("common.skip"), t("common.not_now")]

    surprise = reply_to(
        user, lambda: user.send("Mostly <yes>, she listens."), "finish.surprise_prompt"
    )
    assert surprise.button_labels == [
        t("finish.yes"),
        t("finish.no"),
        t("common.skip"),
        t("common.not_now"),
    ]
    reply_to(user, lambda: user.press(t("finish.yes"), surprise), "finish.detail_prompt")
    helpful = reply_to(
        user, lambda: user.send("How much the chart showed me."), "finish.helpful_prompt"
    )
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
    surprise = reply_to(user, lambda: user.send("Yes."), "finish.surprise_prompt")
    reply_to(user, lambda: user.press(t("finish.no"), surprise), "finish.helpful_prompt")
    reply_to(user, lambda: user.send(" 10 "), "finish.done")
    assert stored(data_dir, user, "finish.") == {TRUST: "Yes.", SURPRISE: "no", HELPFUL: "10"}


def test_skipped_parts_can_be_answered_later(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    begin(user)
    start_finish(user)
    skip(user, "trust", "finish.surprise_prompt")
    skip(user, "surprise", "finish.helpful_prompt")
    mark = user.mark()
    user.press("finish:skip:helpful")
    done = user.wait_for(lambda m: m.event == "new", after=mark)
    assert done.html == t("finish.done_with_skips", count=3)
    assert t("common.skipped") in [a.text for a in user.callback_answers()]
    assert stored(data_dir, user, "finish.") == {TRUST: None, SURPRISE: None, HELPFUL: None}

    choice = reply_to(user, lambda: user.command("finish"), "finish.revisit")
    reply_to(user, lambda: user.press(t("finish.revisit_button"), choice), "finish.trust_prompt")
    surprise = reply_to(user, lambda: user.send("Not yet."), "finish.surprise_prompt")
    reply_to(user, lambda: user.press(t("finish.yes"), surprise), "finish.detail_prompt")
    helpful = reply_to(user, lambda: user.send("That it changed."), "finish.helpful_prompt")
    reply_to(user, lambda: user.press("3", helpful), "finish.done")
    assert stored(data_dir, user, "finish.") == {
        TRUST: "Not yet.",
        SURPRISE: "yes",
        DETAIL: "That it changed.",
        HELPFUL: "3",
    }


@pytest.mark.parametrize("bad", ["11", "0", "seven", "7.5", "٧", "-3"])
def test_a_bad_rating_gets_a_kind_word_and_the_prompt_again(
    bot: BotProcess, user: FakeUser, data_dir: Path, bad: str
) -> None:
    begin(user)
    start_finish(user)
    skip(user, "trust", "finish.surprise_prompt")
    skip(user, "surprise", "finish.helpful_prompt")
    for send in (lambda: user.send(bad), user.send_photo):
        mark = user.mark()
        send()
        replies = user.wait_replies(mark, 2)
        assert [m.html for m in replies] == [t("finish.bad_rating"), t("finish.helpful_prompt")]
    assert HELPFUL not in stored(data_dir, user, "finish.")
    mark = user.mark()
    user.send("7")
    assert user.wait_reply(mark).html == t("finish.done_with_skips", count=2)
    assert stored(data_dir, user, "finish.")[HELPFUL] == "7"


def test_wrong_kinds_of_answer(bot: BotProcess, user: FakeUser, data_dir: Path) -> None:
    begin(user)
    start_finish(user)
    mark = user.mark()
    user.send_sticker()
    replies = user.wait_replies(mark, 2)
    assert [m.html for m in replies] == [t("common.expect_text"), t("finish.trust_prompt")]
    assert stored(data_dir, user, "finish.") == {}

    reply_to(user, lambda: user.send("Somewhat."), "finish.surprise_prompt")
    reply_to(user, lambda: user.send("yes"), "common.expect_buttons")
    reply_to(user, user.send_voice, "common.expect_buttons")
    assert stored(data_dir, user, "finish.") == {TRUST: "Somewhat."}


def test_not_now_then_continue_or_start_over(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    begin(user)
    start_finish(user)
    surprise = reply_to(user, lambda: user.send("I think so."), "finish.surprise_prompt")
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
    surprise = reply_to(
        user, lambda: user.press(t("common.continue"), choice), "finish.surprise_prompt"
    )
    reply_to(user, lambda: user.press(t("common.not_now"), surprise), "common.later")

    choice = reply_to(user, lambda: user.command("finish"), "finish.resume")
    reply_to(user, lambda: user.press(t("common.start_over"), choice), "finish.trust_prompt")
    assert stored(data_dir, user, "finish.") == {}


def test_a_button_from_an_earlier_prompt_is_out_of_date(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    begin(user)
    trust = start_finish(user)
    reply_to(user, lambda: user.send("Yes, mostly."), "finish.surprise_prompt")
    callback = user.press("finish:skip:trust", trust)
    assert user.wait_callback_answer(callback).text == t("errors.stale_button")
    callback = user.press(t("common.not_now"), trust)
    # Not now still works from any prompt of this section: it only leaves.
    assert user.wait_callback_answer(callback).text is None
    assert stored(data_dir, user, "finish.") == {TRUST: "Yes, mostly."}


def test_a_restart_takes_the_next_message_as_the_answer(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    begin(user)
    start_finish(user)
    surprise = reply_to(user, lambda: user.send("Yes."), "finish.surprise_prompt")
    reply_to(user, lambda: user.press(t("finish.yes"), surprise), "finish.detail_prompt")
    bot.kill()
    bot.start().wait_ready()
    reply_to(user, lambda: user.send("How slowly trust grew."), "finish.helpful_prompt")
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
    mark = user.mark()
    user.command("log")
    user.wait_for(lambda m: m.has_button(t("log.today_button")), after=mark)
    mark = user.mark()
    user.send(day.isoformat())
    for step in ("topic", "trust", "safety", "role"):
        prompt = user.wait_for(lambda m, s=step: f"log:skip:{s}" in str(m.buttons), after=mark)
        mark = user.mark()
        user.press(f"log:skip:{step}", prompt)
    confirmed = user.wait_for(lambda m: "log:another" in str(m.buttons), after=mark)
    user.command("help")
    user.wait_for(lambda m: m.html == t("help.text"), after=mark)
    after = [m for m in new_messages(user, confirmed.seq - 1) if m.seq > confirmed.seq]
    return [m for m in after if m.html != t("help.text")]


def offers(messages: list[BotMessage]) -> list[BotMessage]:
    """The offers of /finish among some messages."""
    return [m for m in messages if m.html == t("finish.offer")]


def test_finish_is_offered_once_when_twelve_weeks_have_passed(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    begin(user)
    today = dt.datetime.now(dt.UTC).date()
    assert offers(log_session(user, today - dt.timedelta(weeks=12) + dt.timedelta(days=2))) == []
    assert OFFERED not in stored(data_dir, user, "finish.")

    offered = offers(log_session(user, today - dt.timedelta(weeks=12, days=1)))
    assert len(offered) == 1
    assert offered[0].buttons == [[(t("finish.offer_button"), "menu:finish")]]
    assert stored(data_dir, user, "finish.") == {OFFERED: "1"}

    assert offers(log_session(user, today)) == []

    # The button opens /finish; starting over there does not bring the offer back.
    reply_to(user, lambda: user.press("menu:finish", offered[0]), "finish.trust_prompt")
    reply_to(user, lambda: user.send("Yes."), "finish.surprise_prompt")
    choice = reply_to(user, lambda: user.command("finish"), "finish.resume")
    reply_to(user, lambda: user.press(t("common.start_over"), choice), "finish.trust_prompt")
    assert stored(data_dir, user, "finish.") == {OFFERED: "1"}


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
    assert stored(data_dir, user, "finish.") == {OFFERED: "1"}


def test_no_offer_once_finish_was_begun(bot: BotProcess, user: FakeUser, data_dir: Path) -> None:
    begin(user)
    start_finish(user)
    skip(user, "trust", "finish.surprise_prompt")
    reply_to(user, lambda: user.command("menu"), "menu.title")
    today = dt.datetime.now(dt.UTC).date()
    assert offers(log_session(user, today - dt.timedelta(weeks=13))) == []
    assert OFFERED not in stored(data_dir, user, "finish.")
