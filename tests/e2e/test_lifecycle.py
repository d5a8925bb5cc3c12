"""Around the conversations: a graceful SIGTERM, one instance per SQLite file, health."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import pytest

from bot.health import STATUS_FILE, assess
from conversations.worksheet.content import t
from tests.botproc import BotProcess
from tests.botproc import run_bot_cli as cli
from tests.conftest import BotFactory
from tests.e2e.helpers import begin, news, reply, soon, stored
from tests.e2e.test_schedule import plan_once, ready_for_reminders, reminders_in
from tests.fake_telegram import FakeTelegram, FakeUser
from tests.worksheet import reflect_items

# Docker's grace period between SIGTERM and SIGKILL: the bot must be gone by then.
GRACE = 10.0
ANSWERS = ["First, slowly", "Second, while held", "Third, still queued"]
FOURTH = "Fourth, after the restart"


@pytest.mark.slow
def test_sigterm_finishes_queued_updates_and_a_running_reminder_then_exits(
    bot: BotProcess, fake: FakeTelegram, user: FakeUser, user2: FakeUser, data_dir: Path
) -> None:
    """SIGTERM while a reminder is being sent and three answers wait: all done, exit 0 in 10 s."""
    ready_for_reminders(user2)
    start = soon()
    plan_once(user2, start)
    begin(user)
    intro, _ = news(user, lambda: user.command("reflect"), 2)
    assert intro.html == t("reflect.intro")

    # Just before the reminder is due, sends are held a little: at SIGTERM the reminder job is
    # still waiting for Telegram, and the person's answers are being handled one after another.
    time.sleep(max(0.0, (start - dt.datetime.now(dt.UTC)).total_seconds() - 2))
    fake.stall("sendMessage", 4.0, chat_id=user2.user_id)
    fake.stall("sendMessage", 1.0, chat_id=user.user_id, times=None)
    before = fake.request_count()

    def reminder_in_flight() -> bool | None:
        calls = fake.requests[before:]
        return (
            any(
                c.method == "sendMessage" and c.params.get("chat_id") == user2.user_id
                for c in calls
            )
            or None
        )

    assert fake.world.wait_until(reminder_in_flight, 90), "the reminder was never sent"
    for answer in ANSWERS:
        user.send(answer)
    fake.wait_idle()  # the bot has fetched all three

    stopped_at = time.monotonic()
    assert bot.process is not None
    bot.process.terminate()
    code = bot.wait_exit(timeout=GRACE)
    took = time.monotonic() - stopped_at

    assert code == 0, bot.logs()[-3000:]
    assert took < GRACE
    assert "Stopped cleanly" in bot.logs()
    assert "Received SIGTERM" in bot.logs()
    answers = stored(data_dir, user, "reflect.")
    assert list(answers.values())[:3] == ANSWERS
    assert len(reminders_in(user2)) == 1, user2.dump()

    # After a restart the reminder is not sent again, and the section goes on at the fourth prompt.
    fake.reset_faults()
    bot.start().wait_ready()
    fourth = reply(user, lambda: user.send(FOURTH))
    assert fourth.html.endswith(reflect_items()[4]["text"])
    assert list(stored(data_dir, user, "reflect.").values())[:4] == [*ANSWERS, FOURTH]
    assert len(reminders_in(user2)) == 1


@pytest.mark.sqlite
def test_a_second_instance_on_the_same_sqlite_file_refuses_to_start(
    bot: BotProcess, bot_factory: BotFactory, user: FakeUser
) -> None:
    """Two processes on one SQLite file would both send reminders: the second one says no."""
    second = bot_factory().start()
    assert second.wait_exit(timeout=60) == 2
    assert "another instance of the bot is already running" in second.logs().split("#2")[-1]
    # The first one's health report was left alone, and it goes on as before.
    assert (bot.data_dir / STATUS_FILE).exists()
    assert cli(["health"], bot.env()).returncode == 0
    begin(user)
    assert bot.running
    # Once the first one has stopped, a new one starts on the same file.
    bot.stop()
    bot_factory().start().wait_ready()


def test_health_reports_the_running_bot_and_its_database(bot: BotProcess) -> None:
    """`python -m bot health`: 0 while the bot polls, 1 with a line saying why when not."""
    env = bot.env()
    deadline = time.monotonic() + 30
    while True:
        healthy = cli(["health"], env)
        if healthy.returncode == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    assert healthy.stdout.startswith("healthy: active (polling), last contact with Telegram")

    broken = cli(["health"], {**env, "DATABASE_URL": "postgresql+asyncpg://nobody@127.0.0.1:9/x"})
    assert broken.returncode == 1
    assert broken.stdout.startswith("unhealthy: the database cannot be reached")

    bot.stop()
    stopped = cli(["health"], env)
    assert stopped.returncode == 1
    assert stopped.stdout.startswith("unhealthy: the bot is not running")


def status(tmp_path: Path, **fields: object) -> Path:
    """A status file as the running bot writes it."""
    path = tmp_path / STATUS_FILE
    now = time.time()
    body = {"pid": 1, "role": "active", "mode": "webhook", "written_at": now}
    body.update({"telegram_contact_at": now - 5, **fields})
    path.write_text(json.dumps(body))
    return path


@pytest.mark.parametrize(
    ("fields", "healthy", "starts"),
    [
        ({}, True, "active (webhook), last contact with Telegram 5 s ago"),
        ({"role": "standby", "telegram_contact_at": None}, True, "standby"),
        ({"telegram_contact_at": time.time() - 600}, False, "no contact with Telegram since"),
        ({"telegram_contact_at": None}, False, "the bot has not reached Telegram yet"),
        ({"written_at": time.time() - 300}, False, "the bot has not reported for"),
        ({"role": "stopping"}, False, "the bot is stopping"),
    ],
)
def test_health_verdicts(
    tmp_path: Path, fields: dict[str, object], healthy: bool, starts: str
) -> None:
    """What the health check makes of the status file."""
    verdict, line = assess(status(tmp_path, **fields))
    assert (verdict, line[: len(starts)]) == (healthy, starts)


def test_no_status_file_or_a_broken_one_is_unhealthy(tmp_path: Path) -> None:
    """No file: not running; garbage: cannot be read."""
    assert assess(tmp_path / STATUS_FILE) == (False, "the bot is not running (no status file)")
    (tmp_path / STATUS_FILE).write_text("{not json")
    assert assess(tmp_path / STATUS_FILE) == (False, "the bot's status file cannot be read")
