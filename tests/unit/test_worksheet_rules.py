"""The worksheet's rules, read from the built-in worksheet: the one selection codec, which
prompts apply and come next, what counts as done, when /finish offers itself, and the words."""

from __future__ import annotations

import datetime as dt

import pytest

from conversations.worksheet import words
from conversations.worksheet.content import t
from conversations.worksheet.current import worksheet
from conversations.worksheet.model import ItemKind

TODAY = dt.date(2026, 11, 26)
FINISH = worksheet().section("finish")
TRUST, SURPRISE, DETAIL, HELPFUL = (p.key for p in FINISH.prompts())


@pytest.mark.parametrize(
    ("stored", "ids"),
    [
        (None, []),
        ("", []),
        ("4", ["4"]),
        ("4,1", ["1", "4"]),
        ("1,1,3", ["1", "3"]),
        (" 2 , 3 ", ["2", "3"]),
        ("0,9,2,x, ,-1,٣", ["2"]),
    ],
)
def test_a_stored_selection_reads_as_the_items_it_names(stored: str | None, ids: list[str]) -> None:
    checklist = worksheet().section("checklist")
    assert [item.id for item in checklist.selected(stored)] == ids


def test_a_selection_is_stored_in_worksheet_order_and_toggles() -> None:
    tips = worksheet().section("tips")
    assert tips.selection(["7", "1", "4", "1"]) == "1,4,7"
    assert tips.selection([]) == ""
    assert tips.toggled("1", "3") == "1,3"
    assert tips.toggled("1,3", "3") == "1"
    assert tips.toggled(tips.toggled("2", "7"), "7") == "2"


def test_the_counts_agree_eight_questions_the_sixth_in_three_parts() -> None:
    reflect = worksheet().section("reflect")
    assert len(reflect.items) == 8
    assert [p.label for p in reflect.prompts()][5:8] == ["6.1", "6.2", "6.3"]
    # /review counts questions as the introduction does: eight, not the ten answers.
    assert reflect.counts({}) == (0, 0, 8) and "eight questions" in t("reflect.intro")
    assert len(reflect.prompts()) == 10
    assert [p.label for p in FINISH.prompts()] == ["1", "2a", "2b", "3"]
    assert len(worksheet().section("checklist").items) == 8
    assert len(worksheet().section("tips").items) == 7


def test_if_so_describe_applies_only_after_a_yes_or_once_answered() -> None:
    assert [p.key for p in FINISH.asked({})] == [TRUST, SURPRISE, HELPFUL]
    assert DETAIL in [p.key for p in FINISH.asked({SURPRISE: "yes"})]
    assert DETAIL in [p.key for p in FINISH.asked({SURPRISE: "no", DETAIL: "kept"})]
    assert FINISH.counts({SURPRISE: "no", HELPFUL: None}) == (1, 1, 3)


def test_the_first_open_and_skipped_and_the_next_open_prompt() -> None:
    def key(prompt: object) -> str | None:
        return getattr(prompt, "key", None)

    assert key(FINISH.first_open({})) == TRUST
    assert key(FINISH.first_open({TRUST: None, SURPRISE: "no"})) == HELPFUL
    assert key(FINISH.first_open({TRUST: None, SURPRISE: "yes"})) == DETAIL
    assert FINISH.first_open({TRUST: "a", SURPRISE: None, HELPFUL: "3"}) is None
    assert key(FINISH.first_skipped({TRUST: "a", SURPRISE: None, HELPFUL: None})) == SURPRISE
    assert key(FINISH.next_open({TRUST: "a", SURPRISE: "yes"}, SURPRISE)) == DETAIL
    assert key(FINISH.next_open({TRUST: "a", SURPRISE: "no"}, SURPRISE)) == HELPFUL
    assert (
        FINISH.next_open({TRUST: "a", SURPRISE: "yes", DETAIL: "b", HELPFUL: "5"}, SURPRISE) is None
    )


def test_what_counts_as_done() -> None:
    learn, checklist = worksheet().section("learn"), worksheet().section("checklist")
    reflect = worksheet().section("reflect")
    assert not learn.is_done({}) and learn.is_done({"learn.done": "1"})
    assert checklist.is_done({"checklist.selected": ""})
    full = {p.key: "words" for p in reflect.prompts()}
    assert reflect.is_done(full)
    assert not reflect.is_done(full | {"reflect.q6.2": None})  # a skipped one still waits
    assert not worksheet().section("log").is_done({})


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
def test_finish_offers_itself_after_twelve_sessions_or_weeks(
    completed: int, earliest: dt.date | None, due: bool
) -> None:
    assert FINISH.offer is not None
    assert FINISH.offer.due(completed, earliest, TODAY) is due


def test_the_statements_keep_the_seed_and_their_meaning_when_ticked() -> None:
    statements = worksheet().section("checklist").items
    assert "present a curated version of yourself" in words.of(statements[5])["text"]
    assert words.of(statements[7])["text"].endswith("homework or exercises.")
    assert words.label(statements[4]) == "Reluctance to explore past trauma"
    assert words.label(statements[6]) == "Difficulty establishing boundaries"


def test_every_tip_has_a_title_text_and_example_and_every_rating_its_scale() -> None:
    for tip in worksheet().section("tips").items:
        assert all(words.field(tip, name) for name in ("title", "text", "example"))
    for section in worksheet():
        for prompt in section.prompts():
            if prompt.kind is ItemKind.RATING:
                assert "1 = " in str(words.field(prompt.item, "scale"))
                assert words.field(prompt.item, "scale") in words.prompt_text(prompt)


def test_a_shown_if_prompt_reads_with_its_condition_in_lists() -> None:
    detail = FINISH.prompt(DETAIL)
    assert detail is not None
    assert words.question(detail) == (
        "Did anything surprise you about this exercise? If so, describe."
    )
