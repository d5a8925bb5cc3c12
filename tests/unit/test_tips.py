"""The stored form of the marked tips, and the shape of the tips' content."""

from __future__ import annotations

import pytest

from conversations.sections.tips import format_marks, parse_marks, toggled
from conversations.worksheet.content import items


@pytest.mark.parametrize(
    ("stored", "marks"),
    [
        (None, set()),
        ("", set()),
        ("1", {1}),
        ("1,4,7", {1, 4, 7}),
        (" 2 , 3 ", {2, 3}),
        ("0,8,x,,٣,-1,3", {3}),
    ],
)
def test_parse_marks_keeps_only_tip_numbers(stored: str | None, marks: set[int]) -> None:
    assert parse_marks(stored, 7) == marks


def test_format_marks_is_ascending_and_empty_for_none() -> None:
    assert format_marks({7, 1, 4}) == "1,4,7"
    assert format_marks(set()) == ""
    assert parse_marks(format_marks({5, 2}), 7) == {2, 5}


def test_toggled_marks_and_unmarks() -> None:
    assert toggled({1}, 3) == {1, 3}
    assert toggled({1, 3}, 3) == {1}


def test_seven_tips_each_with_title_text_and_example() -> None:
    tips = items("tips.list")
    assert len(tips) == 7
    for tip in tips:
        assert set(tip) == {"title", "text", "example"}
        assert all(tip.values())
