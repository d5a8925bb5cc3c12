"""A change of time zone with sessions planned: the person is asked once whether the sessions
keep their time of day or their moment, and nothing planned is lost either way."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from conversations.worksheet.content import items, t
from conversations.worksheet.dates import show_day, show_when
from tests.botproc import BotProcess
from tests.e2e.helpers import BERLIN, begin, current_message, reply, with_store
from tests.e2e.test_schedule import (
    REMINDER_WAIT,
    add_weekly,
    confirms_zone,
    first_schedule,
    is_reminder,
    line,
    on_clock,
    open_list,
    person,
    schedules,
    set_delay,
    shape,
)
from tests.e2e.test_settings import open_settings
from tests.fake_telegram import BotMessage, FakeUser

NEW_YORK = ZoneInfo("America/New_York")
PARIS = ZoneInfo("Europe/Paris")
NOT_NOW = t("common.not_now")
WEEKDAYS = items("schedule.weekdays")
THURSDAY = 3
SESSION = dt.time(18, 30)
HOUR = dt.timedelta(hours=1)


def next_start(weekday: int, at: dt.time, zone: ZoneInfo, delay: dt.timedelta) -> dt.datetime:
    """The start (UTC) of the first weekly session in `zone` whose reminder is still to come."""
    now = dt.datetime.now(dt.UTC)
    today = now.astimezone(zone).date()
    for days in range(15):
        day = today + dt.timedelta(days=days)
        start = dt.datetime.combine(day, at, tzinfo=zone).astimezone(dt.UTC)
        if day.weekday() == weekday and start + delay > now:
            return start
    raise AssertionError("no session in two weeks")


def weekly_text(weekday: int, at: str) -> str:
    """A weekly session in the list's words."""
    return t("schedule.weekly", weekday=WEEKDAYS[weekday], time=at)


def in_new_york_on_thursdays(user: FakeUser) -> BotMessage:
    """Dana: New York, a session every Thursday at 6:30 pm (typed so); returns the list."""
    begin(user)
    first_schedule(user, "new york")
    return add_weekly(user, THURSDAY, "6:30 pm")


def change_zone(user: FakeUser, act: object) -> BotMessage:
    """/settings → Change time zone → `act` (typing or sharing); returns the reply."""
    open_settings(user)
    reply(user, lambda: user.press(t("settings.zone_button")))
    assert callable(act)
    return reply(user, act)


def test_a_trip_keeps_the_same_moment_and_the_question_shows_both_times(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    shown = in_new_york_on_thursdays(user)
    # In New York's convention: a 12-hour clock.
    assert line(1, weekly_text(THURSDAY, "6:30 pm")) in shown.html
    start = next_start(THURSDAY, SESSION, NEW_YORK, HOUR)
    there = start.astimezone(BERLIN)

    asked = change_zone(user, lambda: user.send("Berlin"))
    assert confirms_zone(asked, "Europe/Berlin"), asked.describe()
    assert t("schedule.choice_question", old_zone="New York") in asked.html
    kept_local = t("schedule.choice_local_line", text=weekly_text(THURSDAY, "18:30"), zone="Berlin")
    assert kept_local in asked.html
    moved = weekly_text(there.weekday(), f"{there:%H:%M}")
    was = "18:30" if there.weekday() == THURSDAY else "Thursday at 18:30"
    same_moment = t(
        "schedule.choice_moment_line", text=moved, zone="Berlin", was=was, old_zone="New York"
    )
    assert same_moment in asked.html
    assert t("schedule.choice_until", zone="Berlin") in asked.html
    assert asked.button_labels == [
        t("schedule.keep_local_one", time="18:30", zone="Berlin"),
        t("schedule.keep_moment_one", time=f"{there:%H:%M}", zone="Berlin"),
        NOT_NOW,
    ]
    # The zone is stored at once; until the answer, the session keeps its time of day.
    assert person(data_dir, user).timezone == "Europe/Berlin"
    [info] = schedules(data_dir, user)
    assert shape(info) == ("weekly", THURSDAY, SESSION, None)
    assert info.next_due_at == next_start(THURSDAY, SESSION, BERLIN, HOUR) + HOUR

    done = reply(user, lambda: user.press(asked.button_labels[1]))
    assert done.html.startswith(t("schedule.kept_moment", zone="Berlin"))
    assert line(1, moved) in done.html
    assert t("settings.title") in done.html
    [info] = schedules(data_dir, user)
    assert shape(info) == ("weekly", there.weekday(), there.time(), None)
    assert info.next_due_at == start + HOUR
    assert info.next_occurrence == there.replace(tzinfo=None)
    assert line(1, moved) in open_list(user).html


def test_keeping_the_time_of_day_and_a_one_off_that_would_be_lost(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    in_new_york_on_thursdays(user)
    now = dt.datetime.now(NEW_YORK)
    at = (now + HOUR).replace(second=0, microsecond=0)
    if at.date() != now.date():
        pytest.skip("in an hour it is tomorrow in New York")
    reply(user, lambda: user.press(t("schedule.add_once")))
    reply(user, lambda: user.press(t("schedule.today_button")))
    reply(user, lambda: user.send(f"{at:%H:%M}"))
    # At its time of day in Berlin (six hours ahead) it would have passed already.
    there = at.astimezone(BERLIN)

    asked = change_zone(user, lambda: user.share_location(52.52, 13.405))
    once = t("schedule.once", date=show_day(there.date()), time=f"{there:%H:%M}")
    kept = t("schedule.once_kept", text=once, was=f"{at:%H:%M}", old_zone="New York", zone="Berlin")
    assert kept in asked.html
    assert person(data_dir, user).timezone == "Europe/Berlin"
    weekly, one_off = schedules(data_dir, user)
    assert shape(one_off) == ("once", there.weekday(), there.time(), there.date())
    assert one_off.next_due_at == at.astimezone(dt.UTC) + HOUR

    # Something typed meanwhile: a kind word, and the question still stands.
    kind = reply(user, lambda: user.send("which one do I take?"))
    assert kind.html == t("schedule.choice_buttons", zone="Berlin")
    assert schedules(data_dir, user) == [weekly, one_off]

    assert asked.button_labels[0] == t("schedule.keep_local_one", time="18:30", zone="Berlin")
    done = reply(user, lambda: user.press(asked.button_labels[0]))
    assert done.html.startswith(t("schedule.kept_local", zone="Berlin"))
    first_due = min(one_off.next_due_at, next_start(THURSDAY, SESSION, BERLIN, HOUR) + HOUR)
    shown_due = first_due.astimezone(BERLIN).replace(tzinfo=None)
    assert t("schedule.next_reminder", when=show_when(shown_due)) in done.html
    assert schedules(data_dir, user) == [weekly, one_off]
    assert shape(weekly) == ("weekly", THURSDAY, SESSION, None)

    # The question's buttons are out of date once it is answered.
    assert current_message(user, asked.message_id).buttons == []
    pressed = user.press_data("settings:keep:moment", asked)
    assert user.wait_callback_answer(pressed).text == t("errors.stale_button")
    assert schedules(data_dir, user) == [weekly, one_off]


def test_not_now_at_the_question_keeps_the_new_zone_and_the_time_of_day(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    in_new_york_on_thursdays(user)
    asked = change_zone(user, lambda: user.send("Berlin"))
    bye = reply(user, lambda: user.press(NOT_NOW, asked))
    assert bye.html == t("schedule.choice_later", zone="Berlin")
    assert person(data_dir, user).timezone == "Europe/Berlin"
    [info] = schedules(data_dir, user)
    assert shape(info) == ("weekly", THURSDAY, SESSION, None)
    assert info.next_due_at == next_start(THURSDAY, SESSION, BERLIN, HOUR) + HOUR
    assert with_store(data_dir, lambda store: store.position(user.user_id, "settings")) is None


def test_no_question_without_sessions_or_when_the_clocks_agree(
    bot: BotProcess, user: FakeUser, user2: FakeUser, data_dir: Path
) -> None:
    begin(user)
    first_schedule(user, "new york")
    shown = change_zone(user, lambda: user.send("Berlin"))
    assert confirms_zone(shown, "Europe/Berlin") and t("settings.title") in shown.html

    # Paris and Berlin keep the same time: the session simply stays.
    begin(user2)
    first_schedule(user2, "Paris")
    add_weekly(user2, THURSDAY, "18:30")
    shown = change_zone(user2, lambda: user2.send("Berlin"))
    assert confirms_zone(shown, "Europe/Berlin") and t("settings.title") in shown.html
    [info] = schedules(data_dir, user2)
    assert shape(info) == ("weekly", THURSDAY, SESSION, None)
    assert info.next_due_at == next_start(THURSDAY, SESSION, PARIS, HOUR) + HOUR


def soon_in(zone: ZoneInfo) -> dt.datetime:
    """The first whole minute 30 s away or more, in `zone` (skips the test across midnight)."""
    now = dt.datetime.now(zone)
    start = (now + dt.timedelta(seconds=90)).replace(second=0, microsecond=0)
    if start.date() != now.date():
        pytest.skip("the next minute is tomorrow in New York")
    return start


@pytest.mark.slow
def test_a_snoozed_reminder_stays_due_through_both_changes(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    in_new_york_on_thursdays(user)
    set_delay(user, 0)
    open_list(user)
    start = soon_in(NEW_YORK)
    reply(user, lambda: user.press(t("schedule.add_once")))
    reply(user, lambda: user.press(t("schedule.today_button")))
    reply(user, lambda: user.send(f"{start:%H:%M}"))
    reply(user, lambda: user.press(t("common.done")))
    reminder = user.wait_for(is_reminder, timeout=REMINDER_WAIT)
    pressed = user.press(t("reminders.snooze"), reminder)
    assert user.wait_callback_answer(pressed).text == t("reminders.snoozed")
    weekly, snooze = schedules(data_dir, user)
    assert snooze.kind == "snooze" and snooze.next_due_at is not None
    due = snooze.next_due_at

    # To Berlin, keeping the session's time of day: the snooze keeps its moment.
    asked = change_zone(user, lambda: user.send("Berlin"))
    done = reply(user, lambda: user.press(asked.button_labels[0]))
    assert done.html.startswith(t("schedule.kept_local", zone="Berlin"))
    in_berlin = due.astimezone(BERLIN).replace(tzinfo=None)
    assert t("schedule.next_reminder", when=show_when(in_berlin)) in done.html
    _, snooze = schedules(data_dir, user)
    assert (snooze.next_due_at, snooze.next_occurrence) == (due, in_berlin)

    # And back, sharing a location, keeping the moment: still the same instant.
    asked = change_zone(user, lambda: user.share_location(40.7128, -74.006))
    assert t("schedule.choice_question", old_zone="Berlin") in asked.html
    done = reply(user, lambda: user.press(asked.button_labels[1]))
    assert done.html.startswith(t("schedule.kept_moment", zone="New York"))
    in_new_york = due.astimezone(NEW_YORK).replace(tzinfo=None)
    when = show_when(in_new_york, "America/New_York")
    assert t("schedule.next_reminder", when=when) in done.html
    assert on_clock(in_new_york, "America/New_York") in when
    weekly, snooze = schedules(data_dir, user)
    assert (snooze.next_due_at, snooze.next_occurrence) == (due, in_new_york)
    # The weekly session is back at 18:30 New York time: the moment of 18:30 in Berlin.
    back = next_start(THURSDAY, SESSION, BERLIN, dt.timedelta(0)).astimezone(NEW_YORK)
    assert shape(weekly) == ("weekly", back.weekday(), back.time(), None)
