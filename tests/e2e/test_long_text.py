"""Long but valid text breaks nothing: a topic of 2,040 emoji (one message's worth, 4,080 UTF-16
units) and a 1,540-character note come back in the /log confirmation, in /summary and in every
file of /export, each message within Telegram's limit as Telegram counts it."""

from __future__ import annotations

import csv
import io
import json
import re

from pypdf import PdfReader

from conversations.files.exports import REPLACEMENT, plain
from conversations.worksheet.content import t
from tests.botproc import BotProcess
from tests.e2e.helpers import begin, to_the_date, today, until
from tests.fake_telegram import BotMessage, FakeTelegram, FakeUser, utf16_len

TIMEOUT = 60.0
TOPIC = "💛" * 2040  # 4,080 UTF-16 units: a valid message, and too long with any words around it
ROLE = ("Ask me how I am before we start, and let me finish my sentences & pauses. " * 25)[:1540]
CLOSING = [(t("crisis.button"), "menu:crisis"), (t("common.menu"), "menu:menu")]
FOOTER = re.compile(r"\s*Page \d+ of \d+\s*$")


def sends_all_ok(fake: FakeTelegram, user: FakeUser, since: int) -> None:
    """Every message the bot sent the person since a request count was taken (none refused)."""
    requests = [r for r in fake.requests[since:] if r.chat_id == user.chat_id]
    fake.wait_finished(requests)
    refused = [(r.method, r.status) for r in requests if not r.ok]
    assert refused == []


def within_limits(messages: list[BotMessage]) -> None:
    for message in messages:
        if message.text:
            assert 0 < utf16_len(message.text) <= 4096
        if message.caption:
            assert utf16_len(message.caption) <= 1024


def log_long_entry(user: FakeUser) -> list[BotMessage]:
    """One /log entry with the long topic and note; returns the confirmation's messages."""
    to_the_date(user)
    mark = user.mark()
    user.press(t("log.today_button"))
    user.wait_for(lambda m: "log:skip:topic" in str(m.buttons), after=mark, timeout=TIMEOUT)
    mark = user.mark()
    user.send(TOPIC)
    user.wait_for(lambda m: m.has_button("10"), after=mark, timeout=TIMEOUT)
    mark = user.mark()
    user.press("log:trust:6")
    user.wait_for(lambda m: "log:safety:1" in str(m.buttons), after=mark, timeout=TIMEOUT)
    mark = user.mark()
    user.press("log:safety:7")
    user.wait_for(lambda m: "log:skip:role" in str(m.buttons), after=mark, timeout=TIMEOUT)
    return until(
        user,
        lambda: user.send(ROLE),
        lambda m: m.has_button(t("log.another_button")),
        TIMEOUT,
    )


def pdf_text(content: bytes) -> str:
    """A PDF's text without its page footers, white space squashed."""
    pages = PdfReader(io.BytesIO(content)).pages
    text = " ".join(FOOTER.sub("", page.extract_text()) for page in pages)
    return re.sub(r"\s+", " ", text).strip()


def test_a_long_topic_and_note_come_back_whole_in_the_log_the_summary_and_the_export(
    bot: BotProcess, fake: FakeTelegram, user: FakeUser
) -> None:
    begin(user)

    calls = fake.request_count()
    confirmation = log_long_entry(user)
    sends_all_ok(fake, user, calls)
    within_limits(confirmation)
    assert len(confirmation) > 1  # too long for one message: in parts, the buttons on the last
    shown = "\n".join(m.text for m in confirmation)
    assert TOPIC in shown and ROLE in shown
    saved = t("log.saved", date="", topic="", trust="", safety="", role="")
    assert confirmation[0].html is not None
    assert confirmation[0].html.split("\n")[0] == saved.split("\n")[0]
    assert all(not m.buttons for m in confirmation[:-1])

    # /summary, this week: the whole topic and note, in messages Telegram takes.
    [choice] = until(user, lambda: user.command("summary"), lambda m: m.html == t("summary.choose"))
    calls = fake.request_count()
    summary = until(
        user,
        lambda: user.press("summary:week", choice),
        lambda m: any(row == CLOSING for row in m.buttons),
        TIMEOUT,
    )
    sends_all_ok(fake, user, calls)
    within_limits(summary)
    assert summary[-1].photo is not None  # the chart
    words = "\n".join(m.content for m in summary)
    assert TOPIC in words and ROLE in words

    # /export: all three files, each holding all of it.
    calls = fake.request_count()
    sent = until(user, lambda: user.command("export"), lambda m: m.html == t("export.after"))
    sends_all_ok(fake, user, calls)
    files = {m.document_name: fake.file_bytes(m) for m in sent if m.document is not None}
    day = today()
    names = [t(f"export.{kind}_name", date=day) for kind in ("pdf", "json", "csv")]
    assert list(files) == names
    pdf, raw_json, raw_csv = (files[name] for name in names)
    [entry] = json.loads(raw_json)["sessions"]
    assert (entry["topic"], entry["therapist_role"]) == (TOPIC, ROLE)
    [_, row] = list(csv.reader(io.StringIO(raw_csv.decode("utf-8-sig"))))
    assert TOPIC in row and ROLE in row
    text = pdf_text(pdf)
    assert re.sub(r"\s+", " ", ROLE).strip() in text
    # The whole topic, under the table: each emoji a box unless a font here draws emoji (the
    # fallback fonts CI installs draw Chinese, Japanese and Korean, not emoji).
    squashed = text.replace(" ", "")
    assert TOPIC in squashed or REPLACEMENT * len(TOPIC) in squashed
    assert plain(t("export.pdf.continued")) in text
