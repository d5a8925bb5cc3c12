"""The foundation, end to end: the real bot process against the fake Telegram server."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from conversations.sections.start import commands
from conversations.worksheet.content import t
from tests.botproc import BotProcess
from tests.conftest import TEST_TOKEN, BotFactory
from tests.e2e.helpers import begin, query, stored, wait_news
from tests.fake_telegram import FakeTelegram, FakeUser
from tests.worksheet import reflect_items

PRIVATE = {"type": "all_private_chats"}
CANARY = "canary-bright-orange-kettle-4411"


def _rows(data_dir: Path, table: str) -> int:
    [(count,)] = query(data_dir, f"SELECT count(*) FROM {table}")
    return int(str(count))


def test_start_shows_objective_privacy_and_agree_and_stores_nothing(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    mark = user.mark()
    user.command("start")
    welcome, privacy = user.wait_replies(mark, 2)
    assert "To increase trust and feelings of safety in therapy" in welcome.text
    assert "not end-to-end encrypted" in privacy.text
    assert "/export" in privacy.text and "/delete" in privacy.text and "/crisis" in privacy.text
    assert privacy.button_labels == [t("start.agree_button")]
    assert _rows(data_dir, "person") == 0

    mark = user.mark()
    user.command("reflect")
    assert user.wait_reply(mark).html == t("errors.before_consent")
    assert _rows(data_dir, "person") == 0


@pytest.mark.empty_database
def test_agreeing_stores_consent_with_its_version_and_shows_the_menu(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    begin(user)
    menu = user.last()
    labels = menu.button_labels
    for name in ("learn", "checklist", "tips", "reflect", "log", "review", "crisis"):
        assert t(f"menu.{name}") in labels
    rows = query(data_dir, "SELECT telegram_id, consent_version FROM person")
    events = query(data_dir, "SELECT kind FROM audit_event")
    assert rows == [(user.user_id, "1")]
    assert events == [("consented",)]

    mark = user.mark()
    user.command("start")
    again = user.wait_reply(mark)
    assert again.html == t("start.already")


def test_menu_help_cancel_and_unknown_commands(bot: BotProcess, user: FakeUser) -> None:
    begin(user)
    mark = user.mark()
    user.command("menu")
    assert user.wait_reply(mark).html == t("menu.title")

    mark = user.mark()
    user.command("help")
    help_text = user.wait_reply(mark).text
    for name in commands():
        assert f"/{name}" in help_text

    mark = user.mark()
    user.command("cancel")
    assert user.wait_reply(mark).html == t("cancel.nothing")

    mark = user.mark()
    user.command("reflect")
    user.wait_replies(mark, 2)
    mark = user.mark()
    user.command("cancel")
    assert user.wait_reply(mark).html == t("cancel.done")
    mark = user.mark()
    user.send("this is not an answer any more")
    assert user.wait_reply(mark).html == t("errors.not_understood")

    mark = user.mark()
    user.command("frobnicate")
    assert user.wait_reply(mark).html == t("errors.unknown_command")


def test_every_menu_button_opens_something(bot: BotProcess, user: FakeUser) -> None:
    begin(user)
    menu = user.last()
    for label, callback in [b for row in menu.buttons for b in row]:
        mark = user.mark()
        pressed = user.press(callback, menu)
        assert user.wait_callback_answer(pressed).text != t("errors.stale_button"), label
        assert user.wait_for(lambda m: m.event == "new", after=mark), label
        mark = user.mark()
        user.command("cancel")
        user.wait_for(lambda m: m.html in (t("cancel.done"), t("cancel.nothing")), after=mark)


def test_commands_are_registered_for_the_phone_menu(bot: BotProcess, fake: FakeTelegram) -> None:
    fake.wait_for_request("setChatMenuButton")
    # For private chats only (the bot leaves groups), help in a crisis second, after /start.
    assert [c["command"] for c in fake.commands(PRIVATE)] == commands()
    assert commands()[:3] == ["start", "crisis", "menu"]
    assert fake.commands() == []  # a list an older version set for every chat is gone
    # The menu button opens the command list; the profile says what the bot is, and is not.
    profile = fake.profile()
    assert profile["menu_button"] == {"type": "commands"}
    description, short = str(profile["description"]), str(profile["short_description"])
    assert "not a crisis service" in description and "not a crisis service" in short.lower()
    assert "Building Trust and Safety in Therapy" in description and len(short) <= 120


def test_in_a_group_the_bot_stores_nothing_and_leaves(
    bot: BotProcess, fake: FakeTelegram, user: FakeUser, data_dir: Path
) -> None:
    group = fake.group()
    user.command_in(group, "start")
    fake.wait_for_request("leaveChat")
    user.send_in(group, f"hello {CANARY}")
    fake.wait_idle()
    assert _rows(data_dir, "person") == 0
    assert group.messages() == []


def test_logs_never_contain_the_token_or_what_a_person_typed(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    begin(user)
    mark = user.mark()
    user.command("reflect")
    user.wait_replies(mark, 2)
    mark = user.mark()
    message_id = user.send(f"Trust means {CANARY}")
    user.wait_replies(mark, 2)  # the question closed, and the next one
    assert stored(data_dir, user, "reflect.q1")["reflect.q1"] == f"Trust means {CANARY}"
    mark = user.mark()
    user.edit(message_id, f"Trust means, edited, {CANARY}")
    assert user.wait_reply(mark).html == t("errors.edited_saved")
    assert stored(data_dir, user, "reflect.q1")["reflect.q1"] == f"Trust means, edited, {CANARY}"
    bot.stop()
    logs = bot.logs()
    assert CANARY not in logs
    assert TEST_TOKEN not in logs and TEST_TOKEN.split(":")[1] not in logs
    for path in data_dir.iterdir():
        assert CANARY.encode() not in path.read_bytes(), path.name


def test_another_person_is_answered_while_one_reply_is_held(
    bot: BotProcess, fake: FakeTelegram, user: FakeUser, user2: FakeUser
) -> None:
    begin(user)
    begin(user2)
    fake.stall("sendMessage", 2.0, chat_id=user.user_id)
    mark1, mark2 = user.mark(), user2.mark()
    user.command("help")
    user2.command("help")
    user2.wait_reply(mark2)
    # Ana's reply is still held by the server when Ben's has already arrived.
    assert user.events(mark1) == []
    user.wait_reply(mark1)


def test_messages_sent_back_to_back_are_all_taken_in_order(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    begin(user)
    mark = user.mark()
    user.command("reflect")
    user.wait_replies(mark, 2)
    mark = user.mark()
    for n in (1, 2, 3):
        user.send(f"answer {n}")
    wait_news(user, mark, 3)
    answers = stored(data_dir, user, "reflect.")
    assert answers == {f"reflect.q{n}": f"answer {n}" for n in (1, 2, 3)}
    prompts = reflect_items()
    assert prompts[3]["text"] in user.last().text


def test_a_missing_or_malformed_token_exits_2_with_one_sentence(
    run_bot_cli, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    for token in (None, "", "not-a-token", "123:short"):
        result = run_bot_cli([], {"TELEGRAM_BOT_TOKEN": token, "DATA_DIR": str(tmp_path / "d")})
        assert result.returncode == 2
        assert "@BotFather" in result.stderr
        assert "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


def test_a_bad_database_url_exits_with_a_clear_message(run_bot_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = run_bot_cli(
        [],
        {
            "TELEGRAM_BOT_TOKEN": TEST_TOKEN,
            "DATABASE_URL": "nosuchdb://nowhere",
            "DATA_DIR": str(tmp_path / "d"),
        },
    )
    assert result.returncode != 0
    assert "DATABASE_URL" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unwritable_data_folder_exits_with_a_clear_message(run_bot_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = run_bot_cli([], {"TELEGRAM_BOT_TOKEN": TEST_TOKEN, "DATA_DIR": str(blocker / "data")})
    assert result.returncode != 0
    assert "data folder" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_generated_key_is_private_and_its_place_logged_once(
    bot_factory: BotFactory, data_dir: Path
) -> None:
    first = bot_factory().start().wait_ready()
    key_file = data_dir / "encryption.key"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    key = key_file.read_text()
    first.stop()
    assert first.logs().count(str(key_file)) == 1
    assert key.strip() not in first.logs()
    second = bot_factory().start().wait_ready()
    second.stop()
    assert key_file.read_text() == key
    assert second.logs().count("Generated a new encryption key") == 1  # the first run's line


def test_an_update_delivered_again_after_a_crash_stores_nothing_twice(
    bot: BotProcess, fake: FakeTelegram, user: FakeUser, data_dir: Path
) -> None:
    begin(user)
    mark = user.mark()
    user.command("reflect")
    user.wait_replies(mark, 2)
    fake.withhold_confirmations()
    mark = user.mark()
    user.send("my first answer")
    user.wait_reply(mark)
    bot.kill()  # before the offset was confirmed: Telegram delivers the update again
    fake.withhold_confirmations(False)
    bot.start().wait_ready()
    fake.wait_idle()
    assert stored(data_dir, user, "reflect.") == {"reflect.q1": "my first answer"}
    mark = user.mark()
    user.send("my second answer")
    user.wait_reply(mark)
    assert stored(data_dir, user, "reflect.") == {
        "reflect.q1": "my first answer",
        "reflect.q2": "my second answer",
    }


@pytest.mark.sqlite
@pytest.mark.empty_database
def test_the_database_is_readable_by_the_bot_only(bot: BotProcess, data_dir: Path) -> None:
    for name in ("bot.sqlite3", "bot.sqlite3-wal"):
        assert stat.S_IMODE(os.stat(data_dir / name).st_mode) == 0o600, name


def test_an_error_is_told_gently_and_logged_without_text(
    bot: BotProcess, fake: FakeTelegram, user: FakeUser, data_dir: Path
) -> None:
    begin(user)
    mark = user.mark()
    user.command("reflect")
    user.wait_replies(mark, 2)
    # The next reply fails on Telegram's side after the answer was stored.
    fake.fail("sendMessage", 500, "Internal Server Error", times=1, chat_id=user.user_id)
    mark = user.mark()
    user.send(f"stored despite the error {CANARY}")
    assert wait_news(user, mark)[0].html == t("errors.generic")
    assert (
        stored(data_dir, user, "reflect.q1")["reflect.q1"] == f"stored despite the error {CANARY}"
    )
    bot.stop()
    assert "Error while handling update" in bot.logs()
    assert CANARY not in bot.logs()
