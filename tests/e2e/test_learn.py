"""/learn: "What to Know" read a page at a time in one message, with Next / Back and Not now."""

from __future__ import annotations

from pathlib import Path

from conversations.worksheet.content import t
from tests.botproc import BotProcess
from tests.e2e.helpers import begin, current_message, marks, stored
from tests.fake_telegram import BotMessage, FakeUser
from tests.worksheet import learn_pages

PAGES = learn_pages()
COUNT = len(PAGES)


def page_text(number: int) -> str:
    """The text of one page as the bot shows it."""
    return f"{t('learn.progress', number=number, total=COUNT)}\n\n{PAGES[number - 1]}"


def open_learn(user: FakeUser) -> BotMessage:
    """/learn from the beginning; returns the page message."""
    mark = user.mark()
    user.command("learn")
    return user.wait_for(lambda m: m.html == page_text(1), after=mark)


def turn(user: FakeUser, message: BotMessage, action: str, number: int) -> BotMessage:
    """Presses Next or Back on page `number` and returns the message as redrawn."""
    mark = user.mark()
    user.press(f"learn:{action}:{number}", message)
    return user.wait_for(lambda m: m.message_id == message.message_id, after=mark)


def to_page(user: FakeUser, message: BotMessage, number: int) -> BotMessage:
    """Presses Next from page 1 until page `number` shows."""
    for current in range(1, number):
        message = turn(user, message, "next", current)
    assert message.html == page_text(number)
    return message


def test_pages_turn_in_place_and_the_end_is_stored(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    begin(user)
    first = open_learn(user)
    assert first.button_labels == [t("common.next"), t("common.not_now")]
    assert t("common.skip") not in first.button_labels

    mark = user.mark()
    second = turn(user, first, "next", 1)
    assert second.html == page_text(2)
    assert second.button_labels == [t("common.back"), t("common.next"), t("common.not_now")]
    assert turn(user, second, "back", 2).html == page_text(1)
    assert stored(data_dir, user, "learn.") == {}

    last = to_page(user, first, COUNT)
    assert [e for e in user.events(mark) if e.event == "new"] == []  # all edits of one message
    assert last.button_labels == [t("common.back"), t("common.done"), t("common.not_now")]
    assert marks(data_dir, user, "learn.done") == {"learn.done"}

    mark = user.mark()
    user.press(t("common.done"), last)
    user.wait_for(lambda m: m.html == t("learn.closing"), after=mark)
    assert current_message(user, last.message_id).buttons == []
    assert marks(data_dir, user, "learn.done") == {"learn.done"}

    # Read to the end: the next visit starts from the first page again.
    assert open_learn(user).html == page_text(1)


def test_not_now_keeps_the_page_for_next_time(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    begin(user)
    page = to_page(user, open_learn(user), 3)

    mark = user.mark()
    user.press(t("common.not_now"), page)
    user.wait_for(lambda m: m.html == t("learn.later"), after=mark)
    assert current_message(user, page.message_id).buttons == []
    assert stored(data_dir, user, "learn.") == {}

    mark = user.mark()
    user.command("learn")
    offer = user.wait_for(lambda m: m.html == t("learn.resume", number=3, total=COUNT), after=mark)
    assert offer.button_labels == [
        t("common.continue"),
        t("learn.from_start"),
        t("common.not_now"),
    ]
    mark = user.mark()
    user.press(t("common.continue"), offer)
    resumed = user.wait_for(lambda m: m.html == page_text(3), after=mark)
    assert turn(user, resumed, "next", 3).html == page_text(4)

    user.command("menu")
    mark = user.mark()
    user.command("learn")
    offer = user.wait_for(lambda m: m.html == t("learn.resume", number=4, total=COUNT), after=mark)
    mark = user.mark()
    user.press(t("learn.from_start"), offer)
    again = user.wait_for(lambda m: m.html == page_text(1), after=mark)
    assert again.message_id != resumed.message_id


def test_leaving_by_a_command_keeps_the_page_and_old_buttons_are_out_of_date(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    begin(user)
    page = to_page(user, open_learn(user), 2)

    mark = user.mark()
    user.command("menu")
    user.wait_for(lambda m: m.html == t("menu.title"), after=mark)
    pressed = user.press("learn:next:2", page)
    assert user.wait_callback_answer(pressed).text == t("errors.stale_button")
    assert current_message(user, page.message_id).html == page_text(2)

    mark = user.mark()
    user.command("learn")
    offer = user.wait_for(lambda m: m.html == t("learn.resume", number=2, total=COUNT), after=mark)
    assert current_message(user, page.message_id).buttons == []  # old page closed

    # The offer is left by a command and made again: the first offer's buttons are stale,
    # even though the conversation waits for the very same choice.
    user.command("cancel")
    mark = user.mark()
    user.command("learn")
    new_offer = user.wait_for(lambda m: m.html == offer.html, after=mark)
    pressed = user.press(t("common.continue"), offer)
    assert user.wait_callback_answer(pressed).text == t("errors.stale_button")
    mark = user.mark()
    user.press(t("common.continue"), new_offer)
    assert user.wait_for(lambda m: m.html == page_text(2), after=mark).message_id not in (
        page.message_id,
        offer.message_id,
    )


def test_messages_while_reading_point_to_the_buttons(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    begin(user)
    page = open_learn(user)
    for send in (lambda: user.send("what next?"), user.send_sticker):
        mark = user.mark()
        send()
        assert user.wait_reply(mark).html == t("common.expect_buttons")
    assert turn(user, page, "next", 1).html == page_text(2)
    assert stored(data_dir, user, "learn.") == {}


def test_restart_keeps_the_page(bot: BotProcess, user: FakeUser, data_dir: Path) -> None:
    begin(user)
    page = to_page(user, open_learn(user), COUNT - 1)
    bot.kill()
    bot.start().wait_ready()
    last = turn(user, page, "next", COUNT - 1)
    assert last.html == page_text(COUNT)
    assert marks(data_dir, user, "learn.done") == {"learn.done"}
