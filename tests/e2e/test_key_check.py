"""Started with another key than its data was written with, the bot refuses to start."""

from __future__ import annotations

from pathlib import Path

from conversations.worksheet.content import t
from storage.crypto import decode_key, encode_key, generate_key, key_id
from tests.botproc import BotProcess, run_bot_cli
from tests.e2e.helpers import begin, news, reply, stored
from tests.fake_telegram import FakeTelegram, FakeUser


def test_a_wrong_key_stops_the_start_with_one_sentence(
    bot: BotProcess, fake: FakeTelegram, user: FakeUser, data_dir: Path
) -> None:
    begin(user)
    news(user, lambda: user.command("reflect"), 2)
    reply(user, lambda: user.send("That they listen"))
    bot.stop()
    right = (data_dir / "encryption.key").read_text().strip()
    wrong = encode_key(generate_key())
    calls = fake.request_count()

    for env in ({"ENCRYPTION_KEY": wrong}, {"ENCRYPTION_KEY_FILE": str(data_dir / "other.key")}):
        (data_dir / "other.key").write_text(wrong + "\n")
        refused = run_bot_cli([], {**bot.env(), **env})
        assert refused.returncode == 2, refused.stderr
        lines = refused.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: the encryption key does not open")
        output = refused.stdout + refused.stderr
        for key in (right, wrong):
            assert key not in output and key.rstrip("=") not in output
            assert key_id(decode_key(key)).hex() not in output
    # It never went on to Telegram.
    assert not [r for r in fake.requests[calls:] if r.method == "getUpdates"]

    # With its own key it starts, and everything is there.
    bot.start().wait_ready()
    assert reply(user, lambda: user.command("menu")).html == t("menu.title")
    assert stored(data_dir, user, "reflect.") == {"reflect.q1": "That they listen"}
