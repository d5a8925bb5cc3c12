"""The summaries in words: sentences a person would say, invitations rather than questions,
no "picks up where you left off" for a section never opened, and the closing buttons."""

from __future__ import annotations

import datetime as dt
import itertools

from conversations.sections.summary import (
    closing_keyboard,
    comparison_sentences,
    dip_sentence,
    history_text,
    progress_text,
    say_words,
    signal_sentences,
    week_text,
)
from conversations.worksheet.content import items, t
from conversations.worksheet.summaries import (
    Dip,
    Fall,
    MonthAverage,
    Signal,
    summarise_history,
    summarise_week,
)
from storage.repository import AnswerValue, SessionRow

UTC = dt.UTC
# Wednesday 2 December 2026, in the afternoon.
NOW = dt.datetime(2026, 12, 2, 16, 0, tzinfo=UTC)
WEDNESDAY = dt.date(2026, 12, 2)
_uids = itertools.count()


def row(
    date: str,
    trust: int | None,
    safety: int | None,
    topic: str | None = None,
    role: str | None = None,
) -> SessionRow:
    """A completed session row as the repository returns it."""
    return SessionRow(
        f"s{next(_uids)}", dt.date.fromisoformat(date), topic, trust, safety, role, True
    )


def answer(key: str, text: str | None) -> AnswerValue:
    return AnswerValue(key, text, text is None, NOW)


def plain(text: str) -> str:
    """Without the bold and italic tags."""
    for tag in ("<b>", "</b>", "<i>", "</i>"):
        text = text.replace(tag, "")
    return text


# This week's sentences ------------------------------------------------------------------------


def test_a_low_score_is_said_plainly_with_the_weekday() -> None:
    signals = [Signal("low", "trust", WEDNESDAY, 3), Signal("low", "safety", WEDNESDAY, 4)]
    assert signal_sentences(signals) == ["Trust was 3 on Wednesday.", "Safety was 4 on Wednesday."]


def test_a_fall_that_is_also_low_is_said_once_as_a_fall() -> None:
    monday = dt.date(2026, 11, 30)
    signals = [
        Signal("drop", "safety", WEDNESDAY, 4, 8, monday),
        Signal("low", "safety", WEDNESDAY, 4),
        Signal("low", "trust", WEDNESDAY, 5),
    ]
    assert signal_sentences(signals) == [
        "Safety went from 8 to 4 on Wednesday.",
        "Trust was 5 on Wednesday.",
    ]


def test_without_an_earlier_session_nothing_is_said_about_feeling_less() -> None:
    said = plain(say_words([Signal("low", "trust", WEDNESDAY, 3)]))
    assert "less" not in said and "last session" not in said
    assert said == f"Something you could say: “{t('summary.say_low_trust')}”"
    assert plain(say_words([Signal("low", "safety", WEDNESDAY, 3)])).endswith(
        f"“{t('summary.say_low_safety')}”"
    )


def test_after_a_fall_the_words_name_what_fell() -> None:
    monday = dt.date(2026, 11, 30)
    low_then_fall = [
        Signal("low", "trust", monday, 5),
        Signal("drop", "safety", WEDNESDAY, 4, 8, monday),
    ]
    assert plain(say_words(low_then_fall)) == (
        "Something you could say: “I noticed I felt less safe after a recent session."
        " Could we talk about what happened?”"
    )


def test_one_session_only_week() -> None:
    week = summarise_week(
        [row("2026-12-02", 3, 4, "work stress", "She seemed irritated.")], NOW, "UTC"
    )
    text = plain(week_text(week))
    assert "Trust was 3 on Wednesday.\nSafety was 4 on Wednesday." in text
    assert "I noticed" not in text
    assert "score" not in text  # not "Your trust score on Wed 2 Dec 2026 was 3"
    assert "• Wed 2 Dec 2026: She seemed irritated." in text


def test_a_week_with_a_fall_from_last_week() -> None:
    rows = [row("2026-11-23", 8, 8), row("2026-12-02", 8, 4)]
    text = plain(week_text(summarise_week(rows, NOW, "UTC")))
    assert "Safety went from 8 to 4 on Wednesday." in text
    assert "Safety was 4" not in text
    assert t("summary.say_drop_safety") in text


# Since the start ------------------------------------------------------------------------------


def month(text: str, sessions: int, trust: float | None, safety: float | None) -> MonthAverage:
    return MonthAverage(dt.date.fromisoformat(text), sessions, trust, safety)


def test_first_and_last_month_in_one_year() -> None:
    first, last = month("2026-09-01", 3, 3.7, 4.3), month("2026-11-01", 4, 6.3, 4.3)
    assert comparison_sentences(first, last) == [
        "Trust went from 3.7 in September to 6.3 in November.",
        "Safety was 4.3 in September and in November.",
    ]


def test_first_and_last_month_across_a_new_year() -> None:
    first, last = month("2025-12-01", 2, 4.0, None), month("2026-02-01", 1, 6.0, 7.0)
    # Safety has no average in December: only trust is compared.
    assert comparison_sentences(first, last) == [
        "Trust went from 4 in December 2025 to 6 in February 2026."
    ]


def test_the_dip_in_words() -> None:
    both = Dip(dt.date(2026, 10, 15), "late", (Fall("trust", 5, 3), Fall("safety", 6, 4)))
    assert dip_sentence(both, WEDNESDAY) == (
        "On Thursday 15 October, trust went from 5 to 3 and safety from 6 to 4."
    )
    one = Dip(dt.date(2025, 12, 18), None, (Fall("safety", 8, 4),))
    assert dip_sentence(one, WEDNESDAY) == "On Thursday 18 December 2025, safety went from 8 to 4."


def test_three_months_since_the_start() -> None:
    rows = [
        row("2026-09-10", 3, 4, "first session", "Explain how this works"),
        row("2026-09-17", 4, 4),
        row("2026-09-24", 4, 5),
        row("2026-10-08", 5, 6),
        row("2026-10-15", 3, 4, "she was 15 minutes late", "Say sorry for being late"),
        row("2026-10-22", 5, 6, role="not a hard session"),
        row("2026-11-12", 7, 7),
        row("2026-11-26", 6, 8, "the relapse scare"),
    ]
    text = plain(history_text(summarise_history(rows, NOW, "Europe/Berlin")))
    assert text.startswith(
        "Since you started, Thu 10 Sep 2026 – Wed 2 Dec 2026\n\n8 sessions logged."
    )
    assert (
        "Month by month\n"
        "• September 2026: trust 3.7, safety 4.3 (3 sessions)\n"
        "• October 2026: trust 4.3, safety 5.3 (3 sessions)\n"
        "• November 2026: trust 6.5, safety 7.5 (2 sessions)"
    ) in text
    assert "Trust went from 3.7 in September to 6.5 in November." in text
    assert "Safety went from 4.3 in September to 7.5 in November." in text
    assert (
        "The biggest dip\n"
        "On Thursday 15 October, trust went from 5 to 3 and safety from 6 to 4.\n"
        "You talked about: she was 15 minutes late"
    ) in text
    assert (
        "What your therapist could have done, in the harder sessions\n"
        "• Thu 10 Sep 2026 (trust 3, safety 4): Explain how this works\n"
        "• Thu 15 Oct 2026 (trust 3, safety 4): Say sorry for being late"
    ) in text
    assert "not a hard session" not in text


def test_one_session_since_the_start() -> None:
    history = summarise_history([row("2026-12-02", 6, 7)], NOW, "UTC")
    text = plain(history_text(history))
    assert text == (
        "Since you started, Wed 2 Dec 2026\n\n"
        "One session logged.\n\n"
        "Month by month\n"
        "• December 2026: trust 6, safety 7 (1 session)"
    )


# The next step: invitations, and no "picks up" for what was never opened -----------------------


def test_a_section_never_opened_is_offered_not_picked_up() -> None:
    text = progress_text({}, set())
    assert "picks up where you left off" not in text
    assert t("summary.next_section_new", name=t("menu.learn"), command="/learn") in text


def test_a_section_left_half_way_is_picked_up() -> None:
    text = progress_text({}, {"learn.page"})  # the bookmark of a page read
    assert t("summary.next_section", name=t("menu.learn"), command="/learn") in text


def test_one_begun_comes_before_an_earlier_one_never_opened() -> None:
    answers = {"reflect.q1": answer("reflect.q1", "Being heard.")}
    text = progress_text(answers, set())
    assert t("summary.next_section", name=t("menu.reflect"), command="/reflect") in text
    assert "/learn" not in text


def test_a_marked_tip_is_an_invitation_not_a_question() -> None:
    title = items("tips.items")[1]["title"]
    text = plain(progress_text({"tips.marked": answer("tips.marked", "2")}, set()))
    assert f"You marked the tip “{title}” to try." in text
    step = text.split(plain(t("summary.next_title")))[1]
    assert "/log" in step
    assert "?" not in step  # (a section's name, "Am I holding back?", may be one)


def test_the_closing_buttons_are_the_menu_and_help_now() -> None:
    def rows(empty: bool) -> list[list[tuple[str, object]]]:
        markup = closing_keyboard(empty)
        return [[(b.text, b.callback_data) for b in line] for line in markup.inline_keyboard]

    last = [(t("crisis.button"), "menu:crisis"), (t("common.menu"), "menu:menu")]
    assert rows(False) == [last]
    assert rows(True) == [[(t("summary.log_button"), "menu:log")], last]
