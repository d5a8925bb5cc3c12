"""One new person walks the whole worksheet, section by section in menu order, then reads it back.

The real bot runs against the fake Telegram server. Along the way every item of the worksheet must
reach the person (compared against the bot's content files, as plain text the way Telegram shows
it); after a crash and restart, /review must show back every answer exactly as it was typed, and
the database must hold exactly those answers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from conversations.sections.start import privacy_note
from conversations.sections.start import welcome as welcome_words
from conversations.worksheet.content import escape, items, t
from conversations.worksheet.dates import show_date
from conversations.worksheet.words import prompt_text
from tests.botproc import BotProcess
from tests.e2e.helpers import (
    back_home,
    chart,
    checked,
    fields,
    marks,
    stored,
    to_the_date,
    today,
    until,
)
from tests.fake_telegram import BotMessage, FakeUser, parse_html
from tests.worksheet import chat, learn_pages, reflect_items

TIMEOUT = 30.0
Done = Callable[[BotMessage], bool]

# What the person types, one distinct phrase per answer. q1 carries HTML-special characters
# (and a literal "&amp;", which must not turn into "&"); q3 and others carry emoji (one a ZWJ
# sequence) and non-Latin scripts (Cyrillic, Arabic, Chinese).
REFLECT = {
    "q1": "Trust is <b>& kept promises</b>, not &amp; tricks",
    "q2": "My grandmother's kitchen: same chair, same tea",
    "q3": "Безопасность — это тишина 🌿 و ثقة 安全感 👩‍⚕️",
    "q4": "Knowing the fifty minutes are mine",
    "q5": "Write it down first, then read it out",
    "q6.1": "No touching, not even a hand on the shoulder",
    "q6.2": "Start and end on time, please",
    "q6.3": "Ask me before anything goes in the notes",
    "q7": "Remember what I said last week",
    "q8": "A two-minute check-in at the very end 🙂",
}
CHECKED = (2, 5)  # checklist statements that apply
MARKED = (2, 6)  # tips marked "I'll try this"
FINISH_TRUST = "Mostly yes — she <i>listens</i> & remembers 💬"
FINISH_DETAIL = "How the numbers rose: 4 → 9 📈"
HELPFUL = "8"


# Reading what the person saw ----------------------------------------------------------------------


def plain(html: str) -> str:
    """Content HTML as the person reads it in Telegram (tags gone, entities decoded)."""
    return parse_html(html).text


def seen_since(user: FakeUser, mark: int) -> str:
    """Everything shown in the chat after a mark, edits of earlier pages included."""
    return "\n".join(event.text for event in user.events(mark))


def assert_reached(seen: str, *contents: str) -> None:
    """Every piece of content (HTML) reached the person as plain text."""
    for content in contents:
        assert plain(content) in seen, f"not shown to the person: {plain(content)!r}"


def all_text(messages: list[BotMessage]) -> str:
    """The plain text of some messages, one after the other."""
    return "\n".join(message.text for message in messages)


def lines_of(messages: list[BotMessage]) -> list[str]:
    """Every line the person reads in some messages."""
    return all_text(messages).splitlines()


# Acting -------------------------------------------------------------------------------------------


def act(user: FakeUser, do: Callable[[], object], done: Done) -> list[BotMessage]:
    """Does something; returns the new bot messages up to the first one that is `done`."""
    return until(user, do, done, timeout=TIMEOUT)


def edited(user: FakeUser, do: Callable[[], object], message: BotMessage) -> BotMessage:
    """Does something that redraws a message in place; returns the message as redrawn."""
    mark = user.mark()
    do()
    return user.wait_for(
        lambda m: m.event == "edit" and m.message_id == message.message_id,
        after=mark,
        timeout=TIMEOUT,
    )


def is_html(key: str) -> Done:
    """Whether a message is exactly one content text."""
    return lambda m: m.html == chat(key)


# Start --------------------------------------------------------------------------------------------


def walk_start(user: FakeUser) -> None:
    """/start shows the objective and the privacy note; "I agree" opens the menu."""
    welcome, privacy = act(
        user, lambda: user.command("start"), lambda m: m.has_button(t("start.agree_button"))
    )
    assert welcome.html == welcome_words()
    assert_reached(welcome.text, welcome_words())  # the worksheet's objective
    assert privacy.html == privacy_note()
    [menu] = act(
        user, lambda: user.press(t("start.agree_button"), privacy), is_html("start.agreed")
    )
    # The worksheet's sections are in the menu in the order this walk follows, and My answers.
    order = [
        t(f"menu.{name}") for name in ("learn", "checklist", "tips", "reflect", "log", "finish")
    ]
    assert [label for label in menu.button_labels if label in order] == order
    assert t("menu.review") in menu.button_labels


# 1. What to Know ----------------------------------------------------------------------------------


def walk_learn(user: FakeUser, data_dir: Path) -> None:
    """Reads every page with Next, then Done on the last one."""
    pages = learn_pages()
    mark = user.mark()
    [page] = act(user, lambda: user.command("learn"), lambda m: m.has_button(t("common.next")))
    for number in range(1, len(pages) + 1):
        heading = t("learn.progress", number=number, total=len(pages))
        assert page.html == f"{heading}\n\n{pages[number - 1]}"
        if number < len(pages):
            page = edited(user, lambda p=page: user.press(t("common.next"), p), page)
    assert page.has_button(t("common.done"))
    act(user, lambda: user.press(t("common.done"), page), is_html("learn.closing"))

    paragraphs = [p for page_text in pages for p in page_text.split("\n\n")]
    assert len(paragraphs) == 6  # the six paragraphs of the worksheet's "What to Know"
    assert_reached(seen_since(user, mark), *paragraphs)
    assert marks(data_dir, user, "learn.done") == {"learn.done"}


# 2. Are you holding back? -------------------------------------------------------------------------


def walk_checklist(user: FakeUser, data_dir: Path) -> None:
    """Checks two statements, then Done: the follow-up and the advice follow."""
    statements = items("checklist.items")
    intro, listing = act(
        user, lambda: user.command("checklist"), lambda m: m.has_button(t("common.done"))
    )
    assert intro.html == t("checklist.intro")
    assert len(statements) == 8
    for item in statements:
        assert_reached(listing.text, item["title"], item["text"])
    toggles = [d for row in listing.buttons for _, d in row if d.startswith("checklist:toggle:")]
    assert len(toggles) == 8

    for number in CHECKED:
        listing = edited(
            user, lambda n=number, m=listing: user.press(f"checklist:toggle:{n}", m), listing
        )
    assert checked(listing) == list(CHECKED)

    sent = act(user, lambda: user.press(t("common.done"), listing), is_html("checklist.next"))
    # First what was ticked (number and full title), then the seed's follow-up.
    assert [m.html for m in sent][1:] == [*items("checklist.followup"), t("checklist.next")]
    for number in CHECKED:
        title = items("checklist.items")[number - 1]["title"].rstrip(".")
        assert f"{number}. {title}" in sent[0].text
    assert_reached(all_text(sent), *items("checklist.followup"))
    selected = ",".join(map(str, CHECKED))
    assert stored(data_dir, user, "checklist.") == {"checklist.selected": selected}
    assert marks(data_dir, user, "checklist.done") == {"checklist.done"}


# 3. How can you build trust? ----------------------------------------------------------------------


def walk_tips(user: FakeUser, data_dir: Path) -> None:
    """Goes through all seven tips, marking two to try; the closing words and a summary follow."""
    tips = items("tips.items")
    assert len(tips) == 7
    intro, tip = act(user, lambda: user.command("tips"), lambda m: m.has_button(t("tips.mark")))
    assert intro.html == t("tips.intro")
    for number, item in enumerate(tips, start=1):
        assert_reached(tip.text, t("tips.progress", number=number, total=len(tips)))
        assert_reached(tip.text, item["title"], item["text"], item["example"])
        if number in MARKED:
            tip = edited(user, lambda n=number, m=tip: user.press(f"tips:mark:{n}", m), tip)
            assert_reached(tip.text, t("tips.marked_note"))
            assert tip.has_button(t("tips.unmark"))
        if number < len(tips):
            tip = edited(user, lambda n=number, m=tip: user.press(f"tips:next:{n}", m), tip)

    summary_start = t("tips.summary").split("{marked}")[0]
    closing, summary = act(
        user,
        lambda: user.press(f"tips:next:{len(tips)}", tip),
        lambda m: bool(m.html and m.html.startswith(summary_start)),
    )
    assert closing.html == t("tips.closing")
    assert_reached(closing.text, t("tips.closing"))
    titles = [item["title"] for item in tips]
    assert [title for title in titles if title in summary.text] == [titles[n - 1] for n in MARKED]
    assert stored(data_dir, user, "tips.") == {"tips.marked": ",".join(map(str, MARKED))}
    assert marks(data_dir, user, "tips.done") == {"tips.done"}


# 4. Reflections -----------------------------------------------------------------------------------


def worksheet_number(key: str) -> int:
    """The worksheet's number of a reflection prompt: q6.2 is part of question 6."""
    return int(key.removeprefix("q").split(".")[0])


def asks(index: int) -> Done:
    """Whether a message asks reflection prompt `index` (0-based)."""
    text = reflect_items()[index]["text"]
    return lambda m: bool(m.html and m.html.endswith(text))


def walk_reflect(user: FakeUser, data_dir: Path) -> list[str]:
    """Answers all ten prompts, one message each, waiting for every next prompt.

    Returns the heading line of each prompt as shown ("Question 1 of 8", ...).
    """
    prompts = reflect_items()
    numbers = [worksheet_number(item["key"]) for item in prompts]
    assert numbers == [1, 2, 3, 4, 5, 6, 6, 6, 7, 8]  # eight questions, the sixth takes three
    assert sorted(REFLECT) == sorted(item["key"] for item in prompts)

    intro, prompt = act(user, lambda: user.command("reflect"), asks(0))
    assert intro.html == t("reflect.intro")
    assert_reached(intro.text, t("reflect.intro"))
    headings = []
    for index, item in enumerate(prompts):
        assert asks(index)(prompt)
        assert_reached(prompt.text, item["text"])
        assert prompt.button_labels == [t("common.skip"), t("common.not_now")]
        headings.append(prompt.text.split("\n")[0])
        answer = REFLECT[item["key"]]
        last = index == len(prompts) - 1
        done = is_html("reflect.done") if last else asks(index + 1)
        [prompt] = act(user, lambda a=answer: user.send(a), done)
    assert stored(data_dir, user, "reflect.") == {f"reflect.{k}": v for k, v in REFLECT.items()}
    return headings


# 5. Session chart ---------------------------------------------------------------------------------


Step = Callable[[FakeUser, BotMessage], object]


def log_entry(
    user: FakeUser, open_log: Callable[[], object], steps: list[Step], day: dt.date
) -> tuple[list[BotMessage], BotMessage]:
    """One chart entry: opens /log, then date, topic, trust, safety and therapist role.

    Each step is given the prompt it answers. Returns what opening sent and the confirmation.
    """
    opened = act(user, open_log, is_html("log.date"))
    prompt = opened[-1]
    assert_reached(prompt.text, prompt_text("log.date"))
    assert prompt.button_labels == [
        t("log.today_button"),
        t("log.yesterday_button"),
        t("common.skip"),
        t("common.not_now"),
    ]
    heading = t("log.heading", date=show_date(day))
    keys = ["log.topic", "log.trust", "log.safety", "log.role"]
    for step, key in zip(steps[:-1], keys, strict=True):
        [prompt] = act(user, lambda s=step, p=prompt: s(user, p), lambda m: True)
        assert prompt.html == f"{heading}\n\n{chat(key)}"
        assert_reached(prompt.text, chat(key))  # the trust and safety anchors among them
        if key in ("log.trust", "log.safety"):
            assert prompt.button_labels[:10] == [str(n) for n in range(1, 11)]
    [confirmation] = act(
        user, lambda: steps[-1](user, prompt), lambda m: m.has_button(t("log.another_button"))
    )
    return opened, confirmation


def press(label: str) -> Step:
    """A step that taps a button of the prompt."""
    return lambda user, prompt: user.press(label, prompt)


def type_(text: str) -> Step:
    """A step that types a message."""
    return lambda user, prompt: user.send(text)


class Session(NamedTuple):
    """One session the person logs."""

    days_ago: int
    topic: str
    trust: int
    safety: int
    role: str

    @property
    def day(self) -> dt.date:
        """The session's date."""
        return today() - dt.timedelta(days=self.days_ago)


# Newest first, as /review lists them.
SESSIONS = [
    Session(0, "Mum & work <stress>", 7, 8, "Ask about my week <first> & wait"),
    Session(1, "Sleep 😴 and dreams", 4, 5, "Slow down when I go quiet"),
    Session(3, "Boundaries: «нет» is okay", 9, 10, "Nothing — it felt right ✨"),
]


def rating(value: int) -> str:
    """A rating as the chart shows it ("7/10")."""
    return t("log.rating_value", value=value)


def walk_log(user: FakeUser, data_dir: Path) -> None:
    """Logs three sessions: Today, Yesterday and a typed date (DD.MM.YYYY)."""
    today_, yesterday, earlier = SESSIONS
    opened, first = log_entry(
        user,
        lambda: to_the_date(user),  # a person without a time zone is asked once: Skip
        [
            press(t("log.today_button")),
            type_(today_.topic),
            press(str(today_.trust)),
            press(str(today_.safety)),
            type_(today_.role),
        ],
        today_.day,
    )
    zone_question = f"{t('schedule.zone_why_today')}\n\n{t('schedule.zone_prompt')}"
    assert [m.html for m in opened] == [
        t("log.intro"),
        zone_question,
        t("schedule.zone_skipped"),
        prompt_text("log.date"),
    ]
    assert_reached(opened[0].text, t("log.intro"))

    opened, second = log_entry(
        user,
        lambda: user.press(t("log.another_button"), first),
        [
            press(t("log.yesterday_button")),
            type_(yesterday.topic),
            type_(f" {yesterday.trust} "),  # the one typed rating
            press(str(yesterday.safety)),
            type_(yesterday.role),
        ],
        yesterday.day,
    )
    assert [m.html for m in opened] == [prompt_text("log.date")]  # no introduction the second time

    _, third = log_entry(
        user,
        lambda: user.command("log"),
        [
            type_(earlier.day.strftime("%d.%m.%Y")),
            type_(earlier.topic),
            press(str(earlier.trust)),
            press(str(earlier.safety)),
            type_(earlier.role),
        ],
        earlier.day,
    )
    for confirmation, session in zip([first, second, third], SESSIONS, strict=True):
        summary = t(
            "log.saved",
            date=show_date(session.day),
            topic=session.topic,
            trust=rating(session.trust),
            safety=rating(session.safety),
            role=session.role,
        )
        assert confirmation.text == plain(summary)  # what was typed, shown as typed
    assert [fields(r) for r in chart(data_dir, user)] == expected_chart()


def expected_chart() -> list[tuple[object, ...]]:
    """The three sessions as they should be stored, oldest first."""
    return [(s.day, s.topic, s.trust, s.safety, s.role, True) for s in reversed(SESSIONS)]


# 6 and 7. Looking back ----------------------------------------------------------------------------


def walk_finish(user: FakeUser, data_dir: Path) -> None:
    """Trust in words, a surprise (Yes, described) and a helpfulness rating."""
    intro, trust = act(user, lambda: user.command("finish"), is_html("finish.trust"))
    assert intro.html == t("finish.intro")
    assert_reached(trust.text, prompt_text("finish.trust"))
    [surprise] = act(user, lambda: user.send(FINISH_TRUST), is_html("finish.surprise"))
    assert_reached(surprise.text, prompt_text("finish.surprise"))
    assert surprise.button_labels[:2] == [t("common.yes"), t("common.no")]
    [detail] = act(
        user, lambda: user.press(t("common.yes"), surprise), is_html("finish.surprise_detail")
    )
    assert_reached(detail.text, prompt_text("finish.surprise_detail"))
    [helpful] = act(user, lambda: user.send(FINISH_DETAIL), is_html("finish.helpful"))
    assert_reached(helpful.text, prompt_text("finish.helpful"))
    assert helpful.button_labels[:10] == [str(n) for n in range(1, 11)]
    act(user, lambda: user.press(HELPFUL, helpful), is_html("finish.done"))
    assert stored(data_dir, user, "finish.") == finish_answers()


def finish_answers() -> dict[str, str]:
    """The answers of /finish as they should be stored."""
    return {
        "finish.trust": FINISH_TRUST,
        "finish.surprise": "yes",
        "finish.surprise_detail": FINISH_DETAIL,
        "finish.helpful": HELPFUL,
    }


# /review ------------------------------------------------------------------------------------------


def open_view(user: FakeUser, overview: BotMessage, data: str) -> list[BotMessage]:
    """Taps a button of the overview (which stays usable) and returns that view's messages."""
    return act(user, lambda: user.press(data, overview), back_home)


def review_overview(user: FakeUser) -> BotMessage:
    """/review: one status line per section says how far the person has come."""
    [overview] = act(
        user,
        lambda: user.command("review"),
        lambda m: bool(m.html and m.html.startswith(t("review.title"))),
    )
    statuses = [
        (t("menu.learn"), t("review.status.read")),
        (t("menu.checklist"), t("review.status.checked", count=len(CHECKED), total=8)),
        (t("menu.tips"), t("review.status.marked", count=len(MARKED), total=7)),
        (t("menu.reflect"), t("review.status.answered", answered=8, total=8)),
        (t("review.chart_label"), t("review.status.sessions", count=3)),
        (t("menu.finish"), t("review.status.answered", answered=4, total=4)),
    ]
    for label, status in statuses:
        assert plain(t("review.line", label=label, status=status)) in overview.text.splitlines()
    return overview


def review_sections(user: FakeUser, overview: BotMessage) -> None:
    """What to know, the checklist and the tips, as chosen."""
    [learn] = open_view(user, overview, "review:view:learn")
    assert learn.html == t("review.pages.read", name=t("menu.learn"))

    [listed] = open_view(user, overview, "review:view:checklist")
    for number, item in enumerate(items("checklist.items"), start=1):
        title = item["title"].rstrip(".")
        assert (f"• {title}" in listed.text.splitlines()) == (number in CHECKED), title

    [marked] = open_view(user, overview, "review:view:tips")
    for number, item in enumerate(items("tips.items"), start=1):
        title = item["title"]
        assert (f"• {title}" in marked.text.splitlines()) == (number in MARKED), title


def review_reflections(user: FakeUser, overview: BotMessage) -> None:
    """Every reflection shown exactly as typed: the HTML-special one as text, not markup."""
    listed = open_view(user, overview, "review:view:reflect")
    lines = lines_of(listed)
    for key, answer in REFLECT.items():
        assert answer in lines, f"{key}: {answer!r} not shown as typed"
        assert escape(answer) in "\n".join(m.html or "" for m in listed)
    assert "<b>&" in all_text(listed)
    assert plain(t("review.not_answered")) not in all_text(listed)
    # Short answers: nothing is cut short, so there is no "Show" button.
    assert not any(
        d.startswith("review:show:") for m in listed for row in m.buttons for _, d in row
    )


def review_chart(user: FakeUser, overview: BotMessage) -> None:
    """The chart lists the three sessions, newest first; each opens in full."""
    listed = open_view(user, overview, "review:chart:0")
    expected = [
        plain(
            t(
                "review.chart.line",
                date=show_date(s.day),
                trust=rating(s.trust),
                safety=rating(s.safety),
                topic=s.topic,
            )
        )
        for s in SESSIONS
    ]
    assert [line for line in lines_of(listed) if line in expected] == expected
    entries = [d for m in listed for row in m.buttons for _, d in row if d.startswith("review:en")]
    assert len(entries) == len(SESSIONS)

    for data, session in zip(entries, SESSIONS, strict=True):
        shown = act(user, lambda d=data: user.press(d), back_home)
        head = t(
            "review.chart.entry",
            date=show_date(session.day),
            trust=rating(session.trust),
            safety=rating(session.safety),
        )
        assert plain(head) in all_text(shown)
        assert session.topic in lines_of(shown) and session.role in lines_of(shown)


def review_finish(user: FakeUser, overview: BotMessage) -> None:
    """After three months: the words, Yes, what surprised, and the rating."""
    listed = open_view(user, overview, "review:view:finish")
    lines = lines_of(listed)
    assert FINISH_TRUST in lines and FINISH_DETAIL in lines
    assert plain(t("common.yes")) in lines
    assert plain(t("review.rating", value=HELPFUL)) in lines


# The walk -----------------------------------------------------------------------------------------


def test_a_new_person_walks_the_whole_worksheet_and_finds_every_answer_after_a_restart(
    bot: BotProcess, user: FakeUser, data_dir: Path
) -> None:
    walk_start(user)
    walk_learn(user, data_dir)
    walk_checklist(user, data_dir)
    walk_tips(user, data_dir)
    headings = walk_reflect(user, data_dir)
    walk_log(user, data_dir)
    walk_finish(user, data_dir)

    bot.kill()
    bot.start().wait_ready()

    overview = review_overview(user)
    review_sections(user, overview)
    review_reflections(user, overview)
    review_chart(user, overview)
    review_finish(user, overview)

    assert marks(data_dir, user) >= {"learn.done", "checklist.done", "tips.done"}
    assert stored(data_dir, user) == {
        "checklist.selected": ",".join(map(str, CHECKED)),
        "tips.marked": ",".join(map(str, MARKED)),
        **{f"reflect.{key}": answer for key, answer in REFLECT.items()},
        **finish_answers(),
    }
    assert [fields(r) for r in chart(data_dir, user)] == expected_chart()

    # Checked last so that a wrong heading doesn't hide the rest of the walk: each reflection
    # prompt is headed with its question number in the worksheet (q6.1-q6.3 are all "6").
    numbers = [worksheet_number(item["key"]) for item in reflect_items()]
    assert headings == [plain(t("reflect.progress", number=n, total=8)) for n in numbers]
