"""Parsing what people type: ratings and dates. Plain functions, unit-tested."""

from __future__ import annotations

import re

RATING = re.compile(r"[0-9]{1,2}")


def parse_rating(text: str, low: int = 1, high: int = 10) -> int | None:
    """A whole number from low to high written with ASCII digits, else None.

    "7" and " 7 " are taken; "0", "11", "7.5", "seven", "٧", "０", "²" and long digit strings
    are not (Python's int() would accept some of those, which is why this does not use it).
    """
    value = text.strip()
    if not RATING.fullmatch(value):
        return None
    number = int(value)
    return number if low <= number <= high else None
