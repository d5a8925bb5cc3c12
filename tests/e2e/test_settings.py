"""/settings: time zone, when reminders come after a session, pausing them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from conversations.worksheet.content import Html, t
from conversations.worksheet.dates import zone_label
from tests.botproc import BotProcess
from tests.e2e.helpers import BERLIN, begin, news, reply, with_store
from tests.e2e.test_schedule import (
    add_weekly,
    confirms_zone,
    expected_due,
    first_schedule,
    local_today,
    person,
    schedules,
    weekdays_from,
    zone_prompt,
)
from tests.fake_telegram import BotMessage, FakeUser

NEW_YORK = ZoneInfo("America/New_York")
OVERVIEW_BUTTONS = [
    t("settings.zone_button"),
    t("settings.timing_button"),
    t("settings.pause_button"),
    t("settings.summary_button"),
    t("settings.language_button"),
    t("settings.protect_off_button"),
    t("common.done"),
]
DELAY_BUTTONS = [
    *(t("settings.minutes_button", minutes=n) for n in (0, 30, 60, 90, 120, 180, 240)),
    t("common.skip"),
    t("common.not_now"),
]


def delay_words(minutes: int) -> Html:
    """How the delay is put into words."""
    if minutes == 0:
        return t("settings.delay_at_start")
    return t("settings.delay_after", minutes=minutes)


def open_settings(user: FakeUser) -> BotMessage:
    """/settings: the overview."""
    shown = reply(user, lambda: user.command("settings"))
    assert t("settings.title") in shown.html, shown.describe()
    return shown


def with_weekly_session(user: FakeUser) -> None:
    """A person in Berlin with a session every Tuesday at 17:00."""
    begin(user)
    first_schedule(user)
    add_weekly(user, 1, "17:00")


def tuesday_due(zone: ZoneInfo, delay: int, now: dt.datetime) -> dt.datetime:
    """When the reminder after the next Tuesday-17:00 session in `zone` is due."""
    return expected_due(weekdays_from(local_today(zone), 1), dt.time(17, 0), zone, delay, now)


def skip(user: FakeUser) -> BotMessage:
    """Presses Skip; returns the overview shown after."""
    return reply(user, lambda: user.press(t("common.skip")))


def test_the_overview_before_anything_is_set(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    begin(user)
    shown = reply(user, lambda: user.press(t("menu.settings")))
    assert t("settings.zone_unset") in shown.html
    assert t("settings.delay_line", delay=delay_words(60)) in shown.html
    assert t("settings.on_line") in shown.html
    assert t("settings.summary_off") in shown.html
    assert t("settings.protect_on_line") in shown.html
    assert shown.button_labels == OVERVIEW_BUTTONS
    assert reply(user, lambda: user.send("60")).html == t("common.expect_buttons")
    assert reply(user, lambda: user.press(t("common.done"))).html == t("settings.done")
    assert with_store(data_dir, lambda store: store.position(user.user_id, "settings")) is None


def test_change_the_reminder_timing(bot: BotProcess, user: FakeUser, data_dir: Path) -> None:
    with_weekly_session(user)
    now = dt.datetime.now(dt.UTC)
    assert schedules(data_dir, user)[0].next_due_at == tuesday_due(BERLIN, 60, now)
    shown = open_settings(user)
    zone_line = t("settings.zone_line", zone="Europe/Berlin", time="")
    assert zone_line.split("(")[0] in shown.html

    ask = reply(user, lambda: user.press(t("settings.timing_button")))
    assert ask.html == t("settings.delay_prompt", delay=delay_words(60))
    assert ask.button_labels == DELAY_BUTTONS
    for typed in ("300", "-5", "abc", "7.5", "241", "٤٥"):
        sorry, again = news(user, lambda x=typed: user.send(x), 2)
        assert sorry.html == t("settings.delay_invalid")
        assert again.html == ask.html
    assert person(data_dir, user).reminder_delay_min == 60
    assert schedules(data_dir, user)[0].next_due_at == tuesday_due(BERLIN, 60, now)

    shown = reply(user, lambda: user.send("45"))
    assert shown.html.startswith(t("settings.delay_saved", delay=delay_words(45)))
    assert t("settings.delay_line", delay=delay_words(45)) in shown.html
    assert person(data_dir, user).reminder_delay_min == 45
    assert schedules(data_dir, user)[0].next_due_at == tuesday_due(BERLIN, 45, now)

    reply(user, lambda: user.press(t("settings.timing_button")))
    shown = reply(user, lambda: user.press(t("settings.minutes_button", minutes=0)))
    assert t("settings.delay_line", delay=delay_words(0)) in shown.html
    assert person(data_dir, user).reminder_delay_min == 0
    assert schedules(data_dir, user)[0].next_due_at == tuesday_due(BERLIN, 0, now)

    # Skip keeps it; Not now leaves.
    reply(user, lambda: user.press(t("settings.timing_button")))
    assert skip(user).html.startswith(t("settings.title"))
    assert user.callback_answers()[-1].text == t("schedule.kept")
    reply(user, lambda: user.press(t("settings.timing_button")))
    assert reply(user, lambda: user.press(t("common.not_now"))).html == t("settings.later")
    assert person(data_dir, user).reminder_delay_min == 0


def test_change_the_time_zone(bot: BotProcess, user: FakeUser, data_dir: Path) -> None:
    with_weekly_session(user)
    now = dt.datetime.now(dt.UTC)
    open_settings(user)

    ask = reply(user, lambda: user.press(t("settings.zone_button")))
    assert ask.html == zone_prompt()
    assert ask.button_labels == [t("common.skip"), t("common.not_now")]
    sorry, again = news(user, lambda: user.send("Middle Earth"), 2)
    assert sorry.html == t("schedule.zone_invalid") and again.html == zone_prompt()
    assert person(data_dir, user).timezone == "Europe/Berlin"

    # With a session on the list, the new zone is stored and the person is asked what the
    # session keeps; until they answer, it keeps its time of day.
    asked = reply(user, lambda: user.send("America/New_York"))
    assert confirms_zone(asked, "America/New_York"), asked.describe()
    assert zone_label("America/New_York") in asked.html
    assert t("schedule.choice_question", old_zone="Berlin") in asked.html
    assert person(data_dir, user).timezone == "America/New_York"
    assert schedules(data_dir, user)[0].next_due_at == tuesday_due(NEW_YORK, 60, now)
    shown = reply(user, lambda: user.press(asked.button_labels[0]))
    assert shown.html.startswith(t("schedule.kept_local", zone="New York"))
    assert t("settings.title") in shown.html
    # The same wall-clock session, now in New York: its reminder moved with it.
    assert schedules(data_dir, user)[0].next_due_at == tuesday_due(NEW_YORK, 60, now)

    reply(user, lambda: user.press(t("settings.zone_button")))
    asked = reply(user, lambda: user.share_location(52.52, 13.405))
    assert confirms_zone(asked, "Europe/Berlin"), asked.describe()
    assert person(data_dir, user).timezone == "Europe/Berlin"
    shown = reply(user, lambda: user.press(asked.button_labels[0]))
    assert shown.html.startswith(t("schedule.kept_local", zone="Berlin"))
    assert schedules(data_dir, user)[0].next_due_at == tuesday_due(BERLIN, 60, now)

    reply(user, lambda: user.press(t("settings.zone_button")))
    assert skip(user).html.startswith(t("settings.title"))
    assert user.callback_answers()[-1].text == t("schedule.kept")
    assert person(data_dir, user).timezone == "Europe/Berlin"


def test_a_time_zone_chosen_here_is_the_one_schedule_uses(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    begin(user)
    open_settings(user)
    ask = reply(user, lambda: user.press(t("settings.zone_button")))
    # Nothing to keep yet, so no Skip.
    assert ask.button_labels == [t("common.not_now")]
    shown = reply(user, lambda: user.send("+2"))
    assert confirms_zone(shown, "Etc/GMT-2"), shown.describe()
    assert t("settings.zone_line", zone="UTC+2", time="").split("(")[0] in shown.html
    listed = reply(user, lambda: user.command("schedule"))
    assert t("schedule.zone_line", zone="UTC+2") in listed.html


def test_pause_and_resume_here(bot: BotProcess, user: FakeUser, data_dir: Path) -> None:
    with_weekly_session(user)
    before = schedules(data_dir, user)[0].next_due_at
    open_settings(user)
    shown = reply(user, lambda: user.press(t("settings.pause_button")))
    assert shown.html.startswith(t("schedule.paused"))
    assert t("settings.paused_line") in shown.html
    assert t("settings.resume_button") in shown.button_labels
    assert person(data_dir, user).reminders_paused

    shown = reply(user, lambda: user.press(t("settings.resume_button")))
    assert shown.html.startswith(t("schedule.resumed"))
    assert t("settings.on_line") in shown.html
    assert not person(data_dir, user).reminders_paused
    assert schedules(data_dir, user)[0].next_due_at == before


def test_a_restart_at_the_timing_prompt(bot: BotProcess, user: FakeUser, data_dir: Path) -> None:
    begin(user)
    open_settings(user)
    reply(user, lambda: user.press(t("settings.timing_button")))
    bot.kill()
    bot.start().wait_ready()
    shown = reply(user, lambda: user.send("30"))
    assert shown.html.startswith(t("settings.delay_saved", delay=delay_words(30)))
    assert person(data_dir, user).reminder_delay_min == 30


def test_an_old_settings_button_is_out_of_date(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    begin(user)
    shown = open_settings(user)
    reply(user, lambda: user.command("menu"))
    pressed = user.press(t("settings.pause_button"), shown)
    assert user.wait_callback_answer(pressed).text == t("errors.stale_button")
    assert not person(data_dir, user).reminders_paused
