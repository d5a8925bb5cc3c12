"""Numbers and short dates in the person's language, by Babel (CLDR): "7,5" in German, "3 nov."
in Spanish. Dates inside sentences ("Fri 20 Nov 2026") are the content's own patterns
(log.date_format and friends), which each translation orders and declines as its sentences need.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from babel.dates import format_skeleton
from babel.numbers import format_decimal

from conversations.worksheet.content import language


def _dates_locale() -> str:
    # The bot's English writes the day first ("Fri 20 Nov 2026"): its charts do too.
    code = language()
    return "en_GB" if code == "en" else code


def number(value: float | Decimal | int) -> str:
    """An average or a change as the person writes numbers: "7.5", "7,5"; whole ones as "7"."""
    return str(format_decimal(value, format="0.##", locale=language()))


def short_date(day: dt.date) -> str:
    """A chart's axis label: "3 Nov", "3. Nov.", "3 нояб."."""
    return str(format_skeleton("dMMM", day, locale=_dates_locale()))


def month_year(day: dt.date) -> str:
    """A chart's axis label when it spans years: "Nov 2025"."""
    return str(format_skeleton("yMMM", day, locale=_dates_locale()))
