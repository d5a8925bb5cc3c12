"""The summaries' numbers: the week (windows in the person's zone, averages, changes, gentle
signals) and since the start (monthly averages, the biggest dip, the hard sessions)."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from conversations.worksheet.summaries import (
    ChartPoint,
    Dip,
    Fall,
    HardSession,
    MonthAverage,
    Note,
    Signal,
    biggest_dip,
    chart_points,
    hard_sessions,
    history_points,
    monthly_averages,
    previous_window,
    summarise_history,
    summarise_week,
    week_window,
)
from storage.repository import SessionRow

UTC = dt.UTC
_uids = itertools.count()

# Wednesday 12 June 2024, noon UTC: the week is Thu 6 June to Wed 12 June in UTC.
NOW = dt.datetime(2024, 6, 12, 12, 0, tzinfo=UTC)


def day(text: str) -> dt.date:
    """A date from ISO text."""
    return dt.date.fromisoformat(text)


def row(
    date: str | None,
    trust: int | None = None,
    safety: int | None = None,
    *,
    role: str | None = None,
    topic: str | None = None,
    complete: bool = True,
) -> SessionRow:
    """A session row as the repository returns it."""
    return SessionRow(
        uid=f"s{next(_uids)}",
        session_date=None if date is None else day(date),
        topic=topic,
        trust=trust,
        safety=safety,
        role=role,
        complete=complete,
    )


# Windows ------------------------------------------------------------------------------------


def test_week_is_today_and_six_days_before() -> None:
    assert week_window(NOW, "UTC") == (day("2024-06-06"), day("2024-06-12"))
    assert previous_window(NOW, "UTC") == (day("2024-05-30"), day("2024-06-05"))


def test_just_after_local_midnight_the_week_ends_on_the_local_date() -> None:
    # 22:30 UTC on 11 June is 00:30 on 12 June in Berlin (CEST, UTC+2).
    now = dt.datetime(2024, 6, 11, 22, 30, tzinfo=UTC)
    assert week_window(now, "UTC") == (day("2024-06-05"), day("2024-06-11"))
    assert week_window(now, "Europe/Berlin") == (day("2024-06-06"), day("2024-06-12"))
    rows = [row("2024-06-12", 8, 8), row("2024-06-05", 3, 3)]
    summary = summarise_week(rows, now, "Europe/Berlin")
    assert [r.session_date for r in summary.sessions] == [day("2024-06-12")]


def test_west_of_utc_the_week_ends_on_the_previous_utc_date() -> None:
    # 03:00 UTC on 12 June is 23:00 on 11 June in New York (EDT, UTC-4).
    now = dt.datetime(2024, 6, 12, 3, 0, tzinfo=UTC)
    assert week_window(now, "America/New_York") == (day("2024-06-05"), day("2024-06-11"))


@pytest.mark.parametrize(
    ("zone", "now", "start", "end"),
    [
        # Berlin springs forward on Sun 31 March 2024: the week has only 167 hours.
        ("Europe/Berlin", dt.datetime(2024, 4, 2, 10, 0, tzinfo=UTC), "2024-03-27", "2024-04-02"),
        # Berlin falls back on Sun 27 October 2024: the week has 169 hours.
        ("Europe/Berlin", dt.datetime(2024, 10, 29, 10, 0, tzinfo=UTC), "2024-10-23", "2024-10-29"),
        # New York springs forward on Sun 10 March 2024; 04:30 UTC on the 12th is 00:30 local.
        (
            "America/New_York",
            dt.datetime(2024, 3, 12, 4, 30, tzinfo=UTC),
            "2024-03-06",
            "2024-03-12",
        ),
        # New York falls back on Sun 3 November 2024; 03:30 UTC on the 5th is 22:30 on the 4th.
        (
            "America/New_York",
            dt.datetime(2024, 11, 5, 3, 30, tzinfo=UTC),
            "2024-10-29",
            "2024-11-04",
        ),
    ],
)
def test_a_dst_week_is_seven_calendar_days(
    zone: str, now: dt.datetime, start: str, end: str
) -> None:
    assert week_window(now, zone) == (day(start), day(end))
    prev_start, prev_end = previous_window(now, zone)
    assert prev_end == day(start) - dt.timedelta(days=1)
    assert (prev_end - prev_start).days == 6
    # Both edges of the DST week are in it, the days just outside are not.
    rows = [row(start, 7, 7), row(end, 6, 6), row(prev_end.isoformat(), 1, 1)]
    summary = summarise_week(rows, now, zone)
    assert [r.session_date for r in summary.sessions] == [day(start), day(end)]


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        week_window(dt.datetime(2024, 6, 12, 12, 0), "UTC")


# Sessions, averages and changes ---------------------------------------------------------------


def test_sessions_are_the_weeks_complete_dated_rows_sorted_by_date() -> None:
    rows = [
        row("2024-06-11", 7, 7),
        row("2024-06-06", 6, 6),
        row(None, 1, 1),
        row("2024-06-10", 1, 1, complete=False),
        row("2024-06-13", 1, 1),  # tomorrow
        row("2024-06-05", 1, 1),  # the day before the week
    ]
    summary = summarise_week(rows, NOW, "UTC")
    assert [r.session_date for r in summary.sessions] == [day("2024-06-06"), day("2024-06-11")]
    assert (summary.start, summary.end) == (day("2024-06-06"), day("2024-06-12"))
    assert not summary.empty


def test_averages_round_to_one_decimal_half_up() -> None:
    rows = [row("2024-06-06", 7, 8), row("2024-06-08", 8, 9), row("2024-06-10", 7, 9)]
    rows.append(row("2024-06-12", 7, None))
    summary = summarise_week(rows, NOW, "UTC")
    # Trust 29 / 4 = 7.25 shows as 7.3 (not banker's 7.2); safety 26 / 3 = 8.666... shows as 8.7.
    assert summary.trust_average == 7.3
    assert summary.safety_average == 8.7


def test_a_measure_with_no_values_has_no_average() -> None:
    summary = summarise_week([row("2024-06-10", 6, None)], NOW, "UTC")
    assert summary.trust_average == 6.0
    assert summary.safety_average is None


def test_change_against_the_previous_seven_days() -> None:
    rows = [
        row("2024-05-29", 1, 1),  # before both windows
        row("2024-05-30", 5, 8),
        row("2024-06-05", 6, 8),
        row("2024-06-06", 8, 7),
        row("2024-06-12", 7, 6),
    ]
    summary = summarise_week(rows, NOW, "UTC")
    assert (summary.trust_average, summary.safety_average) == (7.5, 6.5)
    assert summary.trust_change == 2.0  # 7.5 - 5.5
    assert summary.safety_change == -1.5  # 6.5 - 8.0


def test_change_is_taken_from_the_shown_rounded_averages() -> None:
    rows = [row("2024-06-01", 6, 6), row("2024-06-02", 6, 6), row("2024-06-03", 7, 7)]
    rows += [row("2024-06-07", 7, 9), row("2024-06-08", 7, 9), row("2024-06-09", 7, 8)]
    rows.append(row("2024-06-10", 8, None))
    summary = summarise_week(rows, NOW, "UTC")
    # Trust 7.25 -> 7.3 against 6.333 -> 6.3: the change shown is 1.0, not 0.9 (0.9167 rounded).
    assert (summary.trust_average, summary.trust_change) == (7.3, 1.0)
    # Safety 8.667 -> 8.7 against 6.3: exactly 2.4, without float noise (2.3999999999999995).
    assert (summary.safety_average, summary.safety_change) == (8.7, 2.4)


def test_no_change_without_values_on_both_sides() -> None:
    rows = [row("2024-06-01", 6, None), row("2024-06-10", 7, 7)]
    summary = summarise_week(rows, NOW, "UTC")
    assert summary.trust_change == 1.0
    assert summary.safety_change is None
    assert summarise_week([row("2024-06-01", 6, 6)], NOW, "UTC").trust_change is None


def test_empty_week() -> None:
    summary = summarise_week([row("2024-06-01", 3, 3)], NOW, "UTC")
    assert summary.empty
    assert summary.sessions == ()
    assert (summary.trust_average, summary.safety_average) == (None, None)
    assert (summary.trust_change, summary.safety_change) == (None, None)
    assert summary.notes == ()
    assert summary.signals == ()
    assert summarise_week([], NOW, "UTC").empty


def test_notes_are_the_weeks_role_texts() -> None:
    rows = [
        row("2024-06-04", 7, 7, role="before the week"),
        row("2024-06-10", 7, 7, role="  Ask how I was doing.  ", topic="work"),
        row("2024-06-07", 7, 7, role="Slow down."),
        row("2024-06-11", 7, 7, role="   "),
        row("2024-06-12", 7, 7),
    ]
    summary = summarise_week(rows, NOW, "UTC")
    assert summary.notes == (
        Note(day("2024-06-07"), None, "Slow down."),
        Note(day("2024-06-10"), "work", "Ask how I was doing."),
    )


# Signals --------------------------------------------------------------------------------------


def test_a_drop_of_exactly_two_counts() -> None:
    rows = [row("2024-06-07", 8, 8), row("2024-06-10", 6, 8)]
    summary = summarise_week(rows, NOW, "UTC")
    assert summary.signals == (Signal("drop", "trust", day("2024-06-10"), 6, 8, day("2024-06-07")),)


def test_a_drop_of_one_does_not_count() -> None:
    rows = [row("2024-06-07", 8, 9), row("2024-06-10", 7, 8), row("2024-06-11", 6, 7)]
    assert summarise_week(rows, NOW, "UTC").signals == ()


def test_a_drop_across_the_week_boundary_counts() -> None:
    # The previous session is weeks before this week; only the week's session is flagged.
    rows = [row("2024-05-01", 10, 9), row("2024-05-20", 9, 9), row("2024-06-06", 7, 9)]
    summary = summarise_week(rows, NOW, "UTC")
    assert summary.signals == (Signal("drop", "trust", day("2024-06-06"), 7, 9, day("2024-05-20")),)


def test_a_drop_before_the_week_is_not_this_weeks_signal() -> None:
    rows = [row("2024-06-01", 9, 9), row("2024-06-05", 6, 6), row("2024-06-08", 7, 7)]
    assert summarise_week(rows, NOW, "UTC").signals == ()


def test_trust_and_safety_drops_are_independent() -> None:
    rows = [
        row("2024-06-06", 9, 9),
        row("2024-06-08", 9, 6),  # safety drops
        row("2024-06-10", 7, 7),  # trust drops
        row("2024-06-12", 9, 9),
    ]
    summary = summarise_week(rows, NOW, "UTC")
    assert summary.signals == (
        Signal("drop", "safety", day("2024-06-08"), 6, 9, day("2024-06-06")),
        Signal("drop", "trust", day("2024-06-10"), 7, 9, day("2024-06-08")),
    )


def test_a_drop_compares_with_the_last_session_that_had_the_measure() -> None:
    rows = [row("2024-06-06", 9, 9), row("2024-06-08", 9, None), row("2024-06-10", 9, 7)]
    summary = summarise_week(rows, NOW, "UTC")
    assert summary.signals == (
        Signal("drop", "safety", day("2024-06-10"), 7, 9, day("2024-06-06")),
    )


def test_a_low_score_is_five_or_less() -> None:
    rows = [row("2024-06-08", 6, 6), row("2024-06-09", 6, 5), row("2024-06-10", 6, 6)]
    summary = summarise_week(rows, NOW, "UTC")
    assert summary.signals == (Signal("low", "safety", day("2024-06-09"), 5),)


def test_low_scores_before_the_week_are_not_signalled() -> None:
    rows = [row("2024-06-05", 2, 2), row("2024-06-08", 6, 6)]
    assert summarise_week(rows, NOW, "UTC").signals == ()


def test_a_low_drop_gives_both_signals_in_date_and_measure_order() -> None:
    rows = [row("2024-06-07", 7, 9), row("2024-06-11", 4, 9), row("2024-06-12", 9, 3)]
    summary = summarise_week(rows, NOW, "UTC")
    assert summary.signals == (
        Signal("drop", "trust", day("2024-06-11"), 4, 7, day("2024-06-07")),
        Signal("low", "trust", day("2024-06-11"), 4),
        Signal("drop", "safety", day("2024-06-12"), 3, 9, day("2024-06-11")),
        Signal("low", "safety", day("2024-06-12"), 3),
    )


def test_incomplete_rows_are_not_the_previous_session() -> None:
    rows = [row("2024-06-07", 9, 9, complete=False), row("2024-06-08", 7, 7)]
    assert summarise_week(rows, NOW, "UTC").signals == ()


# All tens -------------------------------------------------------------------------------------


def test_all_tens_after_three_sessions() -> None:
    rows = [row("2024-05-01", 10, 10), row("2024-06-01", 10, None), row("2024-06-10", 10, 10)]
    assert summarise_week(rows, NOW, "UTC").all_tens


def test_all_tens_needs_three_sessions() -> None:
    rows = [row("2024-06-01", 10, 10), row("2024-06-10", 10, 10)]
    assert not summarise_week(rows, NOW, "UTC").all_tens


def test_one_value_below_ten_is_not_all_tens() -> None:
    rows = [row("2024-05-01", 10, 9), row("2024-06-01", 10, 10), row("2024-06-10", 10, 10)]
    assert not summarise_week(rows, NOW, "UTC").all_tens


def test_sessions_without_scores_do_not_count_towards_all_tens() -> None:
    rows = [row("2024-06-01", 10, 10), row("2024-06-05"), row("2024-06-10", 10, 10)]
    rows.append(row("2024-06-11", 10, 10, complete=False))
    assert not summarise_week(rows, NOW, "UTC").all_tens


# Chart points ---------------------------------------------------------------------------------


def test_chart_points_cover_the_last_twelve_weeks_in_the_persons_zone() -> None:
    # 23:30 UTC on 11 June is 09:30 on 12 June in Sydney; 12 weeks back starts on 21 March.
    now = dt.datetime(2024, 6, 11, 23, 30, tzinfo=UTC)
    rows = [
        row("2024-06-12", 8, None),
        row("2024-03-20", 1, 1),  # one day too old
        row("2024-03-21", 5, 6),
        row("2024-04-01"),  # nothing to draw
        row("2024-05-01", 7, 7, complete=False),
    ]
    assert chart_points(rows, now, "Australia/Sydney") == [
        ChartPoint(day("2024-03-21"), 5, 6),
        ChartPoint(day("2024-06-12"), 8, None),
    ]
    # In UTC it is still 11 June, so the window is 20 March to 11 June.
    assert chart_points(rows, now, "UTC") == [
        ChartPoint(day("2024-03-20"), 1, 1),
        ChartPoint(day("2024-03-21"), 5, 6),
    ]
    assert chart_points(rows, now, "Australia/Sydney", weeks=1) == [
        ChartPoint(day("2024-06-12"), 8, None)
    ]


# Since the start: month by month ---------------------------------------------------------------


def test_monthly_averages_per_calendar_month_oldest_first() -> None:
    rows = [
        row("2024-05-02", 6, 7),
        row("2024-03-31", 3, None),
        row("2024-03-01", 4, 5),
        row("2024-05-31", 7, 8),
        row("2024-05-15", 8, 8),
        row("2024-04-10", 9, 9, complete=False),  # a draft
        row(None, 1, 1),  # undated
    ]
    assert monthly_averages(rows) == [
        # Trust 7 / 2 = 3.5; safety from the one session that had it.
        MonthAverage(day("2024-03-01"), 2, 3.5, 5.0),
        # April had only a draft, so it is left out rather than shown as empty.
        # Trust 21 / 3 = 7.0; safety 23 / 3 = 7.666... shows as 7.7.
        MonthAverage(day("2024-05-01"), 3, 7.0, 7.7),
    ]


def test_a_month_whose_measure_was_always_skipped_has_no_average() -> None:
    assert monthly_averages([row("2024-06-03", None, 6), row("2024-06-04")]) == [
        MonthAverage(day("2024-06-01"), 2, None, 6.0)
    ]


def test_monthly_averages_of_nothing() -> None:
    assert monthly_averages([]) == []


# Since the start: the biggest dip ------------------------------------------------------------


def test_the_biggest_dip_is_the_session_with_the_largest_fall() -> None:
    rows = [
        row("2024-04-01", 5, 6),
        row("2024-04-08", 6, 7),
        row("2024-04-15", 3, 4, topic="she was late"),  # trust -3, safety -3
        row("2024-04-22", 5, 6),
        row("2024-04-29", 4, 7),  # trust -1
    ]
    assert biggest_dip(rows) == Dip(
        day("2024-04-15"), "she was late", (Fall("trust", 6, 3), Fall("safety", 7, 4))
    )
    dip = biggest_dip(rows)
    assert dip is not None and dip.points == 3


def test_a_dip_names_only_the_measures_that_fell() -> None:
    rows = [row("2024-04-01", 5, 8), row("2024-04-08", 7, 4)]
    assert biggest_dip(rows) == Dip(day("2024-04-08"), None, (Fall("safety", 8, 4),))


def test_a_dip_compares_with_the_last_session_that_had_the_measure() -> None:
    rows = [row("2024-04-01", 8, 8), row("2024-04-08", None, 8), row("2024-04-15", 4, 8)]
    assert biggest_dip(rows) == Dip(day("2024-04-15"), None, (Fall("trust", 8, 4),))


def test_equal_largest_falls_go_to_the_larger_fall_together_then_the_earlier() -> None:
    rows = [
        row("2024-04-01", 8, 8),
        row("2024-04-08", 5, 8),  # trust -3
        row("2024-04-15", 8, 8),
        row("2024-04-22", 5, 6),  # trust -3 and safety -2: larger together
        row("2024-04-29", 8, 8),
        row("2024-05-06", 5, 6),  # the same again, later
    ]
    dip = biggest_dip(rows)
    assert dip is not None and dip.session_date == day("2024-04-22")


def test_no_dip_without_a_fall() -> None:
    assert biggest_dip([]) is None
    assert biggest_dip([row("2024-04-01", 2, 2)]) is None  # one session: nothing to fall from
    assert biggest_dip([row("2024-04-01", 4, 4), row("2024-04-08", 4, 6)]) is None


# Since the start: the hard sessions ----------------------------------------------------------


def test_hard_sessions_have_trust_or_safety_three_or_below() -> None:
    rows = [
        row("2024-04-01", 3, 8, role="  Ask what I need.  ", topic="work"),
        row("2024-04-08", 4, 4, role="not a hard one"),
        row("2024-04-15", 9, 2),
        row("2024-04-22", None, 3, role="   "),
        row("2024-04-29"),  # no scores: not hard
        row("2024-05-06", 1, 1, complete=False),
    ]
    assert hard_sessions(rows) == [
        HardSession(day("2024-04-01"), "work", 3, 8, "Ask what I need."),
        HardSession(day("2024-04-15"), None, 9, 2, None),
        HardSession(day("2024-04-22"), None, None, 3, None),
    ]


# Since the start: the whole -----------------------------------------------------------------


def test_history_of_nothing_is_empty() -> None:
    history = summarise_history([], NOW, "UTC")
    assert history.empty
    assert history.start is None and history.end == day("2024-06-12")
    assert history.months == () and history.dip is None and history.hard == ()
    assert history.first_and_last_month is None


def test_history_of_one_session() -> None:
    history = summarise_history([row("2024-06-10", 3, 4, role="Slow down.")], NOW, "UTC")
    assert not history.empty
    assert (history.start, history.end) == (day("2024-06-10"), day("2024-06-12"))
    assert history.months == (MonthAverage(day("2024-06-01"), 1, 3.0, 4.0),)
    assert history.first_and_last_month is None  # one month: nothing to compare
    assert history.dip is None
    assert history.hard == (HardSession(day("2024-06-10"), None, 3, 4, "Slow down."),)


def test_history_runs_from_the_first_session_to_today_in_the_persons_zone() -> None:
    # 23:30 UTC on 11 June is already 12 June in Sydney.
    now = dt.datetime(2024, 6, 11, 23, 30, tzinfo=UTC)
    rows = [row("2024-06-12", 2, 2), row("2024-03-04", 5, 5), row("2024-04-20", 7, 6)]
    sydney = summarise_history(rows, now, "Australia/Sydney")
    assert (sydney.start, sydney.end) == (day("2024-03-04"), day("2024-06-12"))
    assert [m.month for m in sydney.months] == [
        day("2024-03-01"),
        day("2024-04-01"),
        day("2024-06-01"),
    ]
    assert sydney.first_and_last_month == (sydney.months[0], sydney.months[-1])
    assert sydney.dip == Dip(day("2024-06-12"), None, (Fall("trust", 7, 2), Fall("safety", 6, 2)))
    # In UTC it is still 11 June: the session of the 12th is not in the past yet.
    utc = summarise_history(rows, now, "UTC")
    assert [r.session_date for r in utc.sessions] == [day("2024-03-04"), day("2024-04-20")]
    assert utc.dip is None and utc.hard == ()
    assert history_points(rows, now, "UTC") == [
        ChartPoint(day("2024-03-04"), 5, 5),
        ChartPoint(day("2024-04-20"), 7, 6),
    ]


def test_history_points_cover_the_whole_range_not_twelve_weeks() -> None:
    rows = [row("2023-07-01", 4, 4), row("2024-01-01"), row("2024-06-12", 8, None)]
    assert history_points(rows, NOW, "UTC") == [
        ChartPoint(day("2023-07-01"), 4, 4),
        ChartPoint(day("2024-06-12"), 8, None),
    ]
    assert chart_points(rows, NOW, "UTC") == [ChartPoint(day("2024-06-12"), 8, None)]
