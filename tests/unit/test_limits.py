"""Telegram's length limits, counted as Telegram counts, and the one splitter: every part within
the limit once parsed, nothing lost, tags balanced, cuts where a reader expects them."""

from __future__ import annotations

import html
import re

import pytest

from conversations.kit.limits import CAPTION, MESSAGE, fits, length, split, visible
from tests.fake_telegram import parse_html, utf16_len

HEART = "💛"  # two UTF-16 code units
TONED = "👍🏽"  # a thumb and its skin tone: one character on screen, four units
FAMILY = "👩‍👧"  # a ZWJ sequence


def parsed(part: str) -> str:
    """What Telegram shows of a part (the fake server's strict parser: unbalanced tags fail)."""
    return parse_html(part, strict=True).text


def shown_units(part: str) -> int:
    """A part's length as Telegram checks it."""
    return utf16_len(parsed(part).strip())


def check(text: str, limit: int) -> list[str]:
    """Splits and checks what every split must keep: each part valid HTML within the limit,
    and together all that was shown (only the white space at the cuts left out)."""
    parts = split(text, limit)
    for part in parts:
        assert 0 < shown_units(part) <= limit, part
    assert re.sub(r"\s", "", "".join(parsed(p) for p in parts)) == re.sub(r"\s", "", parsed(text))
    return parts


def test_length_counts_utf16_units_of_the_parsed_text() -> None:
    assert length("abc") == 3
    assert length(HEART * 3) == 6
    assert length("<b>bold</b> &amp; <i>more</i>") == len("bold & more")
    assert length("&lt;b&gt;") == 3
    assert length('<a href="https://example.org/a b">x</a>') == 1
    assert length("&#128155;") == 2  # 💛 as a numeric entity
    assert fits(HEART * 2048) and not fits(HEART * 2049)
    assert fits("&amp;" * 1024, CAPTION) and not fits("&amp;" * 1025, CAPTION)
    assert visible("<b>a</b>&amp;b") == "a&b"


def test_a_text_that_fits_is_left_as_it_is_and_one_that_shows_nothing_goes() -> None:
    text = "<b>Saved</b> ✓\n\nAll of it."
    assert split(text) == [text]
    assert split(HEART * 2048) == [HEART * 2048]
    assert split("") == [] and split("  \n\n ") == [] and split("<b> </b>") == []


def test_emoji_count_twice_and_are_never_cut_in_half() -> None:
    parts = check(HEART * 3000, MESSAGE)
    assert [len(p) for p in parts] == [2048, 952]
    assert all(set(p) == {HEART} for p in parts)


def test_a_character_is_never_cut_from_what_joins_it() -> None:
    text = "x" * 9 + TONED + FAMILY + "e\u0301" * 5
    for limit in range(5, 16):  # the longest of them, the family, is 5 units
        for part in check(text, limit):
            assert not part.startswith(("\U0001f3fd", "\u200d", "\u0301"))
            assert not part.endswith("\u200d")


def test_entities_are_never_cut_and_count_as_one() -> None:
    parts = check("&amp;" * 10, 5)
    assert parts == ["&amp;" * 5] * 2
    for limit in (3, 4, 7):
        for part in check("a &amp; b &lt; c &gt; d &quot;e&quot; " * 20, limit):
            assert html.unescape(part) == parsed(part)  # whole entities only


def test_cuts_prefer_paragraphs_then_lines_then_words() -> None:
    paragraphs = "\n\n".join(f"Paragraph {n}. " + "word " * 150 for n in range(12))
    parts = check(paragraphs, MESSAGE)
    assert all(p.startswith("Paragraph ") and p.rstrip().endswith("word") for p in parts)
    assert len(parts) == 3  # five paragraphs (3,830 units) fit a message, six do not
    lines = "\n".join(f"line {n} " + "x" * 50 for n in range(200))
    assert all(p.startswith("line ") for p in check(lines, MESSAGE))
    words = "word " * 2000
    assert all(
        p.strip().split(" ") == ["word"] * len(p.strip().split(" ")) for p in check(words, 100)
    )


def test_a_paragraph_too_long_for_a_message_fills_the_part_it_starts_in() -> None:
    text = "<b>Saved</b> ✓\n\n<b>Date:</b> Mon\n<b>Topic:</b> " + HEART * 2040 + "\n<b>Trust:</b> 5"
    parts = check(text, MESSAGE)
    assert parts == [
        "<b>Saved</b> ✓\n\n<b>Date:</b> Mon",
        "<b>Topic:</b> " + HEART * 2040 + "\n<b>Trust:</b> 5",
    ]


def test_a_word_longer_than_a_part_is_cut_inside_it() -> None:
    parts = check("Topic: " + "x" * 250, 100)
    assert parts[0] == "Topic: " + "x" * 93
    assert [length(p) for p in parts] == [100, 100, 57]


def test_tags_open_at_a_cut_close_and_open_again() -> None:
    text = "<i>one two &amp; three <b>four five</b> six</i>"
    parts = check(text, 7)
    assert parts == [
        "<i>one two</i>",
        "<i>&amp; three</i>",
        "<i><b>four</b></i>",
        "<i><b>five</b></i>",
        "<i>six</i>",
    ]
    link = '<a href="https://example.org/x y">' + "link text " * 30 + "</a>"
    for part in check(link, 50):
        assert part.startswith('<a href="https://example.org/x y">') and part.endswith("</a>")
    nested = "<b>" + "<i>" + HEART * 100 + "</i> after</b>"
    for part in check(nested, 31):
        assert part.startswith("<b>")


@pytest.mark.parametrize("limit", [2, 3, 10, 64, CAPTION, MESSAGE])
def test_every_part_is_valid_and_within_the_limit(limit: int) -> None:
    text = (
        "<b>Your week</b>\n\n"
        + "\n".join(f"• Mon {n}: trust 5 — {HEART * n} &amp; <i>note {n}</i>" for n in range(60))
        + "\n\n"
        + TONED * 300
        + " "
        + "&lt;tag&gt; " * 200
    )
    check(text, limit)
