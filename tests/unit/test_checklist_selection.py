"""The checklist's stored selection: parsing, formatting and toggling."""

from __future__ import annotations

import pytest

from conversations.sections.checklist import (
    format_selection,
    parse_selection,
    statement_count,
    toggled,
)
from conversations.worksheet.content import items


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, []),
        ("", []),
        ("4", [4]),
        ("4,1", [1, 4]),
        ("1,1,3", [1, 3]),
        ("0,9,2,x, ,-1", [2]),
    ],
)
def test_parse_selection(text: str | None, expected: list[int]) -> None:
    assert parse_selection(text, 8) == expected


def test_format_selection_is_sorted_and_unique() -> None:
    assert format_selection([4, 1, 4]) == "1,4"
    assert format_selection([]) == ""


def test_toggled_switches_one_statement() -> None:
    assert toggled([1, 4], 4) == [1]
    assert toggled([1], 4) == [1, 4]
    assert toggled(toggled([2], 7), 7) == [2]


def test_eight_statements_with_the_reconstructed_words() -> None:
    statements = items("checklist.statements")
    assert statement_count() == 8
    assert all({"title", "text", "label"} <= item.keys() for item in statements)
    assert "present a curated version of yourself" in statements[5]["text"]
    assert "reschedule therapy appointments" in statements[7]["text"]
    assert statements[7]["text"].endswith("homework or exercises.")
