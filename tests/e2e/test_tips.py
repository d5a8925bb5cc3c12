"""/tips: seven tips a page at a time in one message; "I'll try this" marks are kept."""

from __future__ import annotations

from pathlib import Path

from conversations.worksheet.content import items, t
from tests.botproc import BotProcess
from tests.e2e.helpers import begin, current_message, marks, stored
from tests.fake_telegram import BotMessage, FakeUser

TIPS = items("tips.items")
COUNT = len(TIPS)


def shows_tip(message: BotMessage, number: int) -> bool:
    """Whether a message shows tip `number` with its example."""
    tip = TIPS[number - 1]
    return (
        t("tips.progress", number=number, total=COUNT) in message.html
        and t("tips.tip", title=tip["title"], text=tip["text"]) in message.html
        and t("tips.example", example=tip["example"]) in message.html
    )


def is_marked(message: BotMessage) -> bool:
    """Whether a tip shows its check mark (on the button and in the text)."""
    marked = message.has_button(t("tips.unmark")) and t("tips.marked_note") in message.html
    unmarked = message.has_button(t("tips.mark")) and t("tips.marked_note") not in message.html
    assert marked != unmarked, message.describe()
    return marked


def open_tips(user: FakeUser) -> BotMessage:
    """/tips from the first tip: the intro, then the tip message, which is returned."""
    mark = user.mark()
    user.command("tips")
    intro, tip = user.wait_replies(mark, 2)
    assert intro.html == t("tips.intro")
    assert shows_tip(tip, 1)
    return tip


def press(user: FakeUser, message: BotMessage, action: str, number: int) -> BotMessage:
    """Presses a button of tip `number` and returns the message as redrawn."""
    mark = user.mark()
    user.press(f"tips:{action}:{number}", message)
    return user.wait_for(lambda m: m.message_id == message.message_id, after=mark)


def to_tip(user: FakeUser, message: BotMessage, number: int, start: int = 1) -> BotMessage:
    """Presses Next from tip `start` until tip `number` shows."""
    for current in range(start, number):
        message = press(user, message, "next", current)
    assert shows_tip(message, number)
    return message


def test_tips_are_marked_in_place_and_summed_up_at_the_end(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    begin(user)
    tip = open_tips(user)
    assert tip.button_labels == [t("tips.mark"), t("common.next"), t("common.not_now")]
    assert not is_marked(tip)

    tip = press(user, tip, "mark", 1)
    assert shows_tip(tip, 1) and is_marked(tip)
    assert stored(data_dir, user, "tips.") == {"tips.marked": "1"}

    tip = press(user, tip, "next", 1)
    assert shows_tip(tip, 2) and not is_marked(tip)
    assert tip.button_labels == [
        t("tips.mark"),
        t("common.back"),
        t("common.next"),
        t("common.not_now"),
    ]
    tip = press(user, tip, "mark", 2)
    assert is_marked(tip) and stored(data_dir, user, "tips.") == {"tips.marked": "1,2"}
    tip = press(user, tip, "mark", 2)
    assert not is_marked(tip) and stored(data_dir, user, "tips.") == {"tips.marked": "1"}
    tip = press(user, tip, "back", 2)
    assert shows_tip(tip, 1) and is_marked(tip)

    tip = to_tip(user, tip, 5)
    tip = press(user, tip, "mark", 5)
    assert "tips.done" not in marks(data_dir, user, "tips.done")
    tip = to_tip(user, tip, COUNT, start=5)
    assert stored(data_dir, user, "tips.") == {"tips.marked": "1,5"}
    assert marks(data_dir, user, "tips.done") == {"tips.done"}

    mark = user.mark()
    user.press(f"tips:next:{COUNT}", tip)
    closing, summary = user.wait_replies(mark, 3)[1:]
    assert closing.html == t("tips.closing")
    titles = [item["title"] for item in TIPS]
    shown = [title for title in titles if title in summary.html]
    assert shown == [titles[0], titles[4]]
    assert current_message(user, tip.message_id).buttons == []

    # Marks are shown again on a later visit, which starts from the first tip.
    tip = open_tips(user)
    assert is_marked(tip)
    tip = to_tip(user, tip, 5)
    assert is_marked(tip)


def test_summary_without_marks(bot: BotProcess, user: FakeUser, data_dir: Path) -> None:
    begin(user)
    tip = to_tip(user, open_tips(user), COUNT)
    mark = user.mark()
    user.press(f"tips:next:{COUNT}", tip)
    user.wait_for(lambda m: m.html == t("tips.summary_none"), after=mark)
    assert stored(data_dir, user, "tips.") == {}
    assert marks(data_dir, user, "tips.done") == {"tips.done"}


def test_not_now_then_continue_or_start_from_the_first_tip(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    begin(user)
    tip = press(user, to_tip(user, open_tips(user), 4), "mark", 4)

    mark = user.mark()
    user.press(t("common.not_now"), tip)
    user.wait_for(lambda m: m.html == t("tips.later"), after=mark)
    assert current_message(user, tip.message_id).buttons == []
    assert stored(data_dir, user, "tips.") == {"tips.marked": "4"}

    mark = user.mark()
    user.command("tips")
    offer = user.wait_for(lambda m: m.html == t("tips.resume", number=4, total=COUNT), after=mark)
    assert offer.button_labels == [
        t("common.continue"),
        t("tips.from_start"),
        t("common.not_now"),
    ]
    mark = user.mark()
    user.press(t("common.continue"), offer)
    tip = user.wait_for(lambda m: shows_tip(m, 4), after=mark)
    assert is_marked(tip)

    user.command("menu")
    mark = user.mark()
    user.command("tips")
    offer = user.wait_for(lambda m: m.html == t("tips.resume", number=4, total=COUNT), after=mark)
    mark = user.mark()
    user.press(t("tips.from_start"), offer)
    intro, first = user.wait_replies(mark, 3)[1:]  # after the offer's keyboard is closed
    assert intro.html == t("tips.intro") and shows_tip(first, 1)
    assert stored(data_dir, user, "tips.") == {"tips.marked": "4"}


def test_an_old_tip_message_is_out_of_date(bot: BotProcess, user: FakeUser, data_dir: Path) -> None:
    begin(user)
    tip = press(user, open_tips(user), "next", 1)

    mark = user.mark()
    user.command("menu")
    user.wait_for(lambda m: m.html == t("menu.title"), after=mark)
    pressed = user.press("tips:mark:2", tip)
    assert user.wait_callback_answer(pressed).text == t("errors.stale_button")
    assert stored(data_dir, user, "tips.") == {}
    assert not is_marked(current_message(user, tip.message_id))


def test_messages_where_buttons_are_expected(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    begin(user)
    tip = open_tips(user)
    for send in (lambda: user.send("I'll try it"), user.send_photo):
        mark = user.mark()
        send()
        assert user.wait_reply(mark).html == t("common.expect_buttons")
    assert stored(data_dir, user, "tips.") == {}
    assert is_marked(press(user, tip, "mark", 1))


def test_restart_mid_tips(bot: BotProcess, user: FakeUser, data_dir: Path) -> None:
    begin(user)
    tip = press(user, open_tips(user), "next", 1)
    bot.kill()
    bot.start().wait_ready()
    tip = press(user, tip, "mark", 2)
    assert shows_tip(tip, 2) and is_marked(tip)
    assert stored(data_dir, user, "tips.") == {"tips.marked": "2"}
