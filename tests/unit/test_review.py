"""The pure parts of /review: short prompts, splitting long text, packing messages, targets."""

from __future__ import annotations

import html

import pytest

from conversations.kit.limits import length as utf16
from conversations.sections.review import (
    CB,
    FIELDS,
    Question,
    pack,
    question,
    questions,
    session_target,
    split_text,
)
from conversations.worksheet.content import escape, short_prompt, t
from conversations.worksheet.current import worksheet

UID = "0123456789abcdef0123456789abcdef"


def test_short_prompt_is_the_question_without_html_heading_or_notes() -> None:
    assert short_prompt("What is trust? Describe it.") == "What is trust? Describe it."
    assert short_prompt("<b>Looking back</b>\n\nDo you trust &amp; feel safe? Why?") == (
        "Do you trust & feel safe? Why?"
    )
    assert short_prompt("How helpful?\n\n<i>1 = not at all</i>\n\nTap a number.") == "How helpful?"
    assert short_prompt("List three.\n\n<b>The first one:</b>") == "List three."
    long = short_prompt("word " * 100 + ".")
    assert len(long) <= 200 and long.endswith("word…")


def all_questions(section: str) -> list[Question]:
    return [q for p in worksheet().section(section).prompts() if (q := question(p.key))]


def test_every_question_has_a_short_prompt_and_a_number() -> None:
    reflections = all_questions("reflect")
    assert [q.key for q in reflections] == [p.key for p in worksheet().section("reflect").prompts()]
    assert [q.number for q in reflections][5:8] == ["6.1", "6.2", "6.3"]
    finish = all_questions("finish")
    assert [q.number for q in questions("finish", {})] == ["1", "2a", "3"]
    assert [q.key for q in finish] == [
        "finish.trust",
        "finish.surprise",
        "finish.surprise_detail",
        "finish.helpful",
    ]
    assert all(q.prompt and "<" not in q.prompt for q in reflections + finish)
    assert question("reflect.q6.2") == reflections[6]
    assert question("reflect.q9") is None
    assert question("checklist.selected") is None


@pytest.mark.parametrize(
    ("text", "limit"),
    [
        ("a" * 10_000, 4096),
        ("a & b < c > d\n" * 700, 4096),
        ("😀" * 3000, 4096),
        ("word " * 50, 12),
        ("&&&&&&&&&&", 5),
    ],
)
def test_split_text_keeps_every_piece_within_the_limit_once_escaped(text: str, limit: int) -> None:
    pieces = split_text(text, limit)
    assert all(0 < utf16(escape(piece)) <= limit for piece in pieces)
    assert "".join("".join(p.split()) for p in pieces) == "".join(text.split())


def test_split_text_cuts_at_line_ends_or_spaces() -> None:
    pieces = split_text("first line\nsecond line here", 20)
    assert pieces == ["first line", "second line here"]
    assert split_text("short", 4096) == ["short"]
    assert split_text("   ", 4096) == []


def test_pack_joins_blocks_within_the_limit_with_their_buttons() -> None:
    parts = [(f"block {n} " + "x" * 1000, [[("b", CB("x", n))]]) for n in range(9)]
    messages = pack(parts)
    assert len(messages) == 3
    assert all(utf16(text) <= 4096 for text, _ in messages)
    assert [len(rows) for _, rows in messages] == [4, 4, 1]
    assert html.unescape(messages[0][0]).startswith("block 0")


def test_session_targets() -> None:
    assert session_target(f"s.{UID}") == (UID, None)
    assert session_target(f"s.{UID}.trust") == (UID, "trust")
    assert session_target(f"s.{UID}.colour") is None
    assert session_target("s.nothex") is None
    assert session_target("reflect.q1") is None


def test_the_longest_callback_data_fits() -> None:
    longest_field = max(FIELDS, key=len)
    for value in ("yesterday", "10"):
        assert CB("set", f"s.{UID}.{longest_field}", value)
    assert CB("fix", UID, longest_field)
    assert CB("skip", f"s.{UID}.{longest_field}")
    longest_key = max((q.key for q in all_questions("reflect") + all_questions("finish")), key=len)
    assert CB("change", longest_key)
    assert t("review.not_answered")
