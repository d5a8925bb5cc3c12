"""/finish: which prompt comes next, and when the section offers itself."""

from __future__ import annotations

import datetime as dt

import pytest

from conversations.sections.finish import (
    DETAIL,
    HELPFUL,
    SURPRISE,
    TRUST,
    finish_due,
    first_skipped,
    first_unreached,
    next_open,
)

TODAY = dt.date(2026, 11, 26)


def test_the_first_unreached_prompt() -> None:
    assert first_unreached({}) == TRUST
    assert first_unreached({TRUST: "a"}) == SURPRISE
    assert first_unreached({TRUST: None, SURPRISE: "no"}) == HELPFUL
    assert first_unreached({TRUST: None, SURPRISE: "yes"}) == DETAIL
    assert first_unreached({TRUST: "a", SURPRISE: None, HELPFUL: "3"}) is None


def test_the_first_skipped_prompt() -> None:
    assert first_skipped({TRUST: "a", SURPRISE: None, HELPFUL: None}) == SURPRISE
    assert first_skipped({TRUST: "a", SURPRISE: "yes", DETAIL: None, HELPFUL: "2"}) == DETAIL
    assert first_skipped({TRUST: "a", SURPRISE: "no", HELPFUL: "2"}) is None


def test_the_next_open_prompt() -> None:
    assert next_open({TRUST: "a"}, TRUST) == SURPRISE
    assert next_open({TRUST: "a", SURPRISE: "yes"}, SURPRISE) == DETAIL
    assert next_open({TRUST: "a", SURPRISE: "no"}, SURPRISE) == HELPFUL
    assert next_open({TRUST: "a", SURPRISE: "yes", DETAIL: "b", HELPFUL: "5"}, SURPRISE) is None
    # Going back over skipped prompts: answered ones are passed by.
    answers = {TRUST: "a", SURPRISE: "no", HELPFUL: None}
    assert next_open(answers, TRUST) == HELPFUL
    assert next_open(answers | {HELPFUL: "4"}, HELPFUL) is None


@pytest.mark.parametrize(
    ("completed", "earliest", "due"),
    [
        (0, None, False),
        (11, TODAY - dt.timedelta(days=83), False),
        (12, TODAY, True),
        (1, TODAY - dt.timedelta(weeks=12), True),
        (1, TODAY - dt.timedelta(weeks=12) + dt.timedelta(days=1), False),
        (0, TODAY - dt.timedelta(weeks=20), True),
    ],
)
def test_finish_due(completed: int, earliest: dt.date | None, due: bool) -> None:
    assert finish_due(completed, earliest, TODAY) is due
