"""Telegram's limits on a text's length, counted as Telegram counts, and the one splitter.

Telegram counts a message's length in UTF-16 code units (an emoji beyond the first 65,536 code
points is two) of the text *after* its HTML is parsed: tags count nothing, and an entity such as
`&amp;` counts as the one character it stands for. A message holds at most 4096 of them, a
caption 1024. `split` cuts a longer HTML text into parts that each fit: between paragraphs where
a paragraph fits whole, else between lines, else between words, else inside a word; never inside
a tag, an entity or a character that joins the one before it (an emoji's skin tone, a ZWJ
sequence, an accent). A tag open at a cut is closed at the end of one part and opened again,
as it was, at the start of the next. Pure functions: nothing here knows Telegram's API.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from conversations.worksheet.content import Html

MESSAGE = 4096
CAPTION = 1024

_TOKEN = re.compile(
    r"(?P<tag></?(?P<name>[A-Za-z][A-Za-z0-9-]*)(?:\s[^>]*)?>)"
    r"|(?P<entity>&(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});)"
    r"|(?P<text>[^<&]+)"
    r"|(?P<sign>[<&])"
)
# Spaces a line may break at: white space, except the ones meant not to break.
_NO_BREAK = frozenset("\u00a0\u2007\u202f")
# Characters that belong to the one before them: a cut is never made just before one.
_JOINS = frozenset("\u200d\u200c\u034f")

# How a text is cut, from the most to the least preferred; HARD cuts inside a word.
PARAGRAPH, LINE, WORD, HARD = range(4)


def utf16(text: str) -> int:
    """A plain text's length in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def visible(text: str) -> str:
    """What Telegram shows of an HTML text: tags left out, entities as their characters."""
    return "".join(_visible(match) for match in _TOKEN.finditer(text))


def _visible(match: re.Match[str]) -> str:
    if match["tag"] is not None:
        return ""
    if match["entity"] is not None:
        return html.unescape(match["entity"])
    return match.group()


def length(text: str) -> int:
    """An HTML text's length as Telegram counts it against its limits."""
    return utf16(visible(text))


def fits(text: str, limit: int = MESSAGE) -> bool:
    """Whether an HTML text is within a limit (MESSAGE or CAPTION)."""
    return length(text) <= limit


@dataclass(frozen=True, slots=True)
class _Atom:
    """The smallest piece a cut may not go through: a tag, an entity, or one character."""

    source: str
    shown: str  # what it shows ("" for a tag)
    tag: str | None = None  # the tag's name
    closing: bool = False


def _atoms(text: str) -> list[_Atom]:
    atoms: list[_Atom] = []
    for match in _TOKEN.finditer(text):
        if match["tag"] is not None:
            source = match["tag"]
            atoms.append(_Atom(source, "", match["name"].lower(), source.startswith("</")))
        elif match["entity"] is not None:
            atoms.append(_Atom(match["entity"], html.unescape(match["entity"])))
        else:
            atoms.extend(_Atom(char, char) for char in match.group())
    return atoms


def _joins(char: str) -> bool:
    """Whether a character belongs to the one before it."""
    if not char:
        return False
    code = ord(char[0])
    return (
        char[0] in _JOINS
        or unicodedata.category(char[0]) in ("Mn", "Me", "Mc")
        or 0xFE00 <= code <= 0xFE0F  # variation selectors (emoji or text style)
        or 0x1F3FB <= code <= 0x1F3FF  # skin tones
        or 0xE0020 <= code <= 0xE007F  # tag characters (subdivision flags)
        or 0xE0100 <= code <= 0xE01EF
    )


class _Splitter:
    """One text cut into parts within a limit (see `split`)."""

    def __init__(self, text: str, limit: int) -> None:
        self.limit = limit
        self.atoms = _atoms(text)
        self.before = [0]  # units before each atom
        for atom in self.atoms:
            shown = atom.shown
            units = 1 + (ord(shown) > 0xFFFF) if len(shown) == 1 else utf16(shown)
            self.before.append(self.before[-1] + units)

    def units(self, start: int, end: int) -> int:
        return self.before[end] - self.before[start]

    def _breaks(self, start: int, end: int, level: int) -> list[tuple[int, int]]:
        """The runs of atoms a text may break at, on one level, within start..end."""
        runs: list[tuple[int, int]] = []
        index = start
        while index < end:
            shown = self.atoms[index].shown
            if level in (PARAGRAPH, LINE) and shown == "\n":
                stop = index
                while stop < end and self.atoms[stop].shown == "\n":
                    stop += 1
                if (stop - index >= 2) == (level == PARAGRAPH):
                    runs.append((index, stop))
                index = stop
                continue
            if level == WORD and shown.isspace() and shown not in _NO_BREAK:
                stop = index
                while stop < end and self.atoms[stop].shown.isspace():
                    stop += 1
                runs.append((index, stop))
                index = stop
                continue
            index += 1
        return runs

    def pieces(
        self, start: int, end: int, level: int = PARAGRAPH
    ) -> Iterator[tuple[int, int, bool]]:
        """Ranges of atoms in order, each one that fits a part, or (True) a word that doesn't."""
        if self.units(start, end) <= self.limit:
            yield start, end, False
            return
        if level == HARD:
            yield start, end, True
            return
        at = start
        for first, stop in self._breaks(start, end, level):
            if first > at:
                yield from self.pieces(at, first, level + 1)
            at = stop
        if at < end:
            yield from self.pieces(at, end, level + 1)

    def safe(self, index: int) -> bool:
        """Whether a cut may go before atom `index`."""
        if index >= len(self.atoms):
            return True
        after, before = self.atoms[index], self.atoms[index - 1]
        if _joins(after.shown) or before.shown in _JOINS:
            return False
        return not (before.tag is not None and not before.closing)  # not after an opening tag

    def fill(self, base: int, start: int, end: int) -> int:
        """The furthest cut in start..end that keeps base..cut within the limit (`start` when
        nothing more fits)."""
        low, high = start, end
        while low < high:  # the last atom that still fits
            middle = (low + high + 1) // 2
            if self.units(base, middle) <= self.limit:
                low = middle
            else:
                high = middle - 1
        cut = low
        while cut > start and not self.safe(cut):
            cut -= 1
        return cut if cut > start else low

    def parts(self) -> list[tuple[int, int]]:
        """The parts, as ranges of atoms; what lies between two parts is a dropped break."""
        parts: list[tuple[int, int]] = []
        current: tuple[int, int] | None = None
        for start, end, hard in self.pieces(0, len(self.atoms)):
            if not hard:
                if current is None:
                    current = (start, end)
                elif self.units(current[0], end) <= self.limit:
                    current = (current[0], end)
                else:
                    parts.append(current)
                    current = (start, end)
                continue
            at = start
            while at < end:  # a word longer than a part: as much as fits, part after part
                base = at if current is None else current[0]
                cut = self.fill(base, at, end)
                if cut == at:
                    if current is None:  # one atom over the limit: it goes alone
                        cut = at + 1
                    else:
                        parts.append(current)
                        current = None
                        continue
                current, at = (base, cut), cut
                if at < end:
                    parts.append(current)
                    current = None
        if current is not None:
            parts.append(current)
        return parts

    def texts(self) -> list[Html]:
        """The parts as HTML, each with the tags open at its ends closed and opened again."""
        out: list[Html] = []
        stack: list[_Atom] = []
        done = 0
        for start, end in self.parts():
            self._walk(stack, done, start)
            opened = "".join(atom.source for atom in stack)
            self._walk(stack, start, end)
            done = end
            body = self.atoms[start:end]
            if not "".join(atom.shown for atom in body).strip():
                continue
            closed = "".join(f"</{atom.tag}>" for atom in reversed(stack))
            out.append(Html(opened + "".join(atom.source for atom in body) + closed))
        return out

    def _walk(self, stack: list[_Atom], start: int, end: int) -> None:
        """Opens and closes the tags of atoms start..end on the stack of open tags."""
        for atom in self.atoms[start:end]:
            if atom.tag is None:
                continue
            if not atom.closing:
                stack.append(atom)
                continue
            names = [open_.tag for open_ in stack]
            if atom.tag in names:
                del stack[len(names) - 1 - names[::-1].index(atom.tag) :]


def split(text: str, limit: int = MESSAGE) -> list[Html]:
    """An HTML text in parts of at most `limit` (see the module's notes); [] when it shows
    nothing, the text itself when it fits."""
    shown = visible(text)
    if not shown.strip():
        return []
    if utf16(shown) <= limit:
        return [Html(text)]
    return _Splitter(text, limit).texts()
