"""When a logged session deserves a word of care. Plain rules, unit-tested.

A very low rating, or a sharp fall in safety since the session before, gets a short, calm line
with the chart's confirmation: it matters, it is worth bringing to the therapist, and help is
one tap away. Never an alarm, never a judgement; the bot does not read what was typed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from enum import StrEnum
from typing import Protocol

LOW = 3  # a trust or safety rating at or below this is very low
DROP = 3  # a fall in safety of at least this much since the session before


class Care(StrEnum):
    """Why a session gets a word of care (the value names its words: "log.care_<value>")."""

    LOW = "low"
    DROP = "drop"


class Rated(Protocol):
    """A logged session as the rule sees it (a chart row has these)."""

    @property
    def uid(self) -> str: ...
    @property
    def session_date(self) -> dt.date | None: ...
    @property
    def trust(self) -> int | None: ...
    @property
    def safety(self) -> int | None: ...


def care_for(entry: Rated, chart: Sequence[Rated]) -> tuple[Care, int | None] | None:
    """Whether `entry` deserves a word of care, and why; for a drop, the safety before.

    `chart` is the person's completed entries (the entry itself may be among them). The
    session before is the latest other dated entry on or before the entry's date.
    """
    ratings = [value for value in (entry.trust, entry.safety) if value is not None]
    if any(value <= LOW for value in ratings):
        return Care.LOW, None
    if entry.safety is None or entry.session_date is None:
        return None
    day = entry.session_date
    before = [
        row
        for row in chart
        if row.uid != entry.uid and row.session_date is not None and row.session_date <= day
    ]
    earlier = max(before, key=lambda row: row.session_date or day, default=None)
    if earlier is None or earlier.safety is None:
        return None
    if earlier.safety - entry.safety >= DROP:
        return Care.DROP, earlier.safety
    return None
