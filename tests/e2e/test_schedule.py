"""/schedule: the time zone, when sessions happen, pausing; and the reminders that follow."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from conversations.worksheet.content import Html, items, t
from conversations.worksheet.dates import show_date, show_day, show_when, zone_label
from conversations.worksheet.words import prompt_text
from storage.repository import PersonInfo, ScheduleInfo
from tests.botproc import BotProcess
from tests.e2e.helpers import BERLIN, begin, news, reply, soon, with_store
from tests.fake_telegram import BotMessage, FakeTelegram, FakeUser

NOT_NOW = t("common.not_now")
LIST_BUTTONS = [
    t("schedule.add_weekly"),
    t("schedule.add_biweekly"),
    t("schedule.add_once"),
    t("schedule.pause_button"),
    t("common.done"),
]
REMINDER_WAIT = 120.0
# Zones whose people read a 12-hour clock, among those the tests use (the rule is dates.py's).
TWELVE_HOUR = {"America/New_York", "America/Los_Angeles", "Pacific/Kiritimati", "Pacific/Auckland"}


# Reading what the bot stored ------------------------------------------------------------------


def person(data_dir: Path, user: FakeUser) -> PersonInfo:
    """The person's settings as stored."""
    found = with_store(data_dir, lambda store: store.get_person(user.user_id))
    assert found is not None
    return found


def schedules(data_dir: Path, user: FakeUser) -> list[ScheduleInfo]:
    """The person's schedules as stored (snoozes included)."""
    return with_store(data_dir, lambda store: store.schedules(user.user_id))


def shape(info: ScheduleInfo) -> tuple[object, ...]:
    """What a person chose for a schedule."""
    return (info.kind, info.weekday, info.at_time, info.anchor)


def expected_due(
    days: list[dt.date], at: dt.time, zone: ZoneInfo, delay: int, now: dt.datetime
) -> dt.datetime:
    """The first reminder still to come among sessions on `days` at `at` (worked out here)."""
    dues = [
        dt.datetime.combine(day, at, tzinfo=zone).astimezone(dt.UTC) + dt.timedelta(minutes=delay)
        for day in days
    ]
    return min(due for due in dues if due > now)


def weekdays_from(today: dt.date, weekday: int) -> list[dt.date]:
    """This week's and next week's `weekday` from today on."""
    first = today + dt.timedelta(days=(weekday - today.weekday()) % 7)
    return [first, first + dt.timedelta(days=7)]


def local_today(zone: ZoneInfo = BERLIN) -> dt.date:
    """Today in a zone."""
    return dt.datetime.now(zone).date()


# Talking to the bot ---------------------------------------------------------------------------


def zone_prompt(first: bool = False) -> Html:
    """The time-zone prompt (with why it is asked, the first time)."""
    if first:
        return Html(f"{t('schedule.zone_why')}\n\n{t('schedule.zone_prompt')}")
    return t("schedule.zone_prompt")


def on_clock(moment: dt.datetime | dt.time, zone: str) -> str:
    """A time of day as the bot shows it to a person in `zone` (worked out here)."""
    if zone in TWELVE_HOUR:
        return f"{moment.hour % 12 or 12}:{moment.minute:02d} {'am' if moment.hour < 12 else 'pm'}"
    return f"{moment.hour:02d}:{moment.minute:02d}"


def confirms_zone(message: BotMessage, name: str) -> bool:
    """Whether a message confirms a zone with the time there now (this minute or the last)."""
    now = dt.datetime.now(ZoneInfo(name))
    times = {on_clock(now, name), on_clock(now - dt.timedelta(minutes=1), name)}
    notes = {t("schedule.zone_saved", zone=zone_label(name), time=moment) for moment in times}
    return any(message.html is not None and message.html.startswith(n) for n in notes)


def first_schedule(user: FakeUser, answer: str = "Berlin") -> BotMessage:
    """/schedule the first time: the zone is asked and answered; returns the list."""
    ask = reply(user, lambda: user.command("schedule"))
    assert ask.html == zone_prompt(first=True)
    return reply(user, lambda: user.send(answer))


def open_list(user: FakeUser) -> BotMessage:
    """/schedule once the zone is known: the list."""
    shown = reply(user, lambda: user.command("schedule"))
    assert shown.html is not None and shown.html.startswith(t("schedule.title")), shown.describe()
    return shown


def line(number: int, text: Html) -> Html:
    """One numbered line of the list."""
    return t("schedule.line", number=number, text=text)


def add_weekly(user: FakeUser, weekday: int, at: str) -> BotMessage:
    """Adds a weekly session from the list; returns the list shown after."""
    reply(user, lambda: user.press(t("schedule.add_weekly")))
    reply(user, lambda: user.press(f"schedule:day:{weekday}"))
    return reply(user, lambda: user.send(at))


def add_dated(user: FakeUser, kind: str, day: str, at: str) -> BotMessage:
    """Adds a two-weekly or one-off session (date and time typed); returns the list."""
    reply(user, lambda: user.press(f"schedule:add:{kind}"))
    reply(user, lambda: user.send(day))
    return reply(user, lambda: user.send(at))


def set_delay(user: FakeUser, minutes: int) -> None:
    """/settings → Change reminder timing → a button."""
    reply(user, lambda: user.command("settings"))
    reply(user, lambda: user.press(t("settings.timing_button")))
    shown = reply(user, lambda: user.press(f"settings:min:{minutes}"))
    assert shown.html is not None and shown.html.startswith(t("settings.delay_saved").split("{")[0])


# The time zone --------------------------------------------------------------------------------


def test_first_use_asks_the_zone_then_shows_the_list(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    begin(user)
    ask = reply(user, lambda: user.command("schedule"))
    assert ask.html == zone_prompt(first=True)
    assert ask.button_labels == [NOT_NOW]
    assert person(data_dir, user).timezone is None

    shown = reply(user, lambda: user.send("Berlin"))
    assert confirms_zone(shown, "Europe/Berlin"), shown.describe()
    assert t("schedule.empty") in shown.html
    assert t("schedule.zone_line", zone="Europe/Berlin") in shown.html
    assert shown.button_labels == LIST_BUTTONS
    assert person(data_dir, user).timezone == "Europe/Berlin"

    # The zone is asked only once.
    assert open_list(user).button_labels == LIST_BUTTONS
    done = reply(user, lambda: user.press(t("common.done")))
    assert done.html == t("schedule.done")
    assert with_store(data_dir, lambda store: store.position(user.user_id, "schedule")) is None


@pytest.mark.parametrize(
    ("typed", "name", "label"),
    [
        ("+2", "Etc/GMT-2", "UTC+2"),
        ("UTC-5", "Etc/GMT+5", "UTC-5"),
        ("America/New_York", "America/New_York", "America/New York"),
        ("berlin", "Europe/Berlin", "Europe/Berlin"),
    ],
)
def test_a_typed_zone(
    bot: BotProcess, user: FakeUser, data_dir: Path, typed: str, name: str, label: str
) -> None:
    begin(user)
    shown = first_schedule(user, typed)
    assert zone_label(name) == label
    assert confirms_zone(shown, name), shown.describe()
    assert person(data_dir, user).timezone == name


def test_nonsense_then_a_shared_location(bot: BotProcess, user: FakeUser, data_dir: Path) -> None:
    begin(user)
    reply(user, lambda: user.command("schedule"))
    for answer in ("Atlantis under the sea", "+27", "3", "🙂"):
        sorry, again = news(user, lambda a=answer: user.send(a), 2)
        assert sorry.html == t("schedule.zone_invalid")
        assert again.html == zone_prompt()
    sorry, again = news(user, user.send_sticker, 2)
    assert sorry.html == t("common.expect_text") and again.html == zone_prompt()
    assert person(data_dir, user).timezone is None

    shown = reply(user, lambda: user.share_location(52.52, 13.405))
    assert confirms_zone(shown, "Europe/Berlin"), shown.describe()
    assert person(data_dir, user).timezone == "Europe/Berlin"


def test_not_now_at_the_zone_keeps_nothing(bot: BotProcess, user: FakeUser, data_dir: Path) -> None:
    begin(user)
    reply(user, lambda: user.command("schedule"))
    bye = reply(user, lambda: user.press(NOT_NOW))
    assert bye.html == t("schedule.later")
    assert person(data_dir, user).timezone is None
    # Coming back (here from the menu) asks again.
    reply(user, lambda: user.command("menu"))
    assert reply(user, lambda: user.press(t("menu.schedule"))).html == zone_prompt(first=True)


# Adding, listing, removing --------------------------------------------------------------------


def test_weekly_biweekly_and_once_are_listed_with_their_reminders(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    begin(user)
    first_schedule(user)
    now = dt.datetime.now(dt.UTC)
    today = local_today()

    ask_day = reply(user, lambda: user.press(t("schedule.add_weekly")))
    assert ask_day.html == t("schedule.weekday_prompt")
    assert ask_day.button_labels == [
        *items("schedule.weekdays_short"),
        t("schedule.back"),
        NOT_NOW,
    ]
    ask_time = reply(user, lambda: user.press("schedule:day:1"))
    heading = t("schedule.weekly_heading", weekday="Tuesday")
    assert ask_time.html == f"{heading}\n\n{t('schedule.time_prompt')}"
    assert ask_time.button_labels == [*items("schedule.common_times"), t("schedule.back"), NOT_NOW]
    shown = reply(user, lambda: user.send("5pm"))
    weekly = t("schedule.weekly", weekday="Tuesday", time="17:00")
    assert t("schedule.added", text=weekly) in shown.html
    assert line(1, weekly) in shown.html
    [info] = schedules(data_dir, user)
    assert shape(info) == ("weekly", 1, dt.time(17, 0), None)
    due = expected_due(weekdays_from(today, 1), dt.time(17, 0), BERLIN, 60, now)
    assert info.next_due_at == due
    local_due = due.astimezone(BERLIN).replace(tzinfo=None)
    assert t("schedule.first_reminder", when=show_when(local_due)) in shown.html
    assert t("schedule.next_reminder", when=show_when(local_due)) in shown.html

    anchor = today + dt.timedelta(days=10)
    ask_date = reply(user, lambda: user.press(t("schedule.add_biweekly")))
    assert ask_date.html == t("schedule.biweekly_date_prompt")
    assert ask_date.button_labels == [
        t("schedule.today_button"),
        t("schedule.tomorrow_button"),
        t("schedule.back"),
        NOT_NOW,
    ]
    ask_time = reply(user, lambda: user.send(f"{anchor:%d.%m.%Y}"))
    heading = t("schedule.biweekly_heading", date=show_day(anchor))
    assert ask_time.html == f"{heading}\n\n{t('schedule.time_prompt')}"
    shown = reply(user, lambda: user.send("9.30"))
    weekday = items("schedule.weekdays")[anchor.weekday()]
    next_day = t(
        "schedule.day_month", day=anchor.day, month=items("schedule.months")[anchor.month - 1]
    )
    biweekly = t("schedule.biweekly", weekday=weekday, time="09:30", next=next_day)
    assert line(2, biweekly) in shown.html
    info = schedules(data_dir, user)[1]
    assert shape(info) == ("biweekly", anchor.weekday(), dt.time(9, 30), anchor)
    assert info.next_due_at == expected_due([anchor], dt.time(9, 30), BERLIN, 60, now)

    tomorrow = today + dt.timedelta(days=1)
    ask_date = reply(user, lambda: user.press(t("schedule.add_once")))
    assert ask_date.html == t("schedule.once_date_prompt")
    reply(user, lambda: user.press(t("schedule.tomorrow_button")))
    shown = reply(user, lambda: user.press("10:00"))
    once = t("schedule.once", date=show_day(tomorrow), time="10:00")
    assert line(3, once) in shown.html
    assert [line(1, weekly), line(2, biweekly)] == [
        x for x in shown.html.split("\n") if x in (line(1, weekly), line(2, biweekly))
    ]
    info = schedules(data_dir, user)[2]
    assert shape(info) == ("once", tomorrow.weekday(), dt.time(10, 0), tomorrow)
    assert info.next_due_at == expected_due([tomorrow], dt.time(10, 0), BERLIN, 60, now)
    assert shown.button_labels[:3] == [t("schedule.remove_button", number=n) for n in (1, 2, 3)]


def test_bad_answers_while_adding_store_nothing(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    begin(user)
    first_schedule(user)
    today = local_today()
    reply(user, lambda: user.press(t("schedule.add_weekly")))
    assert reply(user, lambda: user.send("Tuesday")).html == t("common.expect_buttons")
    reply(user, lambda: user.press("schedule:day:3"))
    for typed in ("25:00", "quarter past five", "13pm", "١٧:٠٠"):
        sorry, again = news(user, lambda x=typed: user.send(x), 2)
        assert sorry.html == t("schedule.time_invalid")
        assert again.html.endswith(t("schedule.time_prompt"))
    reply(user, lambda: user.press(t("schedule.back")))
    assert schedules(data_dir, user) == []

    reply(user, lambda: user.press(t("schedule.add_once")))
    yesterday = today - dt.timedelta(days=1)
    far = today + dt.timedelta(days=400)
    cases = [
        ("someday", t("schedule.date_invalid")),
        ("yesterday", t("schedule.date_past", date=show_day(yesterday))),
        (f"{far:%Y-%m-%d}", t("schedule.date_too_far", date=show_day(far))),
    ]
    for typed, expected in cases:
        sorry, again = news(user, lambda x=typed: user.send(x), 2)
        assert sorry.html == expected
        assert again.html == t("schedule.once_date_prompt")
    sorry, again = news(user, user.send_photo, 2)
    assert sorry.html == t("common.expect_text")
    assert again.html == t("schedule.once_date_prompt")

    reply(user, lambda: user.send("today"))
    if dt.datetime.now(BERLIN).time() < dt.time(0, 1):
        pytest.skip("it is midnight in Berlin: no time today has passed yet")
    sorry, again = news(user, lambda: user.send("00:00"), 2)
    assert sorry.html == t("schedule.once_past", time="00:00")
    assert again.html.endswith(t("schedule.time_prompt"))
    assert schedules(data_dir, user) == []


def test_remove_one(bot: BotProcess, user: FakeUser, data_dir: Path) -> None:
    begin(user)
    first_schedule(user)
    add_weekly(user, 0, "9")
    shown = add_weekly(user, 4, "17.30")
    monday = t("schedule.weekly", weekday="Monday", time="09:00")
    friday = t("schedule.weekly", weekday="Friday", time="17:30")
    assert line(1, monday) in shown.html and line(2, friday) in shown.html
    [first, second] = schedules(data_dir, user)
    old = open_list(user)
    open_list(user)

    shown = reply(user, lambda: user.press(t("schedule.remove_button", number=1)))
    assert shown.html.startswith(t("schedule.removed", text=monday))
    assert line(1, friday) in shown.html and monday not in shown.html.split("\n\n", 1)[1]
    assert [info.id for info in schedules(data_dir, user)] == [second.id]

    # The same Remove button on an older list, for the one already removed.
    shown = reply(user, lambda: user.press(f"schedule:remove:{first.id}", old))
    assert shown.html.startswith(t("schedule.gone"))
    assert [info.id for info in schedules(data_dir, user)] == [second.id]


def test_pause_and_resume(bot: BotProcess, user: FakeUser, data_dir: Path) -> None:
    begin(user)
    first_schedule(user)
    add_weekly(user, 2, "18:00")
    before = schedules(data_dir, user)[0].next_due_at

    shown = reply(user, lambda: user.press(t("schedule.pause_button")))
    assert shown.html.startswith(t("schedule.paused"))
    assert t("schedule.paused_note") in shown.html
    assert t("schedule.resume_button") in shown.button_labels
    assert t("schedule.pause_button") not in shown.button_labels
    assert person(data_dir, user).reminders_paused

    shown = reply(user, lambda: user.press(t("schedule.resume_button")))
    assert shown.html.startswith(t("schedule.resumed"))
    assert t("schedule.paused_note") not in shown.html
    assert t("schedule.pause_button") in shown.button_labels
    assert not person(data_dir, user).reminders_paused
    assert schedules(data_dir, user)[0].next_due_at == before


def test_not_now_while_adding_and_a_restart_mid_way(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    begin(user)
    first_schedule(user)
    reply(user, lambda: user.press(t("schedule.add_weekly")))
    reply(user, lambda: user.press("schedule:day:1"))
    assert reply(user, lambda: user.press(NOT_NOW)).html == t("schedule.later")
    assert schedules(data_dir, user) == []

    open_list(user)
    reply(user, lambda: user.press(t("schedule.add_weekly")))
    reply(user, lambda: user.press("schedule:day:3"))
    bot.kill()
    bot.start().wait_ready()
    shown = reply(user, lambda: user.send("18:00"))
    assert line(1, t("schedule.weekly", weekday="Thursday", time="18:00")) in shown.html
    [info] = schedules(data_dir, user)
    assert shape(info) == ("weekly", 3, dt.time(18, 0), None)


def test_an_old_list_button_is_out_of_date(bot: BotProcess, user: FakeUser, data_dir: Path) -> None:
    begin(user)
    shown = first_schedule(user)
    reply(user, lambda: user.command("menu"))
    pressed = user.press(t("schedule.add_weekly"), shown)
    assert user.wait_callback_answer(pressed).text == t("errors.stale_button")
    assert schedules(data_dir, user) == []


# The reminders themselves ---------------------------------------------------------------------


def plan_once(user: FakeUser, start: dt.datetime) -> None:
    """Adds a one-off session today at `start` from the list."""
    reply(user, lambda: user.press(t("schedule.add_once")))
    reply(user, lambda: user.press(t("schedule.today_button")))
    shown = reply(user, lambda: user.send(f"{start:%H:%M}"))
    assert shown.html.startswith(t("schedule.added").split("{")[0]), shown.describe()


def ready_for_reminders(user: FakeUser) -> None:
    """Zone Berlin, reminders when a session starts, and the list open."""
    begin(user)
    first_schedule(user)
    set_delay(user, 0)
    open_list(user)


def reminders_in(user: FakeUser) -> list[BotMessage]:
    """The reminders in a chat."""
    return [m for m in user.messages() if m.html == t("reminders.text")]


def is_reminder(message: BotMessage) -> bool:
    """Whether a message is a reminder (as first sent, with its buttons)."""
    return message.event == "new" and message.html == t("reminders.text")


@pytest.mark.slow
def test_a_one_off_session_brings_its_reminder_and_its_buttons_work(
    bot: BotProcess, fake: FakeTelegram, user: FakeUser, user2: FakeUser, data_dir: Path
) -> None:
    user3 = fake.user(1003, "Cleo")
    for person_ in (user, user2, user3):
        ready_for_reminders(person_)
    start = soon()
    for person_ in (user, user, user2, user3):
        plan_once(person_, start)
    due = [s.next_due_at for p in (user, user2, user3) for s in schedules(data_dir, p)]
    assert due == [start] * 4
    day = start.date()

    # Cleo pauses her reminders once the engine has queued hers (it looks a minute ahead every
    # 20 s): the queued one must go too.
    time.sleep(max(0.0, (start - dt.datetime.now(dt.UTC)).total_seconds() - 25))
    paused = reply(user3, lambda: user3.press(t("schedule.pause_button")))
    assert paused.html.startswith(t("schedule.paused"))
    after_pause = user3.mark()

    first = user.wait_for(is_reminder, timeout=REMINDER_WAIT)
    second = user.wait_for(lambda m: is_reminder(m) and m.message_id != first.message_id)
    for message in (first, second):
        entry = message.buttons[1][0][1].rsplit(":", 1)[1]
        assert message.buttons == [
            [(t("reminders.log_now"), f"log:new:{day}")],
            [
                (t("reminders.snooze"), f"rem:snooze:{entry}"),
                (t("reminders.no_session"), f"rem:none:{entry}"),
            ],
        ]
    # Both one-offs are done with.
    assert schedules(data_dir, user) == []

    # "Log now" opens /log with the session's date filled in.
    intro, ask_topic = news(user, lambda: user.press(t("reminders.log_now"), first), 2)
    assert intro.html == t("log.intro")
    heading = t("log.heading", date=show_date(day))
    assert ask_topic.html == f"{heading}\n\n{prompt_text('log.topic')}"
    reply(user, lambda: user.send("Our first session after the break"))
    for step in ("trust", "safety", "role"):
        reply(user, lambda s=step: user.press(f"log:skip:{s}"))
    rows = with_store(data_dir, lambda store: store.sessions(user.user_id))
    assert [(r.session_date, r.topic) for r in rows] == [(day, "Our first session after the break")]

    # "Remind me in an hour" plans one reminder, not another one now.
    pressed_at = dt.datetime.now(dt.UTC)
    mark = user.mark()
    pressed = user.press(t("reminders.snooze"), second)
    assert user.wait_callback_answer(pressed).text == t("reminders.snoozed")
    [snooze] = schedules(data_dir, user)
    assert snooze.kind == "snooze" and snooze.session_date == day
    assert snooze.next_due_at is not None
    later = snooze.next_due_at - pressed_at
    assert dt.timedelta(minutes=58) < later < dt.timedelta(minutes=61)
    user.fake.wait_idle()
    assert not [e for e in user.events(mark) if e.event == "new"]
    assert len(reminders_in(user)) == 2
    # A snooze is not one of the person's sessions.
    assert t("schedule.empty") in open_list(user).html

    # "No session this time" is acknowledged.
    [other] = reminders_in(user2)
    pressed = user2.press(t("reminders.no_session"), other)
    assert user2.wait_callback_answer(pressed).text == t("reminders.noted")

    # Nothing comes to Cleo while paused (waiting a tick past the start); her session stays.
    until_past = start + dt.timedelta(seconds=25) - dt.datetime.now(dt.UTC)
    user3.wait_no_reply(after_pause, seconds=max(1.0, until_past.total_seconds()))
    assert reminders_in(user3) == []
    assert [info.next_occurrence for info in schedules(data_dir, user3)] == [
        start.replace(tzinfo=None)
    ]


@pytest.mark.slow
def test_a_reminder_due_while_the_bot_was_down_comes_once(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    ready_for_reminders(user)
    start = soon()
    plan_once(user, start)
    bot.kill()
    time.sleep(max(0.0, (start - dt.datetime.now(dt.UTC)).total_seconds()) + 2)
    mark = user.mark()
    bot.start().wait_ready()
    reminder = user.wait_for(is_reminder, timeout=REMINDER_WAIT, after=mark)
    user.fake.wait_idle()
    # Longer than a tick of the reminder engine: nothing more comes.
    user.wait_no_reply(reminder.seq, seconds=22)
    assert len(reminders_in(user)) == 1


@pytest.mark.slow
def test_a_rate_limited_reminder_comes_once_and_a_blocked_one_marks_the_person(
    bot: BotProcess, fake: FakeTelegram, user: FakeUser, user2: FakeUser, data_dir: Path
) -> None:
    for person_ in (user, user2):
        ready_for_reminders(person_)
    start = soon()
    plan_once(user, start)
    plan_once(user2, start)
    fake.wait_idle()
    fake.fail("sendMessage", 429, retry_after=2, chat_id=user.chat_id)
    fake.block(user2.user_id, notify=False)
    limited = fake.count_429

    reminder = user.wait_for(is_reminder, timeout=REMINDER_WAIT)
    assert fake.count_429 == limited + 1
    fake.wait_for_request(
        "sendMessage",
        timeout=30,
        predicate=lambda r: r.chat_id == user2.chat_id and r.status == 403,
    )
    fake.wait_idle()
    user.wait_no_reply(reminder.seq, seconds=22)
    assert len(reminders_in(user)) == 1
    assert reminders_in(user2) == []
    assert person(data_dir, user2).blocked

    fake.unblock(user2.user_id, notify=False)
    welcome_back = news(user2, lambda: user2.command("start"), 2)
    assert welcome_back[0].html == t("start.resumed")
    assert not person(data_dir, user2).blocked


def test_times_on_a_twelve_hour_clock_where_people_read_one(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    begin(user)
    shown = first_schedule(user, "new york")
    assert confirms_zone(shown, "America/New_York"), shown.describe()
    reply(user, lambda: user.press(t("schedule.add_weekly")))
    ask_time = reply(user, lambda: user.press("schedule:day:3"))
    heading = t("schedule.weekly_heading", weekday="Thursday")
    assert ask_time.html == f"{heading}\n\n{t('schedule.time_prompt_12h')}"
    labels = ["8:00 am", "9:00 am", "10:00 am", "12:00 pm", "2:00 pm", "4:00 pm", "5:00 pm"]
    assert ask_time.button_labels == [*labels, "6:00 pm", t("schedule.back"), NOT_NOW]
    sorry, _ = news(user, lambda: user.send("half six"), 2)
    assert sorry.html == t("schedule.time_invalid_12h")
    shown = reply(user, lambda: user.press("6:00 pm"))
    assert line(1, t("schedule.weekly", weekday="Thursday", time="6:00 pm")) in shown.html
    [info] = schedules(data_dir, user)
    assert shape(info) == ("weekly", 3, dt.time(18, 0), None)

    # Typed without a separator, on either clock.
    reply(user, lambda: user.press(t("schedule.add_weekly")))
    reply(user, lambda: user.press("schedule:day:0"))
    shown = reply(user, lambda: user.send("1830"))
    assert line(2, t("schedule.weekly", weekday="Monday", time="6:30 pm")) in shown.html
    assert shape(schedules(data_dir, user)[1]) == ("weekly", 0, dt.time(18, 30), None)
    due = min(i.next_due_at for i in schedules(data_dir, user) if i.next_due_at is not None)
    local_due = due.astimezone(ZoneInfo("America/New_York")).replace(tzinfo=None)
    when = show_when(local_due, "America/New_York")
    assert on_clock(local_due, "America/New_York") in when
    assert t("schedule.next_reminder", when=when) in shown.html

    # The weekly summary's times too.
    reply(user, lambda: user.command("settings"))
    offer = reply(user, lambda: user.press(t("settings.summary_button")))
    assert offer.button_labels[0] == t("settings.summary_default", time="6:00 pm")
    ask_at = reply(user, lambda: user.press("settings:sday:2"))
    assert ask_at.html == t("settings.summary_time_prompt_12h")
    assert ask_at.button_labels == ["8:00 am", "12:00 pm", "6:00 pm", "8:00 pm", NOT_NOW]
    shown = reply(user, lambda: user.send("7.30pm"))
    assert t("settings.summary_on", weekday="Wednesday", time="7:30 pm") in shown.html


@pytest.mark.slow
def test_a_longer_delay_after_a_reminder_went_out_moves_on_to_next_week(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    """The reminder of this week's session goes out; then the person asks for reminders 30
    minutes later. That would plan this week's occurrence again, whose reminder the ledger
    already holds: the schedule moves on to next week's session, and nothing more comes now."""
    ready_for_reminders(user)
    start = soon()
    add_weekly(user, start.weekday(), f"{start:%H:%M}")
    reminder = user.wait_for(is_reminder, timeout=REMINDER_WAIT)

    set_delay(user, 30)

    next_week = start + dt.timedelta(days=7)
    [info] = schedules(data_dir, user)
    assert info.next_occurrence == next_week.replace(tzinfo=None)
    assert info.next_due_at == (next_week + dt.timedelta(minutes=30)).astimezone(dt.UTC)
    user.wait_no_reply(user.mark(), seconds=22)  # longer than a tick of the reminder engine
    assert [m.message_id for m in reminders_in(user)] == [reminder.message_id]
