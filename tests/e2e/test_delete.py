"""/delete: a confirmation, then every row gone (unrecoverable from the SQLite files, or from any
table on PostgreSQL), reminders stopped, places forgotten; coming back starts fresh."""

from __future__ import annotations

import datetime as dt
import re
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from conversations.sections.review import status_lines
from conversations.sections.start import privacy_note
from conversations.sections.start import welcome as welcome_words
from conversations.worksheet.content import Html, t
from conversations.worksheet.words import prompt_text
from storage import Store
from storage.export import gather
from tests.botproc import BotProcess
from tests.e2e.helpers import (
    WAIT,
    begin,
    columns,
    news,
    on_sqlite,
    query,
    reply,
    stored,
    to_the_date,
    with_store,
)
from tests.fake_telegram import BotMessage, FakeUser

CANARY = "canary-41d9-violet-otter-hums"
PERSON_TABLES = (
    "answer",
    "session_entry",
    "place",
    "schedule",
    "reminder_ledger",
    "progress",
)
ASK_BUTTONS = [t("delete.yes_button"), t("delete.no_button")]
# PostgreSQL: the tables of the bot's database.
TABLES_SQL = (
    "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
)


# Talking to the bot ---------------------------------------------------------------------------


def ask_delete(user: FakeUser) -> BotMessage:
    """/delete; returns the question."""
    asked = reply(user, lambda: user.command("delete"))
    assert asked.html == t("delete.ask")
    assert asked.button_labels == ASK_BUTTONS
    return asked


def delete_all(user: FakeUser) -> None:
    """/delete and "Yes, delete everything"."""
    asked = ask_delete(user)
    done = reply(user, lambda: user.press(t("delete.yes_button"), asked))
    assert done.html == t("delete.done")


def reflect_first(user: FakeUser, text: str) -> BotMessage:
    """/reflect the first time, answers the first question; returns the second."""
    intro, first = news(user, lambda: user.command("reflect"), 2)
    assert intro.html == t("reflect.intro")
    assert "reflect:skip:ask.q1" in str(first.buttons)
    second = reply(user, lambda: user.send(text))
    assert "reflect:skip:ask.q2" in str(second.buttons)
    return second


def log_today(user: FakeUser, topic: str, role: str) -> BotMessage:
    """Logs today's session through /log with a topic, ratings and a role; returns the summary."""
    to_the_date(user)
    reply(user, lambda: user.press(t("log.today_button")))
    reply(user, lambda: user.send(topic))
    reply(user, lambda: user.press("log:trust:7"))
    reply(user, lambda: user.press("log:safety:6"))
    summary = reply(user, lambda: user.send(role))
    assert summary.has_button(t("log.another_button")), summary.describe()
    return summary


def plan_a_session_soon(user: FakeUser) -> dt.datetime:
    """Zone Berlin, reminders as a session starts, and a one-off session today at the first whole
    minute 40 s away or more; returns its start in UTC."""
    berlin = ZoneInfo("Europe/Berlin")
    reply(user, lambda: user.command("schedule"))
    reply(user, lambda: user.send("Berlin"))
    reply(user, lambda: user.command("settings"))
    reply(user, lambda: user.press(t("settings.timing_button")))
    reply(user, lambda: user.press("settings:min:0"))
    reply(user, lambda: user.command("schedule"))
    reply(user, lambda: user.press(t("schedule.add_once")))
    reply(user, lambda: user.press(t("schedule.today_button")))
    now = dt.datetime.now(berlin)
    start = (now + dt.timedelta(seconds=100)).replace(second=0, microsecond=0)
    if start.date() != now.date():
        pytest.skip("the next minute is tomorrow in Berlin")
    reply(user, lambda: user.send(f"{start:%H:%M}"))
    return start.astimezone(dt.UTC)


def finish_trust(user: FakeUser, text: str) -> None:
    """/finish the first time and answers its first question."""
    intro, prompt = news(user, lambda: user.command("finish"), 2)
    assert intro.html == t("finish.intro") and prompt.html == prompt_text("finish.trust")
    assert reply(user, lambda: user.send(text)).html == prompt_text("finish.surprise")


# Reading the files --------------------------------------------------------------------------


def person_id(data_dir: Path, user: FakeUser) -> int | None:
    """The person's row id, if they exist."""
    rows = query(data_dir, "SELECT id FROM person WHERE telegram_id = :tid", tid=user.user_id)
    return int(str(rows[0][0])) if rows else None


def ciphertexts(data_dir: Path, pid: int) -> list[bytes]:
    """Every encrypted value stored for a person, as it is in the file."""
    rows = query(
        data_dir,
        "SELECT value_enc FROM answer WHERE person_id = :pid "
        "UNION ALL SELECT topic_enc FROM session_entry WHERE person_id = :pid "
        "UNION ALL SELECT role_enc FROM session_entry WHERE person_id = :pid",
        pid=pid,
    )
    return [bytes(value) for (value,) in rows if isinstance(value, bytes)]


def database_files(data_dir: Path) -> dict[str, bytes]:
    """The SQLite files (database, WAL, shared memory) as bytes."""
    return {p.name: p.read_bytes() for p in data_dir.iterdir() if p.name.startswith("bot.sqlite3")}


def database_values(data_dir: Path) -> dict[str, bytes]:
    """Every value of every table in the bot's database, as bytes, by table."""
    tables = [str(name) for (name,) in query(data_dir, TABLES_SQL)]
    assert "answer" in tables and "audit_event" in tables, tables
    found: dict[str, bytes] = {}
    for table in tables:
        values = [value for row in query(data_dir, f'SELECT * FROM "{table}"') for value in row]
        found[table] = b"\x00".join(
            bytes(value) if isinstance(value, bytes | memoryview) else str(value).encode()
            for value in values
        )
    return found


def assert_gone(data_dir: Path, needles: list[bytes]) -> None:
    """None of the needles is anywhere in the SQLite files (on PostgreSQL: in any table)."""
    if on_sqlite(data_dir):
        files = database_files(data_dir)
        assert "bot.sqlite3" in files
    else:
        files = database_values(data_dir)
    for name, content in files.items():
        for needle in needles:
            assert needle not in content, (name, needle[:12])


def rows_of(data_dir: Path, pid: int, telegram_id: int) -> dict[str, int]:
    """How many rows each table still holds for a person."""
    counts = {
        table: int(
            str(query(data_dir, f"SELECT count(*) FROM {table} WHERE person_id = :v", v=pid)[0][0])
        )
        for table in PERSON_TABLES
    }
    for table, column, value in (
        ("person", "id", pid),
        ("person", "telegram_id", telegram_id),
        ("processed_update", "telegram_id", telegram_id),
    ):
        found = query(data_dir, f"SELECT count(*) FROM {table} WHERE {column} = :v", v=value)
        counts[f"{table}.{column}"] = int(str(found[0][0]))
    return counts


def audit(data_dir: Path, pid: int) -> list[str]:
    """The audit events of a person, oldest first."""
    rows = query(data_dir, "SELECT kind FROM audit_event WHERE person_id = :v ORDER BY id", v=pid)
    return [str(kind) for (kind,) in rows]


# Deleting ------------------------------------------------------------------------------------


def test_delete_erases_every_row_and_the_canary_is_nowhere_in_the_files(
    bot: BotProcess, user: FakeUser, user2: FakeUser, data_dir: Path
) -> None:
    begin(user)
    begin(user2)
    reflect_first(user2, "Ben keeps his answer")
    reflect_first(user, f"Trust is {CANARY}")
    log_today(user, f"We talked about {CANARY}", f"Ask me about {CANARY}")
    finish_trust(user, f"I trust her: {CANARY}")
    pid = person_id(data_dir, user)
    assert pid is not None
    blobs = ciphertexts(data_dir, pid)
    assert len(blobs) == 4, "the reflection, the topic, the role and the closing answer"
    assert all(CANARY.encode() not in blob for blob in blobs)
    found = database_files(data_dir) if on_sqlite(data_dir) else database_values(data_dir)
    assert all(blob in b"".join(found.values()) for blob in blobs), "the search below finds them"

    delete_all(user)

    assert rows_of(data_dir, pid, user.user_id) == dict.fromkeys(
        [*PERSON_TABLES, "person.id", "person.telegram_id", "processed_update.telegram_id"], 0
    )
    # Their events went with them; what is left is that a deletion happened, of nobody.
    assert audit(data_dir, pid) == []
    nobodys = "SELECT kind FROM audit_event WHERE person_id IS NULL"
    assert query(data_dir, nobodys) == [("deleted",)]
    assert columns(data_dir, "audit_event") == ["id", "at", "person_id", "kind"], "no content"
    # While the bot runs, and after it stopped: neither the text nor its ciphertext is left.
    needles = [CANARY.encode(), *blobs]
    assert_gone(data_dir, needles)
    if on_sqlite(data_dir):
        assert (data_dir / "bot.sqlite3-wal").stat().st_size < 64 * 1024
    # Someone else's answers stay.
    assert stored(data_dir, user2, "reflect.") == {"reflect.q1": "Ben keeps his answer"}
    bot.stop()
    assert_gone(data_dir, needles)


def test_no_keeps_everything(bot: BotProcess, user: FakeUser, data_dir: Path) -> None:
    begin(user)
    reflect_first(user, "Mine to keep")
    menu = reply(user, lambda: user.command("menu"))
    asked = reply(user, lambda: user.press(t("menu.delete"), menu))
    assert asked.html == t("delete.ask") and asked.button_labels == ASK_BUTTONS
    kept = reply(user, lambda: user.press(t("delete.no_button"), asked))
    assert kept.html == t("delete.kept")
    assert stored(data_dir, user) == {"reflect.q1": "Mine to keep"}
    assert query(data_dir, "SELECT section FROM place") == []


def test_text_while_asked_gets_a_word_about_the_buttons(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    begin(user)
    asked = ask_delete(user)
    assert reply(user, lambda: user.send("yes")).html == t("common.expect_buttons")
    assert reply(user, user.send_sticker).html == t("common.expect_buttons")
    assert person_id(data_dir, user) is not None
    done = reply(user, lambda: user.press(t("delete.yes_button"), asked))
    assert done.html == t("delete.done")
    assert person_id(data_dir, user) is None


def test_a_restart_while_asked_keeps_the_question(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    begin(user)
    reflect_first(user, "Something")
    asked = ask_delete(user)
    bot.kill()
    bot.start().wait_ready()
    done = reply(user, lambda: user.press(t("delete.yes_button"), asked))
    assert done.html == t("delete.done")
    assert person_id(data_dir, user) is None


def test_after_deletion_old_buttons_are_out_of_date_and_write_nothing(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    begin(user)
    second = reflect_first(user, "First answer")
    asked = ask_delete(user)
    # Two quick taps: the second comes after the deletion.
    first_tap = user.press(t("delete.yes_button"), asked)
    second_tap = user.press(t("delete.yes_button"), asked)
    assert user.wait_callback_answer(second_tap).text == t("errors.stale_button")
    assert user.wait_callback_answer(first_tap).text is None
    assert [m.html for m in user.messages() if m.html == t("delete.done")] == [t("delete.done")]
    counts = {
        table: query(data_dir, f"SELECT count(*) FROM {table}")
        for table in (*PERSON_TABLES, "person", "processed_update")
    }
    # Buttons of the open reflection and of the old menu.
    for label, message in (
        ("reflect:skip:ask.q2", second),
        (t("common.not_now"), second),
        ("menu:reflect", None),
    ):
        pressed = user.press(label, None if message is None else message.message_id)
        assert user.wait_callback_answer(pressed).text == t("errors.stale_button"), label
    user.fake.wait_idle()
    assert counts == {
        table: query(data_dir, f"SELECT count(*) FROM {table}")
        for table in (*PERSON_TABLES, "person", "processed_update")
    }
    # A message, too, stores nothing: the person is asked to /start first.
    assert reply(user, lambda: user.send("hello")).html == t("errors.before_consent")
    assert person_id(data_dir, user) is None


def test_coming_back_starts_fresh(bot: BotProcess, user: FakeUser, data_dir: Path) -> None:
    begin(user)
    reflect_first(user, "Before")
    delete_all(user)
    welcome, privacy = news(user, lambda: user.command("start"), 2)
    assert welcome.html == welcome_words()
    assert privacy.html == privacy_note() and privacy.has_button(t("start.agree_button"))
    agreed = reply(user, lambda: user.press(t("start.agree_button"), privacy))
    assert agreed.html == t("start.agreed")
    overview = reply(user, lambda: user.command("review"))
    assert overview.html == Html(
        "\n\n".join([t("review.title"), "\n".join(status_lines({}, set(), 0))])
    )
    intro, _ = news(user, lambda: user.command("reflect"), 2)
    assert intro.html == t("reflect.intro")
    assert stored(data_dir, user) == {}


def test_delete_in_the_middle_of_reflections(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    begin(user)
    reflect_first(user, "Halfway")
    delete_all(user)
    assert query(data_dir, "SELECT count(*) FROM place") == [(0,)]
    begin(user)
    # The reflection that was open does not take this as its second answer.
    assert reply(user, lambda: user.send("hello")).html == t("errors.not_understood")
    assert stored(data_dir, user) == {}


def test_a_section_opened_by_an_old_button_is_ended_in_memory_too(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    # Two privacy notices: the second keeps its "I agree" button for after the deletion.
    mark = user.mark()
    user.command("start")
    user.command("start")
    notices = user.wait_for(
        lambda m: len([e for e in user.events(mark) if e.has_button(t("start.agree_button"))]) == 2,
        after=mark,
    )
    first, second = [e for e in user.events(mark) if e.has_button(t("start.agree_button"))]
    assert notices is not None
    reply(user, lambda: user.press(t("start.agree_button"), first))
    summary = log_today(user, "A topic", "A role")
    asked = ask_delete(user)
    # "Log another" (not a command or menu button) opens /log while the question waits.
    prompt = reply(user, lambda: user.press(t("log.another_button"), summary))
    assert prompt.html == prompt_text("log.date")
    # A person is in one place: /log now, so the question's Yes above is out of date and erases
    # nothing (a destructive button counts only while its question is the place).
    callback = user.press(t("delete.yes_button"), asked)
    assert user.wait_callback_answer(callback).text == t("errors.stale_button")
    assert query(data_dir, "SELECT count(*) FROM session_entry") == [(1,)]
    asked = ask_delete(user)
    reply(user, lambda: user.press(t("delete.yes_button"), asked))
    # Consent again through the older notice: no command ends sections on the way.
    agreed = reply(user, lambda: user.press(t("start.agree_button"), second))
    assert agreed.html == t("start.agreed")
    assert reply(user, lambda: user.send("today")).html == t("errors.not_understood")
    sessions = query(data_dir, "SELECT count(*) FROM session_entry")
    assert sessions == [(0,)]


@pytest.mark.slow
def test_a_reminder_due_after_deletion_never_comes(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    begin(user)
    start = plan_a_session_soon(user)
    assert query(data_dir, "SELECT kind FROM schedule") == [("once",)]
    # Wait until the reminder is on the JobQueue (it is queued within a minute of being due).
    job = re.compile(r"Queued the reminder of schedule \d+")
    deadline = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=90)
    while not job.search(bot.logs()) and dt.datetime.now(dt.UTC) < deadline:
        user.wait_no_reply(user.mark(), seconds=1.0)
    assert job.search(bot.logs()), "the reminder was never queued"
    assert dt.datetime.now(dt.UTC) < start, "too slow: the reminder is already due"
    delete_all(user)
    mark = user.mark()
    wait = (start - dt.datetime.now(dt.UTC)).total_seconds() + 25
    user.wait_no_reply(mark, seconds=wait)
    assert [m for m in user.messages() if m.html == t("reminders.text")] == []
    assert query(data_dir, "SELECT count(*) FROM reminder_ledger") == [(0,)]


def test_the_next_person_never_gets_a_deleted_id_nor_its_events(
    bot: BotProcess, user: FakeUser, user2: FakeUser, data_dir: Path
) -> None:
    """SQLite reused the highest id once its row was gone: the next person to register got the
    deleted person's id, and their export listed the deleted person's events."""
    begin(user)
    gone = person_id(data_dir, user)
    delete_all(user)
    begin(user2)
    ben = person_id(data_dir, user2)
    assert ben is not None and gone is not None and ben > gone
    exported = with_store(data_dir, lambda store: gather(store, user2.user_id))
    assert [event["kind"] for event in exported["events"]] == ["consented"]


def test_handled_updates_are_forgotten_after_48_hours(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    """The ledger of handled updates is needed for a day (Telegram redelivers for 24 hours);
    kept for ever it would be a timeline of when each person wrote."""
    begin(user)
    now = dt.datetime.now(dt.UTC)

    async def age(store: Store) -> None:
        async with store.db.write() as session, session.begin():
            for update_id, hours in ((OLD, 49), (OLD + 1, 47)):
                await session.execute(
                    text(
                        "INSERT INTO processed_update (update_id, telegram_id, processed_at)"
                        " VALUES (:u, :t, :at)"
                    ),
                    {"u": update_id, "t": user.user_id, "at": now - dt.timedelta(hours=hours)},
                )

    with_store(data_dir, age)
    recent = handled(data_dir)
    assert {OLD, OLD + 1} < recent and len(recent) > 2
    bot.stop()
    bot.start().wait_ready()  # the first pruning comes a few seconds after a start
    deadline = time.monotonic() + WAIT
    while OLD in handled(data_dir) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert handled(data_dir) == recent - {OLD}


OLD = 9_000_000_001  # update ids the fake server never gives


def handled(data_dir: Path) -> set[int]:
    return {int(str(u)) for (u,) in query(data_dir, "SELECT update_id FROM processed_update")}
