"""Column types for local wall-clock values, stored as the short ISO text they always were.

A schedule's time of day and an occurrence's start are wall-clock values in the person's zone,
not instants, so they are naive and kept as text: "HH:MM" and "YYYY-MM-DDTHH:MM:SS". The models
see `dt.time` and `dt.datetime`; the stored text (and so every existing database, the ledger's
unique key included) is exactly what it was when the code converted by hand.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class WallClockTime(TypeDecorator[dt.time]):
    """A naive time of day to the minute, stored as "HH:MM" in a String(5)."""

    impl = String(5)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if not isinstance(value, dt.time):
            raise TypeError(f"a wall-clock time is a datetime.time, not {type(value).__name__}")
        if value.tzinfo is not None:
            raise ValueError("a wall-clock time has no tzinfo")
        if value.second or value.microsecond:
            raise ValueError("a wall-clock time is stored to the minute")
        return value.isoformat(timespec="minutes")

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.time | None:
        return None if value is None else dt.time.fromisoformat(value)


class WallClockDateTime(TypeDecorator[dt.datetime]):
    """A naive local datetime to the second, stored as "YYYY-MM-DDTHH:MM:SS" in a String(19).

    The text is what `isoformat()` gives for such a value, so equal values are equal text (and
    `fold`, which the text cannot hold, is dropped as equality ignores it for naive values).
    """

    impl = String(19)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if not isinstance(value, dt.datetime):
            raise TypeError(f"a wall-clock datetime is a datetime, not {type(value).__name__}")
        if value.tzinfo is not None:
            raise ValueError("a wall-clock datetime is naive (local time, no tzinfo)")
        if value.microsecond:
            raise ValueError("a wall-clock datetime is stored to the second")
        return value.isoformat(timespec="seconds")

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        return None if value is None else dt.datetime.fromisoformat(value)
