"""When a logged session gets a word of care: very low ratings, and a fall in safety."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from conversations.worksheet.care import DROP, LOW, Care, care_for

DAY = dt.date(2026, 11, 20)


@dataclass(frozen=True)
class Row:
    uid: str
    session_date: dt.date | None
    trust: int | None
    safety: int | None


def test_a_rating_of_three_or_below_is_very_low_whatever_came_before() -> None:
    assert LOW == 3
    for trust, safety in ((1, 9), (9, 1), (3, 8), (8, 3), (3, None), (None, 2)):
        assert care_for(Row("a", DAY, trust, safety), []) == (Care.LOW, None), (trust, safety)
    assert care_for(Row("a", None, 2, None), []) == (Care.LOW, None)  # undated too
    for trust, safety in ((4, 4), (10, 10), (None, None), (4, None)):
        assert care_for(Row("a", DAY, trust, safety), []) is None, (trust, safety)


def test_a_fall_in_safety_of_three_since_the_session_before() -> None:
    assert DROP == 3
    before = Row("b", DAY - dt.timedelta(days=7), 8, 8)
    older = Row("c", DAY - dt.timedelta(days=14), 9, 4)  # not the session before
    entry = Row("a", DAY, 7, 5)
    assert care_for(entry, [older, before, entry]) == (Care.DROP, 8)
    assert care_for(Row("a", DAY, 7, 6), [older, before]) is None  # a fall of 2
    # A later session is not "before"; nor is the entry itself, nor an undated one.
    later = Row("d", DAY + dt.timedelta(days=3), 9, 10)
    undated = Row("e", None, 9, 10)
    assert care_for(entry, [entry, later, undated]) is None
    # The session before without a safety rating: nothing to compare.
    assert care_for(entry, [Row("b", DAY - dt.timedelta(days=1), 8, None)]) is None
    # The same day counts as before (two sessions logged for one day).
    assert care_for(entry, [Row("b", DAY, 9, 9)]) == (Care.DROP, 9)


def test_without_a_date_or_a_safety_rating_no_drop_is_read() -> None:
    before = Row("b", DAY - dt.timedelta(days=7), 8, 10)
    assert care_for(Row("a", None, 7, 4), [before]) is None
    assert care_for(Row("a", DAY, 7, None), [before]) is None
