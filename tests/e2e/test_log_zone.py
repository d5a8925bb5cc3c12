"""/log for a person without a time zone: asked for it once, before the first date, so that
"Today" and "Yesterday" are their own days and not UTC's."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from conversations.worksheet.content import Html, t
from conversations.worksheet.words import prompt_text
from tests.botproc import BotProcess
from tests.e2e.helpers import begin, chart, marks, news, reply, today
from tests.e2e.test_schedule import confirms_zone, person
from tests.fake_telegram import BotMessage, FakeUser

DATE_PROMPT = prompt_text("log.date")
SKIPPED = "zone.skipped"


def zone_prompt_for_today() -> Html:
    """The time-zone prompt /log shows, with why it asks."""
    return Html(f"{t('schedule.zone_why_today')}\n\n{t('schedule.zone_prompt')}")


def first_log(user: FakeUser) -> BotMessage:
    """/log the first time: the chart's introduction, then the time-zone prompt."""
    intro, ask = news(user, lambda: user.command("log"), 2)
    assert intro.html == t("log.intro")
    assert ask.html == zone_prompt_for_today(), ask.describe()
    assert ask.button_labels == [t("common.skip"), t("common.not_now")]
    return ask


def skip_zone_at_first_log(user: FakeUser) -> BotMessage:
    """/log the first time, and Skip at the time-zone prompt; returns the date prompt."""
    first_log(user)
    note, ask_date = news(user, lambda: user.press(t("common.skip")), 2)
    assert note.html == t("schedule.zone_skipped")
    assert ask_date.html == DATE_PROMPT
    return ask_date


def a_zone_on_another_date() -> tuple[str, str]:
    """What to type for a zone whose date differs from UTC's right now, and its name."""
    if dt.datetime.now(dt.UTC).hour >= 12:
        return "Kiritimati", "Pacific/Kiritimati"  # UTC+14
    return "UTC-12", "Etc/GMT+12"


def test_the_zone_comes_first_and_today_is_the_persons_today(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    begin(user)
    first_log(user)
    for answer in ("Atlantis under the sea", "+27"):
        sorry, again = news(user, lambda a=answer: user.send(a), 2)
        assert sorry.html == t("schedule.zone_invalid")
        assert again.html == t("schedule.zone_prompt")
        assert again.button_labels == [t("common.skip"), t("common.not_now")]
    assert person(data_dir, user).timezone is None

    typed, name = a_zone_on_another_date()
    local = dt.datetime.now(ZoneInfo(name)).date()
    assert local != today()
    note, ask_date = news(user, lambda: user.send(typed), 2)
    assert confirms_zone(note, name), note.describe()
    assert ask_date.html == DATE_PROMPT
    assert person(data_dir, user).timezone == name
    assert chart(data_dir, user) == []

    reply(user, lambda: user.press(t("log.today_button"), ask_date))
    assert [row.session_date for row in chart(data_dir, user)] == [local]


def test_skip_keeps_utcs_today_and_is_asked_once(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    begin(user)
    ask_date = skip_zone_at_first_log(user)
    assert marks(data_dir, user, SKIPPED) == {SKIPPED}
    assert person(data_dir, user).timezone is None
    assert reply(user, lambda: user.press(t("common.not_now"), ask_date)).html == t("log.later")

    # Not asked again: the introduction (nothing is in the chart yet) and the date.
    intro, ask_date = news(user, lambda: user.command("log"), 2)
    assert intro.html == t("log.intro") and ask_date.html == DATE_PROMPT
    reply(user, lambda: user.press(t("log.today_button"), ask_date))
    assert [row.session_date for row in chart(data_dir, user)] == [today()]


def test_not_now_at_the_zone_stores_nothing_and_asks_again(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    begin(user)
    first_log(user)
    assert reply(user, lambda: user.press(t("common.not_now"))).html == t("log.later")
    assert person(data_dir, user).timezone is None
    assert marks(data_dir, user, SKIPPED) == set()
    assert chart(data_dir, user) == []
    first_log(user)


def test_a_shared_location_or_a_sticker_at_the_zone(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    begin(user)
    first_log(user)
    sorry, again = news(user, user.send_sticker, 2)
    assert sorry.html == t("common.expect_text") and again.html == t("schedule.zone_prompt")
    assert again.button_labels == [t("common.skip"), t("common.not_now")]
    note, ask_date = news(user, lambda: user.share_location(-36.85, 174.76), 2)
    assert confirms_zone(note, "Pacific/Auckland"), note.describe()
    assert ask_date.html == DATE_PROMPT
    assert person(data_dir, user).timezone == "Pacific/Auckland"


def test_a_person_with_a_zone_is_not_asked(bot: BotProcess, user: FakeUser, data_dir: Path) -> None:
    begin(user)
    reply(user, lambda: user.command("schedule"))
    reply(user, lambda: user.send("Berlin"))
    intro, ask_date = news(user, lambda: user.command("log"), 2)
    assert intro.html == t("log.intro") and ask_date.html == DATE_PROMPT
