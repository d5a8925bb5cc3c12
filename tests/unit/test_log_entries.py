"""The session chart's plain functions: the person's today, date limits, drafts, the summary."""

from __future__ import annotations

import datetime as dt

import pytest

from conversations.sections.log import (
    DATE,
    ROLE,
    SAFETY,
    TOPIC,
    TRUST,
    confirmation,
    is_empty,
    resume_step,
)
from conversations.worksheet.content import t
from conversations.worksheet.dates import local_today, session_date_problem, show_date
from storage.repository import SessionRow

# 23:30 UTC on 20 Nov 2026: already the 21st in Berlin, still the 20th in New York.
LATE = dt.datetime(2026, 11, 20, 23, 30, tzinfo=dt.UTC)
EARLY = dt.datetime(2026, 11, 21, 3, 0, tzinfo=dt.UTC)


def row(**fields: object) -> SessionRow:
    values: dict[str, object] = {
        "uid": "u",
        "session_date": None,
        "topic": None,
        "trust": None,
        "safety": None,
        "role": None,
        "complete": False,
    }
    values.update(fields)
    return SessionRow(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("zone", "now", "expected"),
    [
        (None, LATE, dt.date(2026, 11, 20)),
        ("Europe/Berlin", LATE, dt.date(2026, 11, 21)),
        ("America/New_York", EARLY, dt.date(2026, 11, 20)),
        (
            "Pacific/Kiritimati",
            dt.datetime(2026, 11, 20, 10, 30, tzinfo=dt.UTC),
            dt.date(2026, 11, 21),
        ),
        # Unknown or malformed zones fall back to UTC rather than failing.
        ("Mars/Olympus_Mons", LATE, dt.date(2026, 11, 20)),
        ("../../etc/passwd", LATE, dt.date(2026, 11, 20)),
        ("", LATE, dt.date(2026, 11, 20)),
    ],
)
def test_today_is_the_persons_today(zone: str | None, now: dt.datetime, expected: dt.date) -> None:
    assert local_today(zone, now) == expected


def test_today_without_a_given_time_is_now() -> None:
    assert local_today(None) == dt.datetime.now(dt.UTC).date()


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (dt.date(2026, 11, 20), None),
        (dt.date(2026, 11, 19), None),
        (dt.date(2025, 11, 20), None),
        (dt.date(2026, 11, 21), "log.date_future"),
        (dt.date(2027, 1, 1), "log.date_future"),
        (dt.date(2025, 11, 18), "log.date_too_old"),
        (dt.date(2020, 1, 1), "log.date_too_old"),
    ],
)
def test_dates_of_the_past_year_can_be_logged(day: dt.date, expected: str | None) -> None:
    assert session_date_problem(day, dt.date(2026, 11, 20)) == expected


def test_a_draft_is_empty_only_with_nothing_in_it() -> None:
    assert is_empty(row())
    assert not is_empty(row(session_date=dt.date(2026, 11, 20)))
    assert not is_empty(row(trust=1))
    assert not is_empty(row(role="x"))


@pytest.mark.parametrize(
    ("fields", "step"),
    [
        ({}, DATE),
        ({"session_date": dt.date(2026, 11, 20)}, TOPIC),
        ({"session_date": dt.date(2026, 11, 20), "topic": "x"}, TRUST),
        # A skipped topic stays skipped once a later step was answered.
        ({"session_date": dt.date(2026, 11, 20), "trust": 4}, SAFETY),
        ({"topic": "x"}, TRUST),
        ({"session_date": dt.date(2026, 11, 20), "safety": 4}, ROLE),
        ({"role": "x"}, ROLE),
    ],
)
def test_a_draft_continues_after_its_last_answer(fields: dict[str, object], step: str) -> None:
    assert resume_step(row(**fields)) == step


def test_dates_are_shown_with_their_weekday() -> None:
    shown = show_date(dt.date(2026, 11, 20))
    assert "20" in shown and "2026" in shown
    assert "Fri" in shown and "Nov" in shown
    assert show_date(None) == t("log.no_date")


def test_the_summary_escapes_what_the_person_wrote_and_marks_skipped_steps() -> None:
    text = confirmation(row(topic="<b>me & you</b>", trust=7, role=None, complete=True))
    assert "&lt;b&gt;me &amp; you&lt;/b&gt;" in text
    assert "<b>me" not in text
    assert t("log.rating_value", value=7) in text
    assert text.count(t("log.blank")) == 3  # date, safety, role
