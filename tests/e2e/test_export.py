"""/export: three documents that hold exactly what the person entered, and nothing left on disk."""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pypdf import PdfReader

from conversations.files.exports import (
    REPLACEMENT,
    TICKED,
    UNTICKED,
    columns,
    fallback_fonts,
    paragraphs,
    plain,
)
from conversations.worksheet import words
from conversations.worksheet.content import t
from conversations.worksheet.current import worksheet
from conversations.worksheet.model import Prompt, SectionKind
from conversations.worksheet.words import prompt_text
from storage import Store
from storage.export import FORMAT, VERSION, gather
from tests.botproc import BotProcess
from tests.conftest import BotFactory
from tests.e2e.helpers import begin, to_the_date, today, with_store
from tests.fake_telegram import BotMessage, FakeTelegram, FakeUser

TIMEOUT = 30.0
# What the person types in /reflect: Cyrillic, Arabic, Chinese, emoji (one a ZWJ sequence),
# Greek, HTML-special characters. q5 is skipped, q8 left for later (never reached).
REFLECT = {
    "q1": "Доверие — это когда меня слышат",
    "q2": "الثقة تعني الأمان",
    "q3": "安全感 is quiet 🌿 and 👩‍⚕️ kind",
    "q4": "Ήρεμος χώρος, <b>no</b> rush & no phones",
    "q6.1": "No touching",
    "q6.2": "Start on time",
    "q6.3": "Ask before taking notes 🙂",
    "q7": "Remember what I said last week",
}
SKIPPED = "q5"
ARABIC = REFLECT["q2"]
# Two chart entries whose cells a spreadsheet would run as formulas, and a draft.
ENTRIES = [
    ("=SUM(A1) & <work>", 7, 8, "@x: ask me more"),
    ("-2 hours of sleep", 4, 5, "+1 for the tea"),
]
DRAFT_TOPIC = "half-written"
REFLECTIONS, TIPS = worksheet().section("reflect"), worksheet().section("tips")


def short(prompt: Prompt) -> str:
    """A reflection prompt's key within its section ("q6.2")."""
    return prompt.key.removeprefix("reflect.")


def title(section_id: str, item_id: str) -> str:
    """A statement's or tip's title, as the PDF prints it."""
    return plain(str(words.of(worksheet().section(section_id).item(item_id))["title"]))


def question(prompt: Prompt) -> str:
    """A question as the PDF prints it: its label and its own words."""
    text = words.field(prompt.item, "text") if prompt.item.shown_if else words.question(prompt)
    return squash(f"{prompt.item.label}. {plain(text or '')}")


def step(user: FakeUser, act: Callable[[], object]) -> BotMessage:
    """Does something and returns the next new bot message."""
    mark = user.mark()
    act()
    return user.wait_for(lambda m: m.event == "new", after=mark, timeout=TIMEOUT)


def walk_reflect(user: FakeUser) -> None:
    """Answers /reflect: everything in REFLECT, Skip on q5, Not now on q8."""
    step(user, lambda: user.command("reflect"))  # the introduction; the first prompt follows
    user.wait_for(lambda m: m.has_button(t("common.skip")), timeout=TIMEOUT)
    for prompt in REFLECTIONS.prompts():
        key = short(prompt)
        if key == SKIPPED:
            step(user, functools.partial(user.press, f"reflect:skip:ask.{key}"))
        elif key in REFLECT:
            step(user, functools.partial(user.send, REFLECT[key]))
        else:
            assert step(user, lambda: user.press("reflect:later")).html == t("common.later")


def log_entry(user: FakeUser, day: str, topic: str, trust: int, safety: int, role: str) -> None:
    """One /log entry: the date by button, the trust by button, the rest typed."""
    assert to_the_date(user).html == prompt_text("log.date")
    step(user, lambda: user.press(t(f"log.{day}_button")))
    step(user, lambda: user.send(topic))
    step(user, lambda: user.press(f"log:trust:{trust}"))
    step(user, lambda: user.send(str(safety)))
    step(user, lambda: user.send(role))


def start_draft(user: FakeUser) -> None:
    """A chart entry left after its topic (a draft)."""
    to_the_date(user)
    step(user, lambda: user.press(t("log.today_button")))
    step(user, lambda: user.send(DRAFT_TOPIC))


def seed_marks(data_dir: Path, user: FakeUser) -> None:
    """Checklist choices, tip marks and the closing answers, written as their sections do."""

    async def write(store: Store) -> None:
        async with store.unit(user.user_id) as unit:
            await unit.save_answer("checklist.selected", "1,4")
            await unit.save_answer("tips.marked", "2")
            await unit.save_answer("finish.trust", "Mostly — она слушает")
            await unit.save_answer("finish.surprise", "no")
            await unit.save_answer("finish.helpful", "8")

    with_store(data_dir, write)


def export(user: FakeUser, act: Callable[[], object]) -> list[BotMessage]:
    """Does something that exports; returns the new messages up to the closing line."""
    mark = user.mark()
    act()
    user.wait_for(lambda m: m.html == t("export.after"), after=mark, timeout=TIMEOUT)
    return [e for e in user.events(mark) if e.event == "new"]


def documents(fake: FakeTelegram, sent: list[BotMessage]) -> dict[str, bytes]:
    """The documents among some messages, by file name."""
    return {m.document_name or "": fake.file_bytes(m) for m in sent if m.document is not None}


def squash(text: str) -> str:
    """Text with every run of white space as one space (PDF lines wrap anywhere)."""
    return re.sub(r"\s+", " ", text).strip()


def pdf_text(content: bytes) -> str:
    """All text of a PDF, as pypdf extracts it, white space squashed."""
    return squash(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages))


def listing(folder: Path) -> set[str]:
    """Every path under a folder."""
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def without(record: dict[str, Any], *names: str) -> dict[str, Any]:
    """A record without some fields (times that differ on every run)."""
    return {k: v for k, v in record.items() if k not in names}


def test_export_holds_exactly_what_was_entered_and_leaves_no_file(
    bot_factory: BotFactory, fake: FakeTelegram, user: FakeUser, data_dir: Path, tmp_path: Path
) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    # The bot's temporary folder is one of its own, so any temporary file would show up there.
    bot = bot_factory({"TMPDIR": str(scratch)}).start().wait_ready()
    begin(user)
    walk_reflect(user)
    log_entry(user, "yesterday", *ENTRIES[0])
    log_entry(user, "today", *ENTRIES[1])
    start_draft(user)
    seed_marks(data_dir, user)
    before = listing(data_dir)

    sent = export(user, lambda: user.command("export"))

    assert sent[0].html == t("export.intro")
    day = today()
    names = [t(f"export.{kind}_name", date=day) for kind in ("pdf", "json", "csv")]
    files = documents(fake, sent)
    assert list(files) == names
    captions = [m.caption for m in sent if m.document is not None]
    assert captions == [t(f"export.{kind}_caption") for kind in ("pdf", "json", "csv")]
    pdf, raw_json, raw_csv = (files[name] for name in names)

    # JSON: everything, exactly as entered and as stored.
    data = json.loads(raw_json)
    assert (data["format"], data["version"]) == (FORMAT, VERSION)
    expected_answers: dict[str, tuple[str | None, bool]] = {
        f"reflect.{k}": (v, False) for k, v in REFLECT.items()
    }
    expected_answers[f"reflect.{SKIPPED}"] = (None, True)
    expected_answers.update(
        {
            "checklist.selected": ("1,4", False),
            "tips.marked": ("2", False),
            "finish.trust": ("Mostly — она слушает", False),
            "finish.surprise": ("no", False),
            "finish.helpful": ("8", False),
        }
    )
    assert [(a["key"], a["text"], a["skipped"]) for a in data["answers"]] == [
        (key, *expected_answers[key]) for key in sorted(expected_answers)
    ]
    yesterday = (day - dt.timedelta(days=1)).isoformat()
    assert [
        (s["session_date"], s["topic"], s["trust"], s["safety"], s["therapist_role"], s["complete"])
        for s in data["sessions"]
    ] == [
        (yesterday, *ENTRIES[0], True),
        (day.isoformat(), *ENTRIES[1], True),
        (day.isoformat(), DRAFT_TOPIC, None, None, None, False),
    ]
    person = data["person"]
    assert person["telegram_id"] == user.user_id
    assert person["timezone"] is None and person["reminders_paused"] is False
    assert data["positions"] == []  # /export left the draft's /log, as any command does
    now = with_store(data_dir, lambda store: gather(store, user.user_id))
    # The export itself is recorded after the files are made, so it is the one event more.
    assert now["events"][:-1] == data["events"]
    assert [e["kind"] for e in now["events"]] == ["consented", "exported"]
    assert without(now, "exported_at", "events") == without(data, "exported_at", "events")

    # CSV: the completed chart rows, formulas neutralised.
    assert raw_csv.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw_csv.decode("utf-8-sig"))))
    assert rows == [
        columns(),
        [yesterday, "'=SUM(A1) & <work>", "7", "8", "'@x: ask me more"],
        [day.isoformat(), "'-2 hours of sleep", "4", "5", "'+1 for the tea"],
    ]

    # PDF: the title and objective, the questions with their labels and the answers under them,
    # non-Latin text as text.
    text = pdf_text(pdf)
    assert squash(plain(t("worksheet.title"))) in text
    assert squash(plain(t("worksheet.objective"))) in text
    answers = {a["key"]: a["text"] for a in data["answers"]}
    for section in worksheet().of_kind(SectionKind.PROMPTS):
        for prompt in section.on_paper(answers):
            assert question(prompt) in text, prompt.key
    detail = worksheet().prompt("finish.surprise_detail")
    assert detail is not None and question(detail) not in text  # the surprise was a "no"
    for key, answer in REFLECT.items():
        if key not in ("q2", "q3", "q6.3"):  # the ones with Arabic, Chinese or emoji
            assert squash(answer) in text, key
    assert f"Ask before taking notes {REPLACEMENT}" in text  # 🙂: no font here draws it
    assert ARABIC in text or ARABIC[::-1] in text  # drawn right to left, read out either way
    if fallback_fonts():
        assert REFLECT["q3"].split()[0] in text
    else:
        assert f"{REPLACEMENT}{REPLACEMENT}{REPLACEMENT} is quiet" in text
        assert squash(plain(t("export.pdf.missing"))) in text
    assert f"{TICKED} {title('checklist', '1')}" in text
    assert f"{UNTICKED} {title('checklist', '2')}" in text
    assert squash(paragraphs("checklist.followup")[-1]) in text  # two statements apply
    assert f"{TICKED} {title('tips', '2')}" in text
    for item in TIPS.items:
        assert squash(plain(words.field(item, "example") or "")) in text
    assert "=SUM(A1) & <work>" in text and DRAFT_TOPIC not in text
    assert "Mostly — она слушает" in text
    assert plain(t("export.pdf.rating", value=8)) in text
    assert plain(t("export.pdf.trend")) in text  # two scored sessions: the trend chart

    # Nothing on disk: no file in the bot's temporary folder or its data folder.
    assert list(scratch.iterdir()) == []
    assert listing(data_dir) == before
    bot.stop()


def test_the_menu_button_exports_a_blank_worksheet_and_leaves_the_section_one_was_in(
    bot: BotProcess, fake: FakeTelegram, user: FakeUser, data_dir: Path
) -> None:
    begin(user)
    first = step(user, lambda: user.command("reflect"))
    assert first.html == t("reflect.intro")
    user.wait_for(lambda m: m.has_button(t("common.skip")), timeout=TIMEOUT)
    menu = step(user, lambda: user.command("menu"))

    sent = export(user, lambda: user.press("menu:export", menu))

    files = documents(fake, sent)
    assert len(files) == 3
    pdf, raw_json, raw_csv = files.values()
    data = json.loads(raw_json)
    assert data["answers"] == [] and data["sessions"] == []
    assert list(csv.reader(io.StringIO(raw_csv.decode("utf-8-sig")))) == [columns()]
    text = pdf_text(pdf)
    assert squash(plain(t("export.pdf.no_sessions"))) in text
    assert plain(t("export.pdf.trend")) not in text  # no sessions, no trend chart
    # Sections never opened show their questions all the same, to answer by hand.
    for section in worksheet().of_kind(SectionKind.PROMPTS):
        for prompt in section.on_paper({}):
            assert question(prompt) in text, prompt.key
    # /reflect was left: a message now is not taken as an answer to its first question.
    reply = step(user, lambda: user.send("just saying hello"))
    assert reply.html == t("errors.not_understood")
    assert with_store(data_dir, lambda store: store.answers(user.user_id)) == {}


def test_export_pressed_again_while_the_files_are_made_sends_one_set_and_a_kind_word(
    bot: BotProcess, fake: FakeTelegram, user: FakeUser
) -> None:
    begin(user)
    # The first file's upload is held a moment, so the second /export comes while it is made.
    fake.stall("sendDocument", 3.0, chat_id=user.chat_id)
    mark = user.mark()
    user.command("export")
    user.command("export")
    user.wait_for(lambda m: m.html == t("export.after"), after=mark, timeout=TIMEOUT)
    # A later message is answered after both requests were handled: nothing more is on its way.
    reply = step(user, lambda: user.send("just saying hello"))
    assert reply.html == t("errors.not_understood")
    sent = [m for m in user.events(mark) if m.event == "new"]
    assert [m.html for m in sent].count(t("export.busy")) == 1
    assert [m.html for m in sent].count(t("export.intro")) == 1
    assert [m.html for m in sent].count(t("export.after")) == 1
    assert len(documents(fake, sent)) == 3 == len([m for m in sent if m.document is not None])
    # Once it is done, /export makes a new set again.
    again = export(user, lambda: user.command("export"))
    assert len(documents(fake, again)) == 3 and t("export.busy") not in [m.html for m in again]


def test_a_file_that_cannot_be_sent_leaves_the_others_to_go_with_a_kind_word(
    bot: BotProcess, fake: FakeTelegram, user: FakeUser
) -> None:
    begin(user)
    fake.fail("sendDocument", 400, "Bad Request: file is too big", chat_id=user.chat_id)
    mark = user.mark()
    user.command("export")
    closing = user.wait_for(
        lambda m: m.html is not None and t("export.after_partial") in m.html,
        after=mark,
        timeout=TIMEOUT,
    )
    assert closing.html == "\n".join(
        [t("export.failed", file=t("export.kinds.pdf")), "", t("export.after_partial")]
    )
    sent = [m for m in user.events(mark) if m.event == "new"]
    day = today()
    names = [t(f"export.{kind}_name", date=day) for kind in ("json", "csv")]
    assert list(documents(fake, sent)) == names
    assert t("export.after") not in [m.html for m in sent]
