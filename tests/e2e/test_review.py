"""/review: every answer shown, changed or cleared; the session chart corrected; nobody else's."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from conversations.worksheet.content import escape, short_prompt, t
from conversations.worksheet.dates import show_date
from conversations.worksheet.parsing import rating_problem
from conversations.worksheet.words import prompt_text
from storage import Store
from tests.botproc import BotProcess
from tests.e2e.helpers import (
    back_home,
    begin,
    chart,
    has_data,
    reply,
    stored,
    to_the_date,
    today,
    until,
    with_store,
)
from tests.fake_telegram import BotMessage, FakeUser
from tests.fake_telegram.html_parser import utf16_len
from tests.worksheet import reflect_items

STALE = t("errors.stale_button")
PROMPTS = {f"reflect.{p['key']}": p["text"] for p in reflect_items()}


# The bot's own database ------------------------------------------------------------------------


def add_sessions(data_dir: Path, user: FakeUser, days: list[dt.date]) -> list[str]:
    """Complete chart rows written straight into the bot's database; their ids."""

    async def write(store: Store) -> list[str]:
        uids = []
        async with store.unit(user.user_id) as unit:
            for number, day in enumerate(days, start=1):
                uid = await unit.new_session_entry(day)
                await unit.update_session_entry(
                    uid, topic=f"topic {number}", trust=5, safety=6, role="r", complete=True
                )
                uids.append(uid)
        return uids

    return with_store(data_dir, write)


# Talking to the bot ----------------------------------------------------------------------------


def buttons(messages: list[BotMessage]) -> list[str]:
    """Every callback data of some messages."""
    return [d for m in messages for row in m.buttons for _, d in row]


def overview(user: FakeUser) -> BotMessage:
    """/review; the overview."""
    message = reply(user, lambda: user.command("review"))
    assert message.html is not None and message.html.startswith(t("review.title"))
    return message


def view(user: FakeUser, name: str) -> list[BotMessage]:
    """Opens one section's view from the overview; its messages."""
    overview(user)
    return until(user, lambda: user.press(f"review:view:{name}"), back_home)


def forge(user: FakeUser, data: str) -> str:
    """A button press with made-up callback data, on the newest bot message; its callback id."""
    world = user.fake.world
    with world.cond:
        target = world.chats[user.chat_id].bot_messages()[-1]
        record = world.new_callback(user.user_id, user.chat_id, target.message_id, data)
        world.push_update("callback_query", user._callback_body(record, target))
        return record.callback_id


def answered_stale(user: FakeUser, callback_id: str) -> None:
    """The bot answered a press with "This button is out of date."."""
    assert user.wait_callback_answer(callback_id).text == STALE


def reflect(user: FakeUser, answers: list[str | None]) -> None:
    """/reflect from the start: answers (None: Skip) to the first prompts, then Not now."""
    keys = list(PROMPTS)
    mark = user.mark()
    user.command("reflect")
    for index, answer in enumerate(answers):
        key = keys[index]
        user.wait_for(lambda m, k=key: bool(m.html and m.html.endswith(PROMPTS[k])), after=mark)
        mark = user.mark()
        if answer is None:
            user.press(f"reflect:skip:ask.{key.removeprefix('reflect.')}")
        else:
            user.send(answer)
    if len(answers) < len(keys):
        key = keys[len(answers)]
        user.wait_for(lambda m: bool(m.html and m.html.endswith(PROMPTS[key])), after=mark)
        reply(user, lambda: user.press("reflect:later"))
        return
    skipped = answers.count(None)
    done = t("reflect.done_with_skips", count=skipped) if skipped else t("reflect.done")
    user.wait_for(lambda m: m.html == done, after=mark)


def change_prompt(number: str, key: str, words: str = "review.change.text") -> str:
    """The prompt for a new answer to a reflection."""
    return t(words, number=number, prompt=short_prompt(PROMPTS[key]))


# Written answers --------------------------------------------------------------------------------


def test_answers_from_other_sections_show_after_a_restart(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    begin(user)
    long = "I feel safe when " + "people keep their word, " * 40
    reflect(user, ["Trust is <earned> & kept", None, long])
    bot.kill()
    bot.start().wait_ready()

    status = t("review.status.answered_skipped", answered=2, total=8, skipped=1)
    assert t("review.line", label=t("menu.reflect"), status=status) in (overview(user).html or "")

    messages = until(user, lambda: user.press("review:view:reflect"), back_home)
    shown = "\n".join(m.html or "" for m in messages)
    assert escape("Trust is <earned> & kept") in shown
    assert "Trust is <earned>" not in shown
    assert t("review.not_answered") in shown
    assert long.strip() not in shown  # cut short in the list...
    data = buttons(messages)
    assert "review:show:reflect.q3" in data  # ...with a button for all of it
    assert "review:show:reflect.q1" not in data
    assert "review:clear:reflect.q2" not in data  # skipped: nothing to clear
    assert "review:change:reflect.q2" in data

    full = until(user, lambda: user.press("review:show:reflect.q3"), back_home)
    assert long.strip() in "\n".join(m.text for m in full)


def test_change_keep_and_clear_an_answer(bot: BotProcess, user: FakeUser, data_dir: Path) -> None:
    begin(user)
    reflect(user, ["first words"])
    view(user, "reflect")

    prompt = reply(user, lambda: user.press("review:change:reflect.q1"))
    assert prompt.html == change_prompt("1", "reflect.q1")
    assert prompt.button_labels == [t("common.skip"), t("common.not_now")]
    # A sticker is not an answer: said so, asked again, nothing stored.
    again = until(user, user.send_sticker, lambda m: m.html == prompt.html)
    assert again[0].html == t("common.expect_text")
    assert stored(data_dir, user, "reflect.") == {"reflect.q1": "first words"}

    saved = reply(user, lambda: user.send("second & better"))
    assert saved.html == t("review.saved")
    assert stored(data_dir, user, "reflect.")["reflect.q1"] == "second & better"
    # The first prompt's Skip is out of date now, and changes nothing.
    answered_stale(user, user.press("review:skip:reflect.q1", prompt))
    assert stored(data_dir, user, "reflect.")["reflect.q1"] == "second & better"

    # Skip keeps the answer.
    reply(user, lambda: user.press("review:change:reflect.q1"))
    kept = reply(user, lambda: user.press("review:skip:reflect.q1"))
    assert kept.html == t("review.kept")
    assert stored(data_dir, user, "reflect.")["reflect.q1"] == "second & better"

    listed = view(user, "reflect")
    assert escape("second & better") in "\n".join(m.html or "" for m in listed)
    ask = reply(user, lambda: user.press("review:clear:reflect.q1"))
    assert ask.html == t("review.clear.ask", number="1", prompt=short_prompt(PROMPTS["reflect.q1"]))
    assert reply(user, lambda: user.send("yes")).html == t("common.expect_buttons")
    assert reply(user, lambda: user.press(t("review.clear.no"))).html == t("review.kept")
    assert "reflect.q1" in stored(data_dir, user, "reflect.")

    reply(user, lambda: user.press("review:clear:reflect.q1"))
    assert reply(user, lambda: user.press(t("review.clear.yes"))).html == t("review.clear.done")
    assert "reflect.q1" not in stored(data_dir, user, "reflect.")
    status = t("review.status.answered", answered=0, total=8)
    assert t("review.line", label=t("menu.reflect"), status=status) in (overview(user).html or "")


def test_a_change_waits_through_a_restart(bot: BotProcess, user: FakeUser, data_dir: Path) -> None:
    begin(user)
    view(user, "reflect")
    prompt = reply(user, lambda: user.press("review:change:reflect.q6.2"))
    assert prompt.html == change_prompt("6.2", "reflect.q6.2")
    bot.kill()
    bot.start().wait_ready()

    assert reply(user, lambda: user.send("no calls after 8")).html == t("review.saved")
    assert stored(data_dir, user, "reflect.") == {"reflect.q6.2": "no calls after 8"}
    # The change is over: a new message is not taken as an answer again.
    assert reply(user, lambda: user.send("hello")).html == t("errors.not_understood")
    assert stored(data_dir, user, "reflect.") == {"reflect.q6.2": "no calls after 8"}


def test_a_message_after_another_section_is_not_taken_as_the_change(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    begin(user)
    view(user, "reflect")
    reply(user, lambda: user.press("review:change:reflect.q3"))
    # Another section is opened and left before the person writes anything here.
    until(user, lambda: user.command("reflect"), lambda m: m.has_button(t("common.not_now")))
    reply(user, lambda: user.press("reflect:later"))
    # Opening /reflect ended the change waiting in /review: the words are nobody's answer.
    assert reply(user, lambda: user.send("words meant for nobody")).html == t(
        "errors.not_understood"
    )
    assert stored(data_dir, user, "reflect.") == {}
    view(user, "reflect")
    reply(user, lambda: user.press("review:change:reflect.q3"))
    assert reply(user, lambda: user.send("meant for 3")).html == t("review.saved")
    assert stored(data_dir, user, "reflect.") == {"reflect.q3": "meant for 3"}


def test_not_now_leaves_a_change(bot: BotProcess, user: FakeUser, data_dir: Path) -> None:
    begin(user)
    view(user, "reflect")
    reply(user, lambda: user.press("review:change:reflect.q4"))
    assert reply(user, lambda: user.press("review:later")).html == t("common.later")
    assert reply(user, lambda: user.send("not an answer")).html == t("errors.not_understood")
    assert stored(data_dir, user, "reflect.") == {}


def test_after_three_months_ratings_and_choices(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    begin(user)
    listed = view(user, "finish")
    data = buttons(listed)
    assert "review:change:finish.surprise_detail" not in data  # only after a "yes"
    assert "review:change:finish.helpful" in data

    reply(user, lambda: user.press("review:change:finish.helpful"))
    for bad in ["11", "0", "purple", "7.5", "٧"]:
        said = until(user, lambda b=bad: user.send(b), lambda m: m.has_button("10"))
        assert said[0].html == t(rating_problem(bad) or "?"), bad
    assert stored(data_dir, user, "finish.") == {}
    assert reply(user, lambda: user.press("review:set:finish.helpful:7")).html == t("review.saved")
    assert stored(data_dir, user, "finish.") == {"finish.helpful": "7"}

    view(user, "finish")
    reply(user, lambda: user.press("review:change:finish.surprise"))
    said = until(user, lambda: user.send("yes"), lambda m: m.has_button(t("common.yes")))
    assert said[0].html == t("common.expect_buttons")
    assert reply(user, lambda: user.press(t("common.yes"))).html == t("review.saved")
    assert stored(data_dir, user, "finish.")["finish.surprise"] == "yes"

    listed = view(user, "finish")
    shown = "\n".join(m.html or "" for m in listed)
    assert t("review.rating", value=7) in shown and t("common.yes") in shown
    assert "review:change:finish.surprise_detail" in buttons(listed)


def test_long_answers_fit_in_messages(bot: BotProcess, user: FakeUser, data_dir: Path) -> None:
    begin(user)
    # Ten long answers don't fit in one message even cut short; one of 4000 characters doesn't
    # fit with its question; and escaping makes "&" five characters long.
    answers = [f"{n} & <{n}> " * 500 for n in range(10)]
    reflect(user, list(answers))
    listed = view(user, "reflect")
    assert len(listed) > 1
    assert all(utf16_len(m.text) <= 4096 for m in listed)
    full = until(user, lambda: user.press("review:show:reflect.q8"), back_home)
    assert len(full) > 1
    assert all(utf16_len(m.text) <= 4096 for m in full)
    text = "".join("".join(m.text.split()) for m in full)
    assert "".join(answers[9].split()) in text


# The session chart ------------------------------------------------------------------------------


def log_session(user: FakeUser) -> None:
    """/log for the first time: today, a topic, trust 4, safety 6, a therapist role."""
    assert to_the_date(user).html == prompt_text("log.date")
    for act in (
        lambda: user.press("log:today"),
        lambda: user.send("Work & <sleep>"),
        lambda: user.press("log:trust:4"),
        lambda: user.press("log:safety:6"),
    ):
        reply(user, act)
    until(user, lambda: user.send("Ask me more"), has_data("log:another"))


def test_correct_and_remove_a_session(bot: BotProcess, user: FakeUser, data_dir: Path) -> None:
    begin(user)
    log_session(user)
    [row] = chart(data_dir, user)
    assert (row.topic, row.trust, row.complete) == ("Work & <sleep>", 4, True)

    overview(user)
    listed = until(user, lambda: user.press("review:chart:0"), back_home)
    assert escape("Work & <sleep>") in (listed[0].html or "")
    entry = until(user, lambda: user.press(f"review:entry:{row.uid}"), back_home)
    assert escape("Work & <sleep>") in "\n".join(m.html or "" for m in entry)

    prompt = reply(user, lambda: user.press(f"review:fix:{row.uid}:trust"))
    assert prompt_text("log.trust") in (prompt.html or "")
    said = until(user, lambda: user.send("11"), lambda m: m.has_button("10"))
    assert said[0].html == t("input.rating_above")
    assert chart(data_dir, user)[0].trust == 4
    saved = until(user, lambda: user.press(f"review:set:s.{row.uid}.trust:8"), back_home)
    assert saved[0].html == t("review.saved")
    assert chart(data_dir, user)[0].trust == 8

    day = today() - dt.timedelta(days=3)
    reply(user, lambda: user.press(f"review:fix:{row.uid}:date"))
    future = today() + dt.timedelta(days=2)
    said = until(
        user, lambda: user.send(future.isoformat()), lambda m: m.has_button(t("log.today_button"))
    )
    assert said[0].html == t("log.date_future")
    assert chart(data_dir, user)[0].session_date == today()
    until(user, lambda: user.send(day.isoformat()), back_home)
    assert chart(data_dir, user)[0].session_date == day

    reply(user, lambda: user.press(f"review:fix:{row.uid}:topic"))
    until(user, lambda: user.send("Family"), back_home)
    assert chart(data_dir, user)[0].topic == "Family"

    ask = reply(user, lambda: user.press(f"review:remove:{row.uid}"))
    assert ask.html == t("review.chart.remove_ask", date=show_date(day))
    assert reply(user, lambda: user.press(t("review.chart.remove_no"))).html == t("review.kept")
    assert len(chart(data_dir, user)) == 1
    reply(user, lambda: user.press(f"review:remove:{row.uid}"))
    removed = reply(user, lambda: user.press(t("review.chart.remove_yes")))
    assert removed.html == t("review.chart.removed")
    assert chart(data_dir, user) == []
    # Its buttons are out of date now.
    answered_stale(user, user.press(f"review:entry:{row.uid}", listed[0]))
    assert reply(user, lambda: user.press("review:chart:0")).html == t("review.chart.empty")


def test_a_long_chart_comes_in_pages(bot: BotProcess, user: FakeUser, data_dir: Path) -> None:
    begin(user)
    days = [today() - dt.timedelta(days=n) for n in range(23, 0, -1)]
    uids = add_sessions(data_dir, user, days)
    overview(user)
    first = until(user, lambda: user.press("review:chart:0"), back_home)
    entries = [d for d in buttons(first) if d.startswith("review:entry:")]
    assert entries == [f"review:entry:{uid}" for uid in reversed(uids[3:])]
    assert "review:chart:1" in buttons(first)
    second = until(user, lambda: user.press("review:chart:1"), back_home)
    entries = [d for d in buttons(second) if d.startswith("review:entry:")]
    assert entries == [f"review:entry:{uid}" for uid in reversed(uids[:3])]
    assert "review:chart:0" in buttons(second)


# Nobody else's answers ---------------------------------------------------------------------------


def test_nobody_can_reach_anyone_elses_answers(
    bot: BotProcess, user: FakeUser, user2: FakeUser, data_dir: Path
) -> None:
    begin(user)
    begin(user2)
    reflect(user, ["only Ana's words"])
    [mine] = add_sessions(data_dir, user, [today()])
    [theirs] = add_sessions(data_dir, user2, [today()])

    listed = view(user2, "reflect")
    assert "only Ana" not in "\n".join(m.content for m in listed)

    overview(user)
    for forged in (
        f"review:entry:{theirs}",
        f"review:fix:{theirs}:trust",
        f"review:remove:{theirs}",
    ):
        answered_stale(user, forge(user, forged))
    # Even while a removal waits for Yes, another person's row can't take its place.
    until(user, lambda: user.press("review:chart:0"), back_home)
    until(user, lambda: user.press(f"review:entry:{mine}"), back_home)
    reply(user, lambda: user.press(f"review:remove:{mine}"))
    answered_stale(user, forge(user, f"review:yes:s.{theirs}"))
    reply(user, lambda: user.press(t("review.chart.remove_no")))
    assert [r.uid for r in chart(data_dir, user2)] == [theirs]
    assert [r.uid for r in chart(data_dir, user)] == [mine]
    assert chart(data_dir, user2)[0].trust == 5
