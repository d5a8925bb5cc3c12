"""Parsing what people type: ratings and dates. Plain functions, unit-tested.

The words people type for numbers and dates ("seven", "Oktober", "gestern", "3 weeks ago") are in
content/input.toml, one table per language. Every language's words are read together, because
people type their own language into the bot whatever its language is; `words_of` refuses words
that would mean two different things.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

from conversations.worksheet.content import ENGLISH, languages, lookup, own_words

# The lists a language may give under [input.<language>], and the numbers of entries of those
# that run through a fixed set (one to ten, the months, the weekdays).
KINDS = (
    *("numbers", "one", "months", "weekdays", "today", "yesterday", "day_before_yesterday"),
    *("days", "weeks", "out_of", "between", "ago", "last", "on", "yes", "no", "tomorrow"),
)
SIZES = {"numbers": 10, "months": 12, "weekdays": 7}
# Each phrase list's placeholders, each used exactly once in every phrase.
PHRASES = {"ago": ("count", "unit"), "last": ("weekday",), "on": ("weekday",)}
# The shortest beginning of a month's or weekday's name that is read as that name ("sept").
SHORTEST = 3

# Letters of any script, not digits: [^\W\d_]. Digits are [0-9] rather than \d, because \d also
# matches other scripts' digits, which int() would then accept.
LETTERS = r"[^\W\d_]+"
PLACEHOLDERS = {
    "count": rf"(?P<count>[0-9]{{1,3}}|{LETTERS})",
    "unit": rf"(?P<unit>{LETTERS})",
    "weekday": rf"(?P<weekday>{LETTERS})\.?",
}


@dataclass(frozen=True)
class Words:
    """Every language's words for numbers and dates, merged, each mapped to what it means."""

    numbers: Mapping[str, int]  # one to ten, for ratings
    counts: Mapping[str, int]  # the numbers and "a", for "a week ago"
    months: Mapping[str, int]  # 1-12
    weekdays: Mapping[str, int]  # 0 (Monday) to 6
    days_back: Mapping[str, int]  # "today" 0, "yesterday" 1, "the day before yesterday" 2
    units: Mapping[str, int]  # "days" 1, "weeks" 7
    out_of: frozenset[str]
    between: frozenset[str]
    ago: tuple[re.Pattern[str], ...]
    last: tuple[re.Pattern[str], ...]
    on: tuple[re.Pattern[str], ...]
    answers: Mapping[str, bool]  # "yes" True, "no" False, for a yes-or-no question typed
    tomorrow: frozenset[str]  # for a session being planned


def words_of(languages: Mapping[str, Mapping[str, Any]]) -> Words:
    """The merged words of the languages' tables ({"en": {"numbers": [...], ...}, ...}).

    Raises ValueError for a table that can't be read (an unknown list, twelve weekdays, a phrase
    without its placeholder) or a word that means two things, in one language or in two.
    """
    # A word's sense in its slot (the words read at one place in a text, such as the month in
    # "20 Nov"), and the language that gave it, to find a word with two senses in one slot.
    senses: dict[tuple[str, str], tuple[tuple[str, int], str]] = {}
    found: dict[str, dict[str, int]] = {kind: {} for kind in KINDS}
    phrases: dict[str, list[re.Pattern[str]]] = {kind: [] for kind in PHRASES}
    for language, table in languages.items():
        unknown = sorted(set(table) - set(KINDS))
        if unknown:
            raise ValueError(f"input.{language}: unknown lists {unknown}")
        for kind, entries in table.items():
            if not isinstance(entries, list):
                raise ValueError(f"input.{language}.{kind} is not a list")
            if kind in SIZES and len(entries) != SIZES[kind]:
                raise ValueError(f"input.{language}.{kind} needs {SIZES[kind]} entries")
            if kind in PHRASES:
                phrases[kind] += [_phrase(p, PHRASES[kind], language) for p in _names(entries)]
                continue
            for number, entry in enumerate(entries):
                slot, sense = _sense(kind, number)
                for name in _names(entry if isinstance(entry, list) else [entry]):
                    known = senses.setdefault((slot, name), (sense, language))
                    if known[0] != sense:
                        raise ValueError(
                            f"input: {name!r} is {_meaning(known[0])} in {known[1]!r}"
                            f" and {_meaning(sense)} in {language!r}"
                        )
                    found[kind][name] = sense[1]

    return Words(
        numbers=found["numbers"],
        counts={**found["numbers"], **found["one"]},
        months=found["months"],
        weekdays=found["weekdays"],
        days_back={
            **{name: 0 for name in found["today"]},
            **{name: 1 for name in found["yesterday"]},
            **{name: 2 for name in found["day_before_yesterday"]},
        },
        units={**found["days"], **found["weeks"]},
        out_of=frozenset(found["out_of"]),
        between=frozenset(found["between"]),
        ago=tuple(phrases["ago"]),
        last=tuple(phrases["last"]),
        on=tuple(phrases["on"]),
        answers={**{n: True for n in found["yes"]}, **{n: False for n in found["no"]}},
        tomorrow=frozenset(found["tomorrow"]),
    )


def _sense(kind: str, number: int) -> tuple[str, tuple[str, int]]:
    """The slot a list's words are read in, and what its entry `number` means there."""
    return {
        "numbers": ("number", ("numbers", number + 1)),
        "one": ("number", ("numbers", 1)),
        "months": ("month", ("months", number + 1)),
        "weekdays": ("day", ("weekdays", number)),
        "today": ("day", ("back", 0)),
        "yesterday": ("day", ("back", 1)),
        "day_before_yesterday": ("day", ("back", 2)),
        "days": ("unit", ("units", 1)),
        "weeks": ("unit", ("units", 7)),
        "out_of": ("connector", ("out_of", 0)),
        "between": ("connector", ("between", 0)),
        "yes": ("answer", ("yes", 1)),
        "no": ("answer", ("yes", 0)),
        "tomorrow": ("day", ("ahead", 1)),
    }[kind]


def _meaning(sense: tuple[str, int]) -> str:
    """A sense in words, for the error that names a word with two."""
    kind, value = sense
    if kind == "back":
        return ("today", "yesterday", "the day before yesterday")[value]
    if kind == "ahead":
        return "tomorrow"
    names = {"numbers": "the number", "months": "month", "weekdays": "weekday", "units": "days:"}
    if kind in names:
        return f"{names[kind]} {value + 1 if kind == 'weekdays' else value}"
    return repr(kind)


def _names(entries: Iterable[object]) -> list[str]:
    names = []
    for entry in entries:
        if not isinstance(entry, str) or not entry.strip():
            raise ValueError(f"input: {entry!r} is not a word")
        names.append(_normal(entry))
    return names


def _phrase(text: str, placeholders: tuple[str, ...], language: str) -> re.Pattern[str]:
    """A phrase such as "vor {count} {unit}" as a pattern for a normalised text."""
    parts = re.split(r"\{(\w+)\}", text)
    if sorted(parts[1::2]) != sorted(placeholders):
        raise ValueError(f"input.{language}: {text!r} needs {{{'}, {'.join(placeholders)}}}")
    literals, names = [re.escape(p) for p in parts[::2]], parts[1::2]
    pattern = literals[0] + "".join(
        PLACEHOLDERS[n] + p for n, p in zip(names, literals[1:], strict=True)
    )
    return re.compile(pattern)


# Ukrainian writes its apostrophe three ways (п'ять, п’ять, пʼять); the modifier letter is the
# one that counts as a letter in a word, so all three become it.
APOSTROPHES = str.maketrans({"'": "\u02bc", "\u2019": "\u02bc"})


def _normal(text: str) -> str:
    """Lower case, one space between words, composed letters (NFC, not NFKC: NFKC would turn
    "０" and "²" into "0" and "2"), and one apostrophe."""
    return " ".join(unicodedata.normalize("NFC", text).lower().translate(APOSTROPHES).split())


@cache
def vocabulary() -> Words:
    """The typed-input words of every language, merged (read once): the [input.<language>]
    tables of content/input.toml and of each language's own content/<language>/input.toml."""
    tables: dict[str, dict[str, Any]] = {}
    for speaks in languages():
        table = (lookup("input") if speaks == ENGLISH else own_words(speaks).get("input")) or {}
        for name, node in table.items():
            if isinstance(node, dict):
                tables.setdefault(name, {}).update(node)
    return words_of(tables)


def _named(word: str, names: Mapping[str, int]) -> int | None:
    """What a month's or weekday's name, or its beginning, means; None if unknown or ambiguous."""
    if word in names:
        return names[word]
    if len(word) < SHORTEST:
        return None
    meanings = {value for name, value in names.items() if name.startswith(word)}
    return meanings.pop() if len(meanings) == 1 else None


# Ratings --------------------------------------------------------------------------------------

NUMBER = re.compile(r"(?P<sign>[-−]?)(?P<whole>[0-9]+)(?:[.,](?P<fraction>[0-9]+))?")
RANGE = re.compile(r"(?P<first>[^\s\-–—]+) ?[-–—] ?(?P<second>[^\s\-–—]+)")
# Emoji parts that follow a digit in a keycap emoji (7️⃣): dropped before reading.
KEYCAP = str.maketrans("", "", "\ufe0f\u20e3")


def parse_rating(text: str, low: int = 1, high: int = 10) -> int | None:
    """A whole number from low to high, else None.

    Takes "7", " 7 ", "07", "7!", "7 👍", "7/10", "7 out of 10", "seven", "Sieben", "7.0". Not "0",
    "11", "7.5", "7 or 8", "70/100", "٧", "０", "²" or long digit strings: Python's int() would
    accept some of those, which is why this does not use it on what was typed.
    """
    return _rating(text, low, high)[0]


def rating_problem(text: str, low: int = 1, high: int = 10) -> str | None:
    """The content key saying why a text is not a rating, or None when parse_rating takes it.

    "input.rating_above" (11, 70%), "input.rating_below" (0, -2), "input.rating_not_whole"
    (7.5), "input.rating_between" (7-8, 7 or 8), else "input.rating_unreadable". The replies'
    words are written for the scale from 1 to 10.
    """
    return _rating(text, low, high)[1]


def _rating(text: str, low: int, high: int) -> tuple[int | None, str | None]:
    value = _trim(_normal(text.translate(KEYCAP)))
    words = vocabulary()
    scale = _out_of(value, words)
    if scale is not None:
        value, of = scale
        if _amount(of, words, high) != (Decimal(high), True):
            return None, "input.rating_unreadable"
    pair = _between(value, words)
    if pair is not None:
        first, second = (_amount(part, words, high) for part in pair)
        fits = all(n is not None and n[1] and low <= n[0] <= high for n in (first, second))
        return None, "input.rating_between" if fits else "input.rating_unreadable"
    number = _amount(value, words, high)
    if number is None:
        return None, "input.rating_unreadable"
    amount, short = number
    if amount > high:
        return None, "input.rating_above"
    if amount < low:
        return None, "input.rating_below"
    if amount != amount.to_integral_value():
        return None, "input.rating_not_whole"
    if not short:
        return None, "input.rating_unreadable"
    return int(amount), None


def _trim(text: str) -> str:
    """The text without emoji, punctuation and spaces around it ("7 👍", "7!", "(7)")."""
    kept = [n for n, char in enumerate(text) if char.isalnum() or char in "-+−"]
    return text[kept[0] : kept[-1] + 1] if kept else ""


def _out_of(value: str, words: Words) -> tuple[str, str] | None:
    """The rating and the scale in "7/10", "7 / 10", "7 out of 10"; None if not that form."""
    if "/" in value:
        parts = [part.strip() for part in value.split("/")]
        return (parts[0], parts[1]) if len(parts) == 2 and all(parts) else ("", "")
    for word in sorted(words.out_of, key=len, reverse=True):
        first, found, second = value.partition(f" {word} ")
        if found:
            return first, second
    return None


def _between(value: str, words: Words) -> tuple[str, str] | None:
    """The two numbers in "7-8", "7 – 8", "7 8", "7 or 8"; None if not that form."""
    if match := RANGE.fullmatch(value):
        return match["first"], match["second"]
    for word in words.between:
        first, found, second = value.partition(f" {word} ")
        if found:
            return first, second
    parts = value.split(" ")
    return (parts[0], parts[1]) if len(parts) == 2 else None


def _amount(text: str, words: Words, high: int) -> tuple[Decimal, bool] | None:
    """The number a text says, and whether it is short enough (no more digits than `high` has,
    at least two: "07" but not "007"); None if it says no number."""
    if text in words.numbers:
        return Decimal(words.numbers[text]), True
    match = NUMBER.fullmatch(text)
    if match is None:
        return None
    sign = "-" if match["sign"] else ""
    amount = Decimal(f"{sign}{match['whole']}.{match['fraction'] or '0'}")
    return amount, len(match["whole"]) <= max(2, len(str(high)))


# Dates ----------------------------------------------------------------------------------------

ISO_DATE = re.compile(
    r"(?P<year>[0-9]{4})(?P<sep>[-/.])(?P<month>[0-9]{1,2})(?P=sep)(?P<day>[0-9]{1,2})"
)
NUMERIC_DATE = re.compile(
    r"(?P<day>[0-9]{1,2})(?P<sep>[./-])(?P<month>[0-9]{1,2})"
    r"(?:(?P=sep)(?P<year>[0-9]{4}|[0-9]{2})?)?"
)
DAY_FIRST = re.compile(
    rf"(?P<day>[0-9]{{1,2}})(?:st|nd|rd|th|º)?\.? ?(?:(?:of|de|del) )?(?P<month>{LETTERS})\.?"
    r"(?:,? (?:(?:de|del) )?(?P<year>[0-9]{4}|[0-9]{2})(?: ?г\.?| ?р\.?)?)?"
)
MONTH_FIRST = re.compile(
    rf"(?P<month>{LETTERS})\.? (?P<day>[0-9]{{1,2}})(?:st|nd|rd|th)?"
    r"(?: (?P<year>[0-9]{4}|[0-9]{2}))?"
)


def parse_date(text: str, today: dt.date) -> dt.date | None:
    """A calendar date in a common written form, in any language of content/input.toml; or None.

    Takes "today", "yesterday", "the day before yesterday", 2026-11-20, 20.11.2026, 20/11/2026,
    20.11.26, 20.11., 20 Nov, Nov 20, 20th of November 2026, November 20, 2026, "28. Oktober",
    "Tue 1 Dec 2026" (the weekday must be the date's), "monday", "on monday", "last tuesday",
    "2 days ago", "a week ago", "vor 3 Wochen". Slashes are day first unless only the other order
    makes a date (11/20/2026). Without a year, the date is the latest one that is not after
    `today`; so is a weekday ("tuesday" on a Tuesday is today), except after "last" ("last
    tuesday" on a Tuesday is a week ago). Whether the date is too far back or ahead is for the
    caller to judge.
    """
    value = _normal(text.replace(",", " "))
    word = value.rstrip(".!")
    words = vocabulary()
    if word in words.days_back:
        return today - dt.timedelta(days=words.days_back[word])
    day = _calendar(value, today, words)
    if day is None:
        day = _relative(word, today, words)
    if day is None:
        day = _weekday_and_date(value, today, words)
    return day


def _calendar(value: str, today: dt.date, words: Words) -> dt.date | None:
    """A date written with its day and month (and perhaps its year)."""
    if match := ISO_DATE.fullmatch(value):
        return _date(int(match["year"]), int(match["month"]), int(match["day"]))
    if match := NUMERIC_DATE.fullmatch(value):
        day, month = int(match["day"]), int(match["month"])
        if match["sep"] == "/" and month > 12 >= day:
            day, month = month, day
        return _resolve(day, month, match["year"], today)
    for form in (DAY_FIRST, MONTH_FIRST):
        if (match := form.fullmatch(value)) and (named := _named(match["month"], words.months)):
            return _resolve(int(match["day"]), named, match["year"], today)
    return None


def _relative(word: str, today: dt.date, words: Words) -> dt.date | None:
    """A weekday ("monday", "on monday", "last monday") or some days back ("2 days ago")."""
    weekday = _named(word, words.weekdays)
    if weekday is not None:
        return _latest(weekday, today, today_counts=True)
    for phrases, today_counts in ((words.on, True), (words.last, False)):
        for phrase in phrases:
            if (match := phrase.fullmatch(word)) and (
                (weekday := _named(match["weekday"], words.weekdays)) is not None
            ):
                return _latest(weekday, today, today_counts=today_counts)
    for phrase in words.ago:
        if match := phrase.fullmatch(word):
            count = match["count"]
            number = int(count) if count.isascii() and count.isdigit() else words.counts.get(count)
            unit = words.units.get(match["unit"])
            if number is not None and unit is not None:
                try:
                    return today - dt.timedelta(days=number * unit)
                except OverflowError:
                    return None
    return None


def _latest(weekday: int, today: dt.date, *, today_counts: bool) -> dt.date:
    """The latest such weekday not after today (or before today, if today doesn't count)."""
    back = (today.weekday() - weekday) % 7
    return today - dt.timedelta(days=back or (0 if today_counts else 7))


def _weekday_and_date(value: str, today: dt.date, words: Words) -> dt.date | None:
    """ "Tue 1 Dec 2026", "Montag 28.12.": the date, if the weekday is that date's."""
    first, _, rest = value.partition(" ")
    weekday = _named(first.rstrip("."), words.weekdays)
    if weekday is None or not rest:
        return None
    day = _calendar(rest, today, words)
    return day if day is not None and day.weekday() == weekday else None


def _resolve(day: int, month: int, year: str | None, today: dt.date) -> dt.date | None:
    """The date for a day and month, in the given year or the latest one not after today."""
    if year is not None:
        return _date(int(year) + (2000 if len(year) == 2 else 0), month, day)
    this_year = _date(today.year, month, day)
    if this_year is not None and this_year <= today:
        return this_year
    return _date(today.year - 1, month, day)


def _date(year: int, month: int, day: int) -> dt.date | None:
    """The date, or None if there is no such day (31.02., month 13)."""
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def parse_yes_no(text: str) -> bool | None:
    """A typed answer to a yes-or-no question ("yes", "nope", "ja", "да"), in any language the
    bot speaks; None if it is neither (a sentence is not taken as an answer)."""
    word = _normal(text).strip(" .!?")
    return vocabulary().answers.get(word)


def is_tomorrow(text: str) -> bool:
    """Whether a typed day is "tomorrow", in any language the bot speaks."""
    return _normal(text).strip(" .!") in vocabulary().tomorrow
