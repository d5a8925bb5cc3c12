"""/checklist: "Are you holding back?" eight statements toggled in one message, saved per tap."""

from __future__ import annotations

from pathlib import Path

from conversations.engines.toggles import Toggles
from conversations.worksheet.content import Html, items, t
from conversations.worksheet.current import worksheet
from tests.botproc import BotProcess
from tests.e2e.helpers import begin, checked, marks, stored
from tests.fake_telegram import BotMessage, FakeUser

TOGGLE = "checklist:toggle:{}"


def open_checklist(user: FakeUser, first: str = "checklist.intro") -> BotMessage:
    """/checklist; checks the first message and returns the statements message."""
    mark = user.mark()
    user.command("checklist")
    intro, statements = user.wait_replies(mark, 2)
    assert intro.html == t(first)
    assert statements.html == Toggles(worksheet().section("checklist")).text()
    return statements


def toggle(user: FakeUser, message: BotMessage, number: int) -> BotMessage:
    """Taps one statement and returns the message as redrawn."""
    mark = user.mark()
    user.press(TOGGLE.format(number), message)
    return user.wait_for(lambda m: m.message_id == message.message_id, after=mark)


def test_statements_are_checked_in_place_and_done_shows_the_follow_up(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    begin(user)
    statements = open_checklist(user)
    labels = statements.button_labels
    assert len([d for row in statements.buttons for _, d in row if "toggle" in d]) == 8
    assert t("common.done") in labels and t("common.not_now") in labels
    assert checked(statements) == []

    assert checked(toggle(user, statements, 1)) == [1]
    assert stored(data_dir, user, "checklist.") == {"checklist.selected": "1"}
    redrawn = toggle(user, statements, 4)
    assert checked(redrawn) == [1, 4]
    assert (
        redrawn.html == Toggles(worksheet().section("checklist")).text()
    )  # the same message, only its keyboard changed
    assert stored(data_dir, user, "checklist.") == {"checklist.selected": "1,4"}

    mark = user.mark()
    user.press("checklist:done", statements)
    user.wait_for(lambda m: m.html == t("checklist.next"), after=mark)
    sent = [e.html for e in user.events(mark) if e.event == "new"]
    # What was ticked, each with its number and full title, then the seed's follow-up.
    ticked = t(
        "checklist.ticked",
        statements=Html(
            "\n".join(
                t(
                    "checklist.ticked_item",
                    number=n,
                    title=items("checklist.items")[n - 1]["title"].rstrip("."),
                )
                for n in (1, 4)
            )
        ),
    )
    assert "1. Limited Disclosure" in ticked and "4. Resistance to Feedback" in ticked
    assert sent == [ticked, *items("checklist.followup"), t("checklist.next")]
    assert stored(data_dir, user, "checklist.") == {"checklist.selected": "1,4"}
    assert marks(data_dir, user, "checklist.") == {"checklist.done"}
    closed = next(m for m in user.messages() if m.message_id == statements.message_id)
    assert closed.buttons == []


def test_quick_taps_end_in_the_right_state(bot: BotProcess, user: FakeUser, data_dir: Path) -> None:
    begin(user)
    statements = open_checklist(user)
    mark = user.mark()
    for number in (2, 2, 3, 7, 7, 7):
        user.press(TOGGLE.format(number), statements)
    user.fake.wait_idle()
    user.wait_replies(mark, 6)
    assert stored(data_dir, user, "checklist.") == {"checklist.selected": "3,7"}
    assert checked(user.events(mark)[-1]) == [3, 7]


def test_done_with_nothing_checked_gets_a_kind_word(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    begin(user)
    statements = open_checklist(user)
    mark = user.mark()
    user.press("checklist:done", statements)
    user.wait_for(lambda m: m.html == t("checklist.next"), after=mark)
    sent = [e.html for e in user.events(mark) if e.event == "new"]
    assert sent == [t("checklist.none"), t("checklist.next")]
    assert stored(data_dir, user, "checklist.") == {"checklist.selected": ""}
    assert marks(data_dir, user, "checklist.") == {"checklist.done"}


def test_not_now_keeps_choices_and_a_later_visit_shows_and_changes_them(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    begin(user)
    statements = open_checklist(user)
    toggle(user, statements, 5)
    toggle(user, statements, 8)
    mark = user.mark()
    user.press("checklist:later", statements)
    assert user.wait_for(lambda m: m.event == "new", after=mark).html == t("common.later")
    assert stored(data_dir, user, "checklist.") == {"checklist.selected": "5,8"}

    again = open_checklist(user, first="checklist.again")
    assert checked(again) == [5, 8]
    assert checked(toggle(user, again, 5)) == [8]
    assert stored(data_dir, user, "checklist.") == {"checklist.selected": "8"}

    mark = user.mark()
    user.press("checklist:done", again)
    user.wait_for(lambda m: m.html == t("checklist.next"), after=mark)
    assert items("checklist.followup")[0] in [e.html for e in user.events(mark)]

    # After Done, a visit still shows what was chosen.
    assert checked(open_checklist(user, first="checklist.again")) == [8]


def test_typing_or_a_sticker_asks_for_the_buttons(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    begin(user)
    open_checklist(user)
    for send in (lambda: user.send("1 and 4"), user.send_sticker):
        mark = user.mark()
        send()
        assert user.wait_reply(mark).html == t("common.expect_buttons")
    assert stored(data_dir, user, "checklist.") == {}


def test_a_button_from_an_older_list_is_out_of_date(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    begin(user)
    old = open_checklist(user)
    new = open_checklist(user, first="checklist.intro")

    callback = user.press(TOGGLE.format(3), old)
    assert user.wait_callback_answer(callback).text == t("errors.stale_button")
    callback = user.press("checklist:done", old)
    assert user.wait_callback_answer(callback).text == t("errors.stale_button")
    assert stored(data_dir, user, "checklist.") == {}

    # Outside the section, the list's buttons are out of date too.
    mark = user.mark()
    user.command("menu")
    user.wait_for(lambda m: m.html == t("menu.title"), after=mark)
    callback = user.press(TOGGLE.format(3), new)
    assert user.wait_callback_answer(callback).text == t("errors.stale_button")
    assert stored(data_dir, user, "checklist.") == {}


def test_a_restart_keeps_the_place_and_the_choices(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    begin(user)
    statements = open_checklist(user)
    toggle(user, statements, 1)
    bot.kill()
    bot.start().wait_ready()

    assert checked(toggle(user, statements, 6)) == [1, 6]
    assert stored(data_dir, user, "checklist.") == {"checklist.selected": "1,6"}
    mark = user.mark()
    user.send("done")
    assert user.wait_reply(mark).html == t("common.expect_buttons")
