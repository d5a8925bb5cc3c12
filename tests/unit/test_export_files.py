"""The export's files, parsed back: JSON as given, CSV neutralised, the PDF's text extractable
and laid out from the worksheet's model and its words."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from conversations.files.exports import (
    REPLACEMENT,
    TICKED,
    UNTICKED,
    build_csv,
    build_json,
    build_pdf,
    chart_points,
    chart_rows,
    columns,
    fallback_fonts,
    neutralise,
    paragraphs,
    plain,
)
from conversations.worksheet import content, words
from conversations.worksheet.content import t
from conversations.worksheet.current import worksheet
from conversations.worksheet.loader import load
from conversations.worksheet.model import Prompt, Section, SectionKind

TODAY = dt.date(2026, 3, 2)
CYRILLIC = "Доверие — это когда меня слышат"
GREEK = "Εμπιστοσύνη σημαίνει ασφάλεια"
ARABIC = "الثقة تعني الأمان"
CHINESE = "安全感"
EMOJI = "💛🌱👍🏽👩‍👧"
SHEET = worksheet()
CHECKLIST, TIPS = SHEET.section("checklist"), SHEET.section("tips")
REFLECT, FINISH = SHEET.section("reflect"), SHEET.section("finish")
SURPRISE, DETAIL = FINISH.prompts()[1], FINISH.prompts()[2]


def answer(key: str, text: str | None) -> dict[str, Any]:
    """One answer as storage/export.py gathers it."""
    return {"key": key, "text": text, "skipped": text is None, "updated_at": "2026-03-01T10:00:00"}


def session(
    day: str | None,
    topic: str | None,
    trust: int | None,
    safety: int | None,
    role: str | None,
    *,
    complete: bool = True,
) -> dict[str, Any]:
    """One session chart row as storage/export.py gathers it."""
    return {
        "uid": f"{day}-{topic}",
        "session_date": day,
        "topic": topic,
        "trust": trust,
        "safety": safety,
        "therapist_role": role,
        "complete": complete,
        "created_at": "2026-03-01T10:00:00+00:00",
        "updated_at": "2026-03-01T10:00:00+00:00",
    }


def squash(text: str) -> str:
    """Every run of white space as one space (PDF lines wrap anywhere)."""
    return re.sub(r"\s+", " ", text).strip()


FOOTER = re.compile(r"\s*Page \d+ of \d+\s*$")


def page_texts(content: bytes) -> list[str]:
    """Each page's text without its footer, line breaks kept."""
    pages = PdfReader(io.BytesIO(content)).pages
    return [FOOTER.sub("", page.extract_text()).strip() for page in pages]


def pdf_text(content: bytes) -> str:
    """The whole text of a PDF, white space squashed."""
    return squash(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages))


def pdf(data: dict[str, Any], **options: Any) -> bytes:
    return build_pdf(data, chart_png=None, today=TODAY, fallbacks=[], **options)


def title(item_id: str, section: Section = CHECKLIST) -> str:
    return plain(str(words.of(section.item(item_id))["title"]))


def line(prompt: Prompt, text: str | None = None) -> str:
    """A question as the PDF prints it: its label, then its words."""
    return squash(f"{prompt.item.label}. {plain(text or words.question(prompt))}")


DATA: dict[str, Any] = {
    "answers": [
        answer("reflect.q1", CYRILLIC),
        answer("reflect.q2", ARABIC),
        answer("reflect.q3", f"{CHINESE} and {EMOJI} too"),
        answer("reflect.q4", GREEK),
        answer("reflect.q5", None),
        answer("reflect.q6.2", "Start on time"),
        answer("checklist.selected", "2,8"),
        answer("tips.marked", "3"),
        answer("finish.surprise", "yes"),
        answer("finish.surprise_detail", "How much the numbers moved"),
        answer("finish.helpful", "9"),
    ],
    "sessions": [
        session("2026-02-20", "Work & <family>", 6, 7, "Ask about the week"),
        session("2026-01-05", "=cmd|' /C calc'!A0", 3, None, "@SUM(1+1)"),
        session("2026-02-27", None, None, None, None, complete=False),
        session(None, "no date given", 5, 5, None),
    ],
}
EMPTY: dict[str, Any] = {"answers": [], "sessions": []}


# JSON --------------------------------------------------------------------------------------


def test_json_parses_back_to_exactly_the_data() -> None:
    raw = build_json(DATA)
    assert json.loads(raw) == DATA
    assert CYRILLIC.encode() in raw  # readable as it is, not \u-escaped


# CSV ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cell",
    [
        "=1+1",
        "+1",
        "-2",
        "@x",
        "\tx",
        "\rx",
        "  =SUM(A1)",
        # After any white space a spreadsheet trims: a no-break space, a new line, others.
        "\u00a0=1+1",
        "\n=HYPERLINK(1)",
        "\r\n+1",
        " \t -2",
        "\u2003@x",
        "\u3000=1",
        "\u200b=1",
        # Full-width (and small) forms of the signs.
        "＝1+1",
        "＋1",
        "－2",
        "＠x",
        " ＝SUM(A1)",
        "\u00a0＠x",
        "﹦1",
    ],
)
def test_cells_a_spreadsheet_would_run_get_an_apostrophe(cell: str) -> None:
    assert neutralise(cell) == "'" + cell


@pytest.mark.parametrize(
    "cell",
    ["", "a=b", "1+1", "e-mail", "x@y", CYRILLIC, "'quoted", "a＝b", "１+1", " \u00a0", "\n"],
)
def test_other_cells_stay_as_they_are(cell: str) -> None:
    assert neutralise(cell) == cell


def test_the_csv_columns_are_the_charts_items_in_order() -> None:
    chart = SHEET.chart
    assert chart is not None
    assert [item.id for item in chart.items] == ["date", "topic", "trust", "safety", "role"]
    assert columns() == [plain(t(f"export.columns.{item.id}")) for item in chart.items]


def test_csv_holds_the_completed_chart_oldest_first_neutralised() -> None:
    raw = build_csv(DATA["sessions"])
    assert raw.startswith(b"\xef\xbb\xbf")  # a BOM, so spreadsheet apps read UTF-8
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows == [
        columns(),
        ["2026-01-05", "'=cmd|' /C calc'!A0", "3", "", "'@SUM(1+1)"],
        ["2026-02-20", "Work & <family>", "6", "7", "Ask about the week"],
        ["", "no date given", "5", "5", ""],
    ]


def test_a_chart_without_sessions_is_just_its_headings() -> None:
    rows = list(csv.reader(io.StringIO(build_csv([]).decode("utf-8-sig"))))
    assert rows == [columns()]


# What goes into the PDF ----------------------------------------------------------------------


def test_chart_rows_and_points_leave_out_drafts_undated_and_unscored_rows() -> None:
    rows = chart_rows(DATA["sessions"])
    assert [r["session_date"] for r in rows] == ["2026-01-05", "2026-02-20", None]
    assert chart_points(DATA["sessions"]) == [
        (dt.date(2026, 1, 5), 3, None),
        (dt.date(2026, 2, 20), 6, 7),
    ]


def test_content_words_as_plain_text() -> None:
    assert (
        plain("<b>Are you</b> holding back? &lt;3 &amp; more") == "Are you holding back? <3 & more"
    )
    assert paragraphs("checklist.followup")[-1].startswith("Be open with your therapist")
    assert paragraphs("no.such.key") == []


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ({}, True),  # never answered: printed to fill in by hand, as on paper
        ({SURPRISE.key: None}, True),  # skipped: the same
        ({SURPRISE.key: "yes"}, True),
        ({SURPRISE.key: "no"}, False),
        ({SURPRISE.key: "no", DETAIL.key: "written before"}, True),  # an answer is never hidden
    ],
)
def test_if_so_describe_is_printed_only_when_it_applies(
    stored: dict[str, str | None], shown: bool
) -> None:
    assert (DETAIL in FINISH.on_paper(stored)) is shown
    data = {"answers": [answer(k, v) for k, v in stored.items()], "sessions": []}
    text = pdf_text(pdf(data))
    assert (line(DETAIL, words.field(DETAIL.item, "text")) in text) is shown
    assert line(SURPRISE) in text


# The PDF -----------------------------------------------------------------------------------


def test_the_pdf_has_the_prompts_and_the_answers_as_text() -> None:
    text = pdf_text(pdf(DATA))
    assert plain(t("worksheet.title")) in text
    assert "Sessions from Mon 5 Jan 2026 to Fri 20 Feb 2026" in text
    assert "Exported on Mon 2 Mar 2026" in text
    assert CYRILLIC in text and GREEK in text
    # Arabic is drawn right to left; its letters come out in either order, never lost.
    assert ARABIC in text or ARABIC[::-1] in text
    assert f"{TICKED} {title('2')}" in text
    assert f"{TICKED} {title('8')}" in text
    assert f"{UNTICKED} {title('1')}" in text
    assert f"{TICKED} {title('3', TIPS)}" in text
    assert f"{UNTICKED} {title('1', TIPS)}" in text
    assert "Work & <family>" in text and "=cmd|' /C calc'!A0" in text
    assert "How much the numbers moved" in text
    assert plain(t("export.pdf.rating", value=9)) in text
    assert re.search(r"Page 1 of [2-9]", text)


def test_every_question_and_scale_comes_from_its_own_words_with_its_label() -> None:
    text = pdf_text(pdf(DATA))
    for section in SHEET.of_kind(SectionKind.PROMPTS):
        for prompt in section.on_paper({a["key"]: a["text"] for a in DATA["answers"]}):
            # "If so, describe." follows its own Yes / No, so it reads as the worksheet has it.
            own = words.field(prompt.item, "text") if prompt.item.shown_if else None
            assert line(prompt, own) in text, prompt.key
            scale = words.field(prompt.item, "scale")
            if scale:
                assert squash(plain(scale)) in text
    # Nothing of the chat's HTML or its own words around the questions.
    assert "<b>" not in text and "<i>" not in text and "&amp;" not in text
    assert squash(plain(words.part_heading(REFLECT.prompts()[5]) or "-")) not in text
    assert squash(plain(t("reflect.progress", number=1, total=8))) not in text


def test_the_objective_is_under_the_title() -> None:
    text = pdf_text(pdf(EMPTY))
    objective = squash(plain(t("worksheet.objective")))
    assert objective in text
    assert text.index(plain(t("worksheet.title"))) < text.index(objective)
    assert text.index(objective) < text.index(squash(title("1")))


def drawn(text: str) -> str:
    """Content words as the PDF draws them: an emoji DejaVu lacks left out, white space squashed."""
    return squash("".join(char for char in plain(text) if ord(char) <= 0xFFFF))


def test_the_follow_up_advice_follows_the_ticked_checklist() -> None:
    text = pdf_text(pdf({"answers": [answer("checklist.selected", "2,8")], "sessions": []}))
    advice = " ".join(drawn(p) for p in paragraphs("checklist.followup"))
    last_statement = drawn(words.field(CHECKLIST.items[-1], "text") or "")
    assert f"{last_statement} {advice} " in text
    assert text.index(advice) < text.index(title("1", TIPS))
    assert REPLACEMENT not in text  # the chat's emoji is left out, not shown as a box


def test_the_follow_up_is_on_a_blank_worksheet_but_not_once_none_applied() -> None:
    advice = squash(paragraphs("checklist.followup")[-1])
    assert advice in pdf_text(pdf(EMPTY))
    none_applied = {
        "answers": [answer("checklist.selected", ""), answer("checklist.done", "1")],
        "sessions": [],
    }
    assert advice not in pdf_text(pdf(none_applied))
    assert advice not in pdf_text(pdf({**none_applied, "answers": none_applied["answers"][:1]}))


def test_every_tip_is_there_with_its_text_and_example_and_the_closing() -> None:
    text = pdf_text(pdf(EMPTY))
    for item in TIPS.items:
        block = [title(item.id, TIPS), words.field(item, "text"), words.field(item, "example")]
        assert squash(" ".join(plain(str(part)) for part in block)) in text, item.id
    for paragraph in paragraphs("tips.closing"):
        assert squash(paragraph) in text


def test_without_a_font_for_them_chinese_and_emoji_show_as_boxes_with_a_note() -> None:
    text = pdf_text(pdf(DATA))
    # Three boxes for the Chinese, one per emoji (the skin tone adds none).
    found = re.search(f"({REPLACEMENT}+) and (.*?) too", text)
    assert found is not None and found.group(1) == REPLACEMENT * 3
    assert found.group(2).count(REPLACEMENT) == 5
    assert squash(plain(t("export.pdf.missing"))) in text


def test_the_note_is_left_out_when_every_character_can_be_drawn() -> None:
    data = {"answers": [answer("reflect.q1", CYRILLIC)], "sessions": []}
    text = pdf_text(pdf(data))
    assert squash(plain(t("export.pdf.missing"))) not in text
    assert "Exported on Mon 2 Mar 2026" in text and "Sessions from" not in text


@pytest.mark.skipif(not fallback_fonts(), reason="no fallback font for Chinese on this machine")
def test_a_fallback_font_draws_chinese_as_text() -> None:
    text = pdf_text(build_pdf(DATA, chart_png=None, today=TODAY, fallbacks=fallback_fonts()))
    assert f"{CHINESE} and" in text


def test_a_broken_fallback_font_is_skipped(tmp_path: Path) -> None:
    broken = tmp_path / "DroidSansFallbackFull.ttf"
    broken.write_bytes(b"not a font")
    text = pdf_text(build_pdf(DATA, chart_png=None, today=TODAY, fallbacks=[broken]))
    assert CYRILLIC in text and f"{REPLACEMENT * 3} and" in text


def test_unanswered_prompts_leave_room_and_no_text() -> None:
    content = pdf(EMPTY)
    text = pdf_text(content)
    assert squash(plain(t("export.pdf.no_sessions"))) in text
    assert plain(t("export.pdf.trend")) not in text
    assert TICKED not in text
    # The questions of sections never opened are there all the same.
    for section in SHEET.of_kind(SectionKind.PROMPTS):
        for prompt in section.prompts():
            assert squash(plain(words.field(prompt.item, "text") or "")) in text
    # Blank lines are drawn, not typed: many more line segments than in a filled-in copy.
    assert _rules(content) > _rules(pdf(DATA))


def _rules(content: bytes) -> int:
    """How many straight lines the PDF's pages draw."""
    reader = PdfReader(io.BytesIO(content))
    streams = [page.get_contents() for page in reader.pages]
    return sum(s.get_data().count(b" l S") for s in streams if s is not None)


def test_the_trend_chart_is_placed_when_given() -> None:
    from conversations.files.chart import render_chart

    labels = {"trust": "Trust", "safety": "Safety", "y": "Rating", "title": ""}
    png = render_chart(chart_points(DATA["sessions"]), labels=labels)
    content = build_pdf(DATA, chart_png=png, today=TODAY, fallbacks=[])
    assert plain(t("export.pdf.trend")) in pdf_text(content)
    reader = PdfReader(io.BytesIO(content))
    assert sum(len(page.images) for page in reader.pages) == 1


def test_awkward_text_never_breaks_the_pdf() -> None:
    awkward = "你好" * 200 + " " + "x" * 500 + " \x00\x07 tab\there\r\nnew line 🙂" + "\u200f"
    data = {
        "answers": [answer("reflect.q1", awkward), answer("finish.trust", "")],
        "sessions": [session("2026-01-01", awkward, 1, 10, awkward)],
    }
    text = pdf_text(pdf(data))
    assert "tab here" in text and "new line" in text


def whole_text(content: bytes) -> str:
    """The whole text of a PDF without its page footers, white space squashed (a text that
    runs across a page break reads on)."""
    return squash(" ".join(page_texts(content)))


LONG_TOPIC = ("Work, my mother's illness, and whether I can say so. " * 40)[:1540]
LONG_ROLE = ("Ask how the week was before the homework; slow down. " * 40)[:1540]
LONG_ANSWER = ("Trust is when I can say the hard thing and stay. " * 70)[:3000]


def test_long_cells_continue_below_the_table_and_long_answers_run_on() -> None:
    data = {
        "answers": [answer("reflect.q1", LONG_ANSWER)],
        "sessions": [
            session("2026-01-05", LONG_TOPIC, 4, 6, LONG_ROLE),
            session("2026-01-12", "A short one", 7, 7, "Nothing"),
        ],
    }
    text = whole_text(pdf(data))
    assert squash(LONG_TOPIC) in text and squash(LONG_ROLE) in text
    assert squash(LONG_ANSWER) in text
    # The table shows each long cell's start, marked; the whole text follows under the table,
    # headed by its session's day and column, before the next section.
    marker = plain(t("export.pdf.continued"))
    assert text.count(marker) == 2
    below = text.index(plain(t("export.pdf.continued_title")))
    assert text.index(marker) < below < text.index(squash(LONG_TOPIC))
    day = plain(t("export.pdf.continued_label", date="Mon 5 Jan 2026", column=columns()[1]))
    assert day in text
    assert "A short one" in text and text.index("A short one") < below


def test_a_cell_of_one_long_word_or_many_lines_continues_below_too() -> None:
    word, lines = "💛" * 2040, "\n".join(f"line {n}" for n in range(300))
    data = {"answers": [], "sessions": [session("2026-01-05", word, 4, 6, lines)]}
    text = whole_text(pdf(data))
    assert text.count(REPLACEMENT) >= 2040  # no font here draws the emoji: a box for each
    assert squash(lines) in text
    assert text.count(plain(t("export.pdf.continued"))) == 2


# The layout ----------------------------------------------------------------------------------

WRITTEN = "Something I wrote down."


def answered(lines: int) -> dict[str, Any]:
    """Every question answered in a line, the last reflection in `1 + lines` lines: each line
    more moves what follows it one line further down, across the foot of a page."""
    texts: dict[str, str] = {}
    for section in SHEET.of_kind(SectionKind.PROMPTS):
        for prompt in section.prompts():
            texts[prompt.key] = WRITTEN
    texts.update({SURPRISE.key: "yes", "finish.helpful": "7"})
    texts["reflect.q8"] = "\n".join([WRITTEN] * (1 + lines))
    texts.update({"checklist.selected": "1,3", "checklist.done": "1", "tips.marked": "2"})
    return {
        "answers": [answer(key, text) for key, text in texts.items()],
        "sessions": [session(f"2026-01-{d:02d}", "Work", 5, 6, "Listen") for d in range(1, 5)],
    }


def headings() -> list[str]:
    """Headings of sections and items, and the statements' and tips' titles."""
    found = [
        plain(str(content.lookup(f"export.sections.{s.id}.heading")))
        for s in SHEET
        if isinstance(content.lookup(f"export.sections.{s.id}.heading"), str)
    ]
    for section in SHEET:
        if section.kind is not SectionKind.CHART:
            found += [plain(words.field(i, "title") or "") for i in section.items]
    return [squash(text) for text in found if text]


def questions() -> list[str]:
    """Every question as the PDF prints it."""
    return [
        line(p, words.field(p.item, "text") if p.item.shown_if else None)
        for section in SHEET.of_kind(SectionKind.PROMPTS)
        for p in section.prompts()
    ]


# Four lines at a time, across a page's height: the end spills over onto a new page by one to
# four lines in one of them, and every heading comes near the foot of a page in some.
@pytest.mark.parametrize("lines", range(0, 52, 4))
def test_no_heading_or_question_is_left_at_the_foot_of_a_page_nor_a_near_empty_last_page(
    lines: int,
) -> None:
    pages = page_texts(pdf(answered(lines)))
    assert len(pages) > 1
    stranded = headings() + questions()
    for number, page in enumerate(pages[:-1], start=1):
        body = squash(page)
        assert not any(body.endswith(text) for text in stranded), (number, body[-120:])
        assert not re.search(r"(^|\s)\d+[a-z]?\.$", body), (number, body[-60:])  # a lone "3."
    # Each question on one page, and the last page more than a few lines.
    for question in questions():
        assert any(question in squash(page) for page in pages), question
    assert len(pages[-1].splitlines()) > 4, pages[-1]


# Another worksheet of the same format ---------------------------------------------------------

OTHER = """
[worksheet]
id = "other"

[[sections]]
id = "finish"
kind = "prompts"
done = "answered"
items = [
    { id = "helpful", kind = "rating", label = "A" },
    { id = "surprise", kind = "yes_no", label = "B" },
    { id = "surprise_detail", kind = "text", label = "C", shown_if = { item = "surprise", \
equals = "yes" } },
]

[[sections]]
id = "checklist"
kind = "toggles"
done = "chosen"
items = [{ id = "3", kind = "toggle" }, { id = "5", kind = "toggle" }]

[[sections]]
id = "log"
kind = "chart"
items = [
    { id = "date", kind = "date" },
    { id = "topic", kind = "text" },
    { id = "trust", kind = "rating" },
    { id = "safety", kind = "rating" },
    { id = "role", kind = "text" },
]
"""


def test_another_worksheet_file_exports_by_its_own_structure(tmp_path: Path) -> None:
    path = tmp_path / "other.toml"
    path.write_text(OTHER, encoding="utf-8")
    sheet = load(path, content.lookup)
    data = {
        "answers": [answer("finish.surprise", "no"), answer("checklist.selected", "5")],
        "sessions": [session("2026-01-05", "A chart row", 4, 9, None)],
    }
    text = pdf_text(pdf(data, sheet=sheet))
    finish = sheet.section("finish")
    helpful, surprise, detail = finish.prompts()
    # Its order, its labels, its statements; what it leaves out is not there.
    assert text.index(line(helpful)) < text.index(line(surprise)) < text.index(title("3"))
    assert (
        line(detail) not in text
        and squash(plain(words.field(detail.item, "text") or "")) not in text
    )
    assert f"{UNTICKED} {title('3')}" in text and f"{TICKED} {title('5')}" in text
    assert (
        title("1") not in text
        and squash(plain(str(words.field(REFLECT.items[0], "text")))) not in text
    )
    assert squash(words.field(TIPS.items[0], "example") or "") not in text
    # The chart comes last here, after the statements.
    assert text.index(title("5")) < text.index(plain(t("export.sections.log.heading")))
    assert "A chart row" in text and "Mon 5 Jan 2026" in text
