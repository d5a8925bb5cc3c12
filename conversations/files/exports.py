"""The files /export sends, built from the gathered data: JSON, the chart as CSV, and the PDF.

Pure functions of the data (storage/export.py), the worksheet in use and the content; nothing
here touches the disk except to read fonts. The PDF walks the worksheet's sections in order and
draws each by its kind (a list to tick, tips, questions, the session chart), taking every
question's and scale's words from the item's own content key, so another worksheet file of the
same format exports as it is.

The PDF embeds DejaVu Sans (shipped with matplotlib), so Latin, Cyrillic, Greek, Arabic and
Hebrew answers print as they were typed; a script DejaVu lacks (Chinese, most emoji) uses a
fallback font when the machine has one, and otherwise shows as a box with a note, never an error.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import json
import logging
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from fpdf import FPDF, FontFace
from fpdf.enums import Align, MethodReturnValue, XPos, YPos
from fpdf.fonts import TTFFont

from conversations.worksheet import words
from conversations.worksheet.content import lookup, t
from conversations.worksheet.current import worksheet
from conversations.worksheet.dates import show_date
from conversations.worksheet.model import (
    NO,
    YES,
    Item,
    ItemKind,
    Prompt,
    Section,
    SectionKind,
    Worksheet,
)

# fpdf2 names missing glyphs (characters a person typed) in a warning; `printable` below keeps
# them from reaching it, and this keeps any other such line out of the bot's log. fontTools logs
# every table of every font it subsets at DEBUG, which would bury the bot's own lines.
logging.getLogger("fpdf").setLevel(logging.ERROR)
logging.getLogger("fontTools").setLevel(logging.WARNING)

Data = dict[str, Any]
Answers = dict[str, str | None]
Point = tuple[dt.date, int | None, int | None]

# JSON ----------------------------------------------------------------------------------------


def build_json(data: Data) -> bytes:
    """The gathered data as readable UTF-8 JSON."""
    return (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode()


# Words from the content ----------------------------------------------------------------------


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def plain(text: str) -> str:
    """Content words as plain text: "&amp;" as "&", any markup left out."""
    parser = _Text()
    parser.feed(text)
    parser.close()
    return "".join(parser.parts)


def own(key: str) -> str | None:
    """The export's own words at a key, as plain text, if there are any."""
    value = lookup(key)
    return plain(value) if isinstance(value, str) else None


def paragraphs(key: str) -> list[str]:
    """A text or a list of texts from the content as plain paragraphs ([] if there is none)."""
    value = lookup(key)
    texts = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    return [p.strip() for text in texts for p in plain(str(text)).split("\n\n") if p.strip()]


def date_text(value: str | None) -> str:
    """A stored YYYY-MM-DD date as the bot shows dates."""
    return plain(show_date(None if value is None else dt.date.fromisoformat(value)))


# The session chart ---------------------------------------------------------------------------

# Where each item of the chart section is stored in a session row (storage/export.py).
STORED_AS = {
    "date": "session_date",
    "topic": "topic",
    "trust": "trust",
    "safety": "safety",
    "role": "therapist_role",
}


def chart_items(sheet: Worksheet | None = None) -> list[Item]:
    """The chart section's items, in order: the columns of the CSV and of the PDF's table."""
    chart = (sheet or worksheet()).chart
    return [] if chart is None else list(chart.items)


def column(item: Item) -> str:
    """A chart column's heading: the export's short one, else the item's title."""
    return own(f"export.columns.{item.id}") or plain(words.title(item))


def columns(sheet: Worksheet | None = None) -> list[str]:
    """The headings of the chart's columns."""
    return [column(item) for item in chart_items(sheet)]


def stored(row: Data, item: Item) -> Any:
    """A chart row's value for one item."""
    return row.get(STORED_AS.get(item.id, item.id))


def _number(value: int | None) -> str:
    return "" if value is None else str(value)


def cell(row: Data, item: Item) -> str:
    """A chart row's value for one item as the CSV writes it (a date as YYYY-MM-DD)."""
    value = stored(row, item)
    if item.kind is ItemKind.RATING:
        return _number(value)
    return "" if value is None else str(value)


def chart_rows(sessions: Iterable[Data]) -> list[Data]:
    """The session chart as the bot shows it: completed rows, oldest first (undated last)."""
    rows = [s for s in sessions if s["complete"]]
    return sorted(rows, key=lambda s: (s["session_date"] is None, s["session_date"] or ""))


def chart_points(sessions: Iterable[Data]) -> list[Point]:
    """Completed, dated sessions with a score, oldest first, for the trend chart."""
    return [
        (dt.date.fromisoformat(row["session_date"]), row["trust"], row["safety"])
        for row in chart_rows(sessions)
        if row["session_date"] is not None
        and (row["trust"] is not None or row["safety"] is not None)
    ]


# CSV -----------------------------------------------------------------------------------------

# A spreadsheet runs a cell that starts with one of these as a formula (OWASP "CSV injection"),
# also after white space it trims, and in their full-width forms ("＝", which a spreadsheet may
# read as "="): a character is compared in its NFKC form.
FORMULA_SIGNS = frozenset("=+-@")
# Invisible characters some spreadsheets skip at the start of a cell, like white space.
INVISIBLE = frozenset("\u200b\u200c\u200d\u2060\ufeff")


def neutralise(value: str) -> str:
    """A cell a spreadsheet shows as text: a leading apostrophe when the first character that
    is not white space (of any kind) is a formula's first sign, or when it starts with a tab or
    a carriage return."""
    if value.startswith(("\t", "\r")):
        return "'" + value
    first = next((char for char in value if not (char.isspace() or char in INVISIBLE)), "")
    return "'" + value if unicodedata.normalize("NFKC", first) in FORMULA_SIGNS else value


def build_csv(sessions: Iterable[Data], sheet: Worksheet | None = None) -> bytes:
    """The session chart as CSV (UTF-8 with a BOM, so spreadsheet apps read it as UTF-8): one
    column per item of the worksheet's chart (the one in use unless given)."""
    items = chart_items(sheet)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([column(item) for item in items])
    for row in chart_rows(sessions):
        writer.writerow([neutralise(cell(row, item)) for item in items])
    return buffer.getvalue().encode("utf-8-sig")


# Fonts ---------------------------------------------------------------------------------------

FAMILY = "dejavu"
# Fonts that cover what DejaVu lacks, used when the machine has them (none ship with the bot).
FALLBACK_FONTS = (
    "DroidSansFallbackFull.ttf",
    "DroidSansFallback.ttf",
    "wqy-microhei.ttc",
    "wqy-zenhei.ttc",
    "NotoSansSymbols2-Regular.ttf",
    "NotoEmoji-Regular.ttf",
)
FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"))
REPLACEMENT = "□"
TICKED, UNTICKED = "☑", "☐"


def dejavu_dir() -> Path:
    """matplotlib's own copy of DejaVu Sans (found without importing pyplot)."""
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


@functools.cache
def fallback_fonts(dirs: tuple[Path, ...] = FONT_DIRS) -> tuple[Path, ...]:
    """The fallback fonts present on this machine, in the order of FALLBACK_FONTS."""
    found: dict[str, Path] = {}
    for folder in dirs:
        if folder.is_dir():
            for path in folder.rglob("*"):
                if path.name in FALLBACK_FONTS:
                    found.setdefault(path.name, path)
    return tuple(found[name] for name in FALLBACK_FONTS if name in found)


def _drops(char: str) -> bool:
    # Joiners, variation selectors, skin tones and marks only change a neighbour; a box for each
    # would say something is missing twice.
    return unicodedata.category(char) in ("Mn", "Me", "Cf") or 0x1F3FB <= ord(char) <= 0x1F3FF


# The PDF's drawing ---------------------------------------------------------------------------

BODY_PT = 10.5
SMALL_PT = 9.5
HEADING_PT = 14
SUBHEADING_PT = 12
LINE = 5.2  # mm per line of body text
INDENT = 5.0  # mm: answers sit under their prompt
HEADING_GAP = 5.0  # mm above a heading (not at the top of a page)
RULE_GAP = 8.0  # mm between the blank lines of an unanswered prompt
BLANK_LINES = 3
BLANK_ROWS = 6  # empty chart rows to write on when none are logged
KEEP_LINES = 2  # lines of a paragraph that stay on the page of what comes before them
LAST_PAGE_MIN = 40.0  # mm: a last page with less is laid out again (see `build_pdf`)
TABLE_LINE = 4.6
TABLE_PADDING = 1.5
TABLE_PT = 9
# A chart cell is at most this many lines high (a fifth of a page): fpdf2 cannot split a table
# row across pages, so a longer text shows its start there and follows in full under the table.
CELL_LINES = 12
INK = (22, 45, 110)  # answers, in the blue of a pen
ACCENT = (0, 95, 95)
GREY = (110, 110, 110)
DARK = (60, 60, 60)
BLACK = (0, 0, 0)
HEADER_FILL = (225, 238, 238)
# Relative column widths of the chart table, by the kind of item in the column.
COLUMN_WIDTH = {ItemKind.DATE: 22.0, ItemKind.RATING: 10.0, ItemKind.TEXT: 34.5}

Color = tuple[int, int, int]


class WorksheetPdf(FPDF):
    """The worksheet on A4 in DejaVu Sans, with "Page n of N" at the foot of each page."""

    def __init__(self, fallbacks: Sequence[Path], heights: dict[Any, float] | None = None) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        # Paragraph heights measured so far (by text and style), shared by the layouts of a PDF.
        self.heights: dict[Any, float] = {} if heights is None else heights
        self.set_margins(18, 16, 18)
        self.set_auto_page_break(True, margin=18)
        fonts = dejavu_dir()
        self.add_font(FAMILY, "", fonts / "DejaVuSans.ttf")
        self.add_font(FAMILY, "B", fonts / "DejaVuSans-Bold.ttf")
        self.add_font(FAMILY, "I", fonts / "DejaVuSans-Oblique.ttf")
        self.covered = self._cmap(FAMILY)
        names = []
        for number, path in enumerate(fallbacks):
            name = f"fallback{number}"
            try:
                self.add_font(name, "", path)
            except Exception:  # an unreadable font file is no reason to fail the export
                continue
            names.append(name)
            self.covered |= self._cmap(name)
        if names:
            # Not exact: bold and italic text may borrow a regular fallback glyph.
            self.set_fallback_fonts(names, exact_match=False)

    def _cmap(self, key: str) -> set[int]:
        font = self.fonts[key]
        return set(font.cmap) if isinstance(font, TTFFont) else set()

    def printable(self, text: str, *, typed: bool = True) -> str:
        """Text with what no embedded font can draw shown as a box (fpdf2 would drop it).

        The bot's own words (`typed=False`) leave such a character out instead: an emoji that
        decorates a message in the chat is nothing the person needs to know is missing.
        """
        text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
        out = []
        for char in text:
            if char == "\n" or ord(char) in self.covered:
                out.append(char)
            elif typed and not _drops(char) and unicodedata.category(char) != "Cc":
                out.append(REPLACEMENT)
        shown = "".join(out)
        return shown if typed else "\n".join(line.strip() for line in shown.split("\n"))

    def lacks_glyphs(self, texts: Iterable[str | None]) -> bool:
        """Whether any of these texts has a character that will show as a box."""
        return any(REPLACEMENT in self.printable(text) for text in texts if text)

    def footer(self) -> None:
        """The page number."""
        self.set_y(-12)
        self.style(size=8, color=GREY)
        self.cell(0, 6, plain(t("export.pdf.footer", page=self.page_no(), pages="{nb}")), align="C")

    def at_top(self) -> bool:
        """Whether nothing is drawn on this page yet."""
        return self.get_y() <= self.t_margin + 0.5

    # Drawing helpers -------------------------------------------------------------------------

    def style(
        self,
        *,
        size: float = BODY_PT,
        bold: bool = False,
        italic: bool = False,
        color: Color = BLACK,
    ) -> None:
        """Set the font size, weight and colour for what follows."""
        self.set_font(FAMILY, "B" if bold else "I" if italic else "", size)
        self.set_text_color(*color)

    def text_height(
        self,
        text: str,
        *,
        size: float = BODY_PT,
        bold: bool = False,
        italic: bool = False,
        indent: float = 0,
        typed: bool = False,
    ) -> float:
        """How tall a paragraph will be, wrapped across the page."""
        key = (text, size, bold, italic, indent, typed)
        if key not in self.heights:
            self.style(size=size, bold=bold, italic=italic)
            line = LINE * size / BODY_PT
            self.heights[key] = self.measure(
                self.epw - indent, line, self.printable(text, typed=typed)
            )
        return self.heights[key]

    def measure(self, width: float, line: float, text: str) -> float:
        """The height of a text wrapped in a width, in the current font, without drawing it."""
        height = self.multi_cell(
            width, line, text, align=Align.L, dry_run=True, output=MethodReturnValue.HEIGHT
        )
        assert isinstance(height, float | int)
        return float(height)

    def para(
        self,
        text: str,
        *,
        size: float = BODY_PT,
        bold: bool = False,
        italic: bool = False,
        color: Color = BLACK,
        indent: float = 0,
        typed: bool = False,
    ) -> None:
        """A paragraph across the page, wrapped."""
        self.style(size=size, bold=bold, italic=italic, color=color)
        self.set_x(self.l_margin + indent)
        self.multi_cell(
            self.epw - indent,
            LINE * size / BODY_PT,
            self.printable(text, typed=typed),
            align=Align.L,
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )

    def rules(self, count: int, start: float) -> None:
        """Ruled lines to write on, as on the paper worksheet, from `start` to the right margin."""
        self.set_draw_color(*GREY)
        self.set_line_width(0.2)
        y = self.get_y()
        for _ in range(count):
            y += RULE_GAP
            self.line(start, y, self.l_margin + self.epw, y)
        self.set_y(y + 3)


# The PDF's blocks ----------------------------------------------------------------------------
#
# The PDF is a list of blocks, laid out one after the other. Each says how much of it must fit
# at the bottom of a page (`need`: a paragraph's first lines, a statement whole); a block with
# `glue` (a heading, a question) also needs the start of the block after it on the same page,
# so no heading or question number is left alone at the foot of a page.


class Block:
    """One piece of the PDF."""

    glue = False

    def need(self, pdf: WorksheetPdf) -> float:
        raise NotImplementedError

    def draw(self, pdf: WorksheetPdf) -> None:
        raise NotImplementedError


@dataclass(frozen=True)
class Heading(Block):
    """A section's heading (or the heading an item carries)."""

    text: str
    size: float = HEADING_PT
    glue = True

    def need(self, pdf: WorksheetPdf) -> float:
        return HEADING_GAP + pdf.text_height(self.text, size=self.size, bold=True) + 1.5

    def draw(self, pdf: WorksheetPdf) -> None:
        if not pdf.at_top():
            pdf.ln(HEADING_GAP)
        pdf.para(self.text, size=self.size, bold=True, color=ACCENT)
        pdf.ln(1.5)


@dataclass(frozen=True)
class Text(Block):
    """A paragraph: the worksheet's words, or (`typed`) what the person wrote."""

    text: str
    size: float = BODY_PT
    bold: bool = False
    italic: bool = False
    color: Color = BLACK
    indent: float = 0
    before: float = 0
    after: float = 0
    typed: bool = False
    keep: bool = False  # kept whole, not only its first lines
    glue: bool = False

    def height(self, pdf: WorksheetPdf) -> float:
        return pdf.text_height(
            self.text,
            size=self.size,
            bold=self.bold,
            italic=self.italic,
            indent=self.indent,
            typed=self.typed,
        )

    def need(self, pdf: WorksheetPdf) -> float:
        height = self.height(pdf)
        first = KEEP_LINES * LINE * self.size / BODY_PT
        return self.before + (height if self.keep else min(height, first)) + self.after

    def draw(self, pdf: WorksheetPdf) -> None:
        pdf.ln(self.before)
        pdf.para(
            self.text,
            size=self.size,
            bold=self.bold,
            italic=self.italic,
            color=self.color,
            indent=self.indent,
            typed=self.typed,
        )
        pdf.ln(self.after)


@dataclass(frozen=True)
class Question(Block):
    """A question with its label ("6.", "2b."), kept whole and with the start of its answer."""

    label: str
    text: str
    glue = True

    @property
    def line(self) -> str:
        return f"{self.label}. {self.text}" if self.label else self.text

    def need(self, pdf: WorksheetPdf) -> float:
        return 1.5 + pdf.text_height(self.line, bold=True)

    def draw(self, pdf: WorksheetPdf) -> None:
        pdf.ln(1.5)
        pdf.para(self.line, bold=True)


@dataclass(frozen=True)
class Answer(Block):
    """A person's answer under its question, or blank lines to write one on."""

    text: str | None
    lines: int = BLANK_LINES

    def blank(self) -> bool:
        return self.text is None or not self.text.strip()

    def need(self, pdf: WorksheetPdf) -> float:
        if self.blank():
            return self.lines * RULE_GAP + 3
        height = pdf.text_height(str(self.text).strip(), indent=INDENT, typed=True)
        return 0.8 + min(height, KEEP_LINES * LINE)

    def draw(self, pdf: WorksheetPdf) -> None:
        if self.text is None or not self.text.strip():
            pdf.rules(self.lines, pdf.l_margin + INDENT)
            return
        pdf.ln(0.8)
        pdf.para(self.text.strip(), color=INK, indent=INDENT, typed=True)
        pdf.ln(2.5)


@dataclass(frozen=True)
class Part(Block):
    """One of several numbered answers to a question, or a line to write it on."""

    number: str
    text: str | None

    def need(self, pdf: WorksheetPdf) -> float:
        return 1.5 + max(LINE, RULE_GAP - 1.5) + 3

    def draw(self, pdf: WorksheetPdf) -> None:
        pdf.ln(1.5)
        pdf.style(bold=True)
        pdf.set_x(pdf.l_margin + INDENT)
        pdf.cell(INDENT + 1, LINE, f"{self.number}.")
        if self.text is None or not self.text.strip():
            y = pdf.get_y() + LINE
            pdf.set_draw_color(*GREY)
            pdf.set_line_width(0.2)
            pdf.line(pdf.get_x(), y, pdf.l_margin + pdf.epw, y)
            pdf.set_y(y + 3)
            return
        pdf.style(color=INK)
        pdf.multi_cell(
            0,
            LINE,
            pdf.printable(self.text.strip()),
            align=Align.L,
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        pdf.ln(1.5)


@dataclass(frozen=True)
class Choices(Block):
    """Boxes side by side, the chosen one ticked."""

    options: tuple[tuple[bool, str], ...]
    glue: bool = False  # kept with a question that follows from it ("If so, describe.")

    def need(self, pdf: WorksheetPdf) -> float:
        return 1 + LINE + 2

    def draw(self, pdf: WorksheetPdf) -> None:
        pdf.ln(1)
        pdf.set_x(pdf.l_margin + INDENT)
        for checked, label in self.options:
            pdf.style(size=12, color=INK if checked else GREY)
            pdf.cell(INDENT + 1, LINE, TICKED if checked else UNTICKED)
            pdf.style(bold=checked)
            pdf.cell(pdf.get_string_width(label) + 10, LINE, pdf.printable(label, typed=False))
        pdf.ln(LINE + 2)


@dataclass(frozen=True)
class Statement(Block):
    """A statement or a tip with a box, ticked or not: its title, its text, its example."""

    checked: bool
    title: str
    text: str = ""
    example: str = ""

    def need(self, pdf: WorksheetPdf) -> float:
        width = INDENT + 1
        total = pdf.text_height(self.title, bold=True, indent=width) + 1.5
        if self.text:
            total += pdf.text_height(self.text, size=SMALL_PT, indent=width)
        if self.example:
            total += 1 + pdf.text_height(self.example, size=SMALL_PT, italic=True, indent=width)
        return total

    def draw(self, pdf: WorksheetPdf) -> None:
        width = INDENT + 1
        pdf.style(size=12, color=INK if self.checked else GREY)
        pdf.cell(width, LINE, TICKED if self.checked else UNTICKED)
        pdf.style(bold=True)
        pdf.multi_cell(
            0,
            LINE,
            pdf.printable(self.title, typed=False),
            align=Align.L,
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        if self.text:
            pdf.para(self.text, size=SMALL_PT, indent=width)
        if self.example:
            pdf.ln(1)
            pdf.para(self.example, size=SMALL_PT, italic=True, color=DARK, indent=width)
        pdf.ln(1.5)


def _joins(char: str) -> bool:
    """Whether a character belongs to the one before it (a cut never goes between them)."""
    return unicodedata.category(char) in ("Mn", "Me", "Mc") or _drops(char)


def cell_start(pdf: WorksheetPdf, width: float, text: str) -> str | None:
    """The start of a chart cell's text that fits in CELL_LINES lines together with the
    "continued below" marker, cut after a word where one ends near the cut; None when the
    whole text fits. The table's font must be set."""
    most = CELL_LINES * TABLE_LINE + 0.01
    if pdf.measure(width, TABLE_LINE, text) <= most:
        return None
    marker = own("export.pdf.continued") or "…"

    def start(count: int) -> str:
        return f"{text[:count].rstrip()} {marker}".lstrip()

    low, high = 0, len(text)
    while low < high:  # the longest start that fits with the marker
        middle = (low + high + 1) // 2
        if pdf.measure(width, TABLE_LINE, start(middle)) <= most:
            low = middle
        else:
            high = middle - 1
    space = max(text.rfind(" ", 0, low + 1), text.rfind("\n", 0, low + 1))
    cut = space if space > low * 2 // 3 else low
    while 0 < cut < len(text) and _joins(text[cut]):
        cut -= 1
    return start(cut)


@dataclass(frozen=True)
class Table(Block):
    """The session chart: one row per completed session, or empty rows to write on. `texts`
    holds each row's cells as drawn (a long cell's start only: see `chart_table`)."""

    items: tuple[Item, ...]
    texts: tuple[tuple[str, ...], ...]

    def widths(self, pdf: WorksheetPdf) -> list[float]:
        return table_widths(pdf, self.items)

    def row_height(self, pdf: WorksheetPdf, texts: Sequence[str], bold: bool = False) -> float:
        pdf.style(size=TABLE_PT, bold=bold)
        tallest = max(
            pdf.measure(width - 2 * TABLE_PADDING, TABLE_LINE, text or " ")
            for width, text in zip(self.widths(pdf), texts, strict=True)
        )
        return tallest + 2 * TABLE_PADDING

    def need(self, pdf: WorksheetPdf) -> float:
        heading = self.row_height(pdf, [column(item) for item in self.items], bold=True)
        first = [self.row_height(pdf, texts) for texts in self.texts[:2]]
        return heading + (sum(first) if first else 2 * (TABLE_LINE + 2 * TABLE_PADDING))

    def draw(self, pdf: WorksheetPdf) -> None:
        pdf.style(size=TABLE_PT)
        centred = [item.kind is ItemKind.RATING for item in self.items]
        with pdf.table(
            col_widths=tuple(self.widths(pdf)),
            line_height=TABLE_LINE,
            headings_style=FontFace(emphasis="BOLD", fill_color=HEADER_FILL),
            text_align="LEFT",
            padding=TABLE_PADDING,
            width=pdf.epw,
        ) as table:
            heading = table.row()
            for item, middle in zip(self.items, centred, strict=True):
                heading.cell(column(item), align="CENTER" if middle else "LEFT")
            for texts in self.texts:
                line = table.row()
                for text, middle in zip(texts, centred, strict=True):
                    line.cell(text, align="CENTER" if middle else "LEFT")
            if not self.texts:
                for _ in range(BLANK_ROWS):
                    line = table.row()
                    for _item in self.items:
                        line.cell(" ")
        pdf.set_text_color(*BLACK)


def table_widths(pdf: WorksheetPdf, items: Sequence[Item]) -> list[float]:
    """The chart table's column widths, across the page, by the kind of item in each."""
    relative = [COLUMN_WIDTH.get(item.kind, COLUMN_WIDTH[ItemKind.TEXT]) for item in items]
    return [pdf.epw * w / sum(relative) for w in relative]


def chart_table(pdf: WorksheetPdf, items: Sequence[Item], rows: Sequence[Data]) -> list[Block]:
    """The chart's table and, under it, each cell too long for the table in full (the table
    shows its start, marked as continued below), headed by its session's date and column."""
    widths = table_widths(pdf, items)
    pdf.style(size=TABLE_PT)
    texts: list[tuple[str, ...]] = []
    below: list[Block] = []
    for row in rows:
        cells = []
        for item, width in zip(items, widths, strict=True):
            value = stored(row, item)
            if item.kind is ItemKind.DATE:
                cells.append(date_text(value))
                continue
            if item.kind is ItemKind.RATING:
                cells.append(_number(value))
                continue
            text = pdf.printable(value or "")
            start = cell_start(pdf, width - 2 * TABLE_PADDING, text)
            cells.append(text if start is None else start)
            if start is not None:
                day = date_text(row["session_date"])
                label = plain(t("export.pdf.continued_label", date=day, column=column(item)))
                below.append(Text(label, size=SMALL_PT, bold=True, before=2, glue=True))
                below.append(Text(str(value), color=INK, indent=INDENT, after=1.5, typed=True))
        texts.append(tuple(cells))
    blocks: list[Block] = [Table(tuple(items), tuple(texts))]
    if below:
        title = plain(t("export.pdf.continued_title"))
        blocks += [Text(title, size=SMALL_PT, bold=True, color=ACCENT, before=5, glue=True)]
        blocks += below
    return blocks


@dataclass(frozen=True)
class Image(Block):
    """The trend chart, across the page."""

    png: bytes

    def height(self, pdf: WorksheetPdf) -> float:
        return pdf.epw * 2 / 3  # the chart is 1200 x 800 px

    def need(self, pdf: WorksheetPdf) -> float:
        return self.height(pdf)

    def draw(self, pdf: WorksheetPdf) -> None:
        pdf.image(io.BytesIO(self.png), w=pdf.epw, h=self.height(pdf))


# The worksheet as blocks ---------------------------------------------------------------------


def section_words(section: Section, name: str) -> str | None:
    """The export's own words for a section ("export.sections.checklist.intro")."""
    return own(f"export.sections.{section.id}.{name}")


def section_heading(section: Section) -> str | None:
    """A section's heading: the export's words for it; else, unless its first item brings its
    own heading, its menu button's words without the emoji."""
    heading = section_words(section, "heading")
    if heading:
        return heading
    if section.kind is SectionKind.PROMPTS and words.field(section.items[0], "title"):
        return None
    menu = own(f"menu.{section.id}") or section.id
    start = next((i for i, char in enumerate(menu) if char.isalnum()), 0)
    return menu[start:]


def _intro(section: Section, size: float = BODY_PT) -> list[Block]:
    intro = section_words(section, "intro")
    return [Text(intro, size=size, after=2, glue=True)] if intro else []


def _head(section: Section) -> list[Block]:
    heading = section_heading(section)
    return [Heading(heading)] if heading else []


def _toggles(section: Section, answers: Answers, seen: set[str]) -> list[Block]:
    """The statements, those that apply ticked; then the worksheet's follow-up advice."""
    chosen = section.selected(answers.get(section.selection_key))
    blocks = [*_head(section), *_intro(section)]
    for item in section.items:
        blocks.append(
            Statement(
                item in chosen,
                plain(str(words.of(item)["title"])),
                plain(words.field(item, "text") or ""),
            )
        )
    # The follow-up speaks to someone for whom a statement applies: printed when one is ticked,
    # and on a list never gone through (to fill in by hand, as on the paper worksheet); left out
    # once the person said none applies, as the chat leaves it out.
    gone_through = section.selection_key in seen or section.done_key in seen
    followup = paragraphs(f"{section.id}.followup")
    if followup and (chosen or not gone_through):
        blocks.append(Text(followup[0], before=3, after=1.5))
        blocks += [Text(p, after=1.5) for p in followup[1:]]
    return blocks


def _tips(section: Section, answers: Answers) -> list[Block]:
    """Tips, each with its text and example, those marked to try ticked; then the closing.

    A section of reading pages only ("What to know") is the bot's to read, not the worksheet's
    to fill in: it is left out, as on the paper worksheet's answer pages."""
    tips = [item for item in section.items if item.kind is ItemKind.TIP]
    if not tips:
        return []
    marked = section.selected(answers.get(section.selection_key))
    blocks: list[Block] = [*_head(section), *_intro(section)]
    note = plain(t("export.pdf.tips_note"))
    blocks.append(Text(note, size=SMALL_PT, color=GREY, after=2, glue=True))
    for item in tips:
        blocks.append(
            Statement(
                item in marked,
                plain(str(words.of(item)["title"])),
                plain(words.field(item, "text") or ""),
                plain(words.field(item, "example") or ""),
            )
        )
    closing = paragraphs(f"{section.id}.closing")
    if closing:
        blocks.append(Text(closing[0], size=SMALL_PT, before=2, after=1.5))
        blocks += [Text(p, size=SMALL_PT, after=1.5) for p in closing[1:]]
    return blocks


def _prompts(section: Section, answers: Answers) -> list[Block]:
    """The questions with their labels and the answers under them, or room to write them."""
    head = _head(section)
    blocks = [*head, *_intro(section, size=SMALL_PT)]
    shown = section.on_paper(answers)
    before: Prompt | None = None
    for item in section.items:
        parts = [p for p in shown if p.item is item]
        if not parts:
            continue
        title = words.field(item, "title")
        if title:  # under a section heading, a smaller one
            blocks.append(Heading(plain(title), size=SUBHEADING_PT if head else HEADING_PT))
        first = parts[0]
        condition = item.shown_if
        follows = condition is not None and before is not None and before.key == condition.key
        # A question asked after another answer reads on its own in a list (`question`); here
        # that answer's question is just above it, so it reads as the worksheet has it.
        text = str(words.of(item)["text"]) if follows else words.question(first, section)
        blocks.append(Question(item.label, plain(text)))
        value = answers.get(first.key)
        if item.kind is ItemKind.NUMBERED:
            blocks += [Part(str(p.part), answers.get(p.key)) for p in parts]
        elif item.kind is ItemKind.YES_NO:
            options = ((value == YES, plain(t("common.yes"))), (value == NO, plain(t("common.no"))))
            then = any(
                p.item.shown_if is not None and p.item.shown_if.key == first.key for p in shown
            )
            blocks.append(Choices(options, glue=then))
        elif item.kind is ItemKind.RATING:
            scale = words.field(item, "scale")
            if scale:
                blocks.append(Text(plain(scale), size=SMALL_PT, color=GREY, glue=True))
            rating = plain(t("export.pdf.rating", value=value)) if value else None
            blocks.append(Answer(rating, 1))
        else:
            blocks.append(Answer(value))
        before = parts[-1]
    return blocks


def _chart(
    pdf: WorksheetPdf, section: Section, chart: list[Data], chart_png: bytes | None
) -> list[Block]:
    """The session chart as a table (long cells in full under it), and the trend of trust and
    safety when given."""
    blocks = [*_head(section)]
    intro = section_words(section, "intro")
    if intro:
        blocks.append(Text(intro, size=SMALL_PT, after=3, glue=True))
    if not chart:
        note = plain(t("export.pdf.no_sessions"))
        blocks.append(Text(note, size=SMALL_PT, color=GREY, after=2, glue=True))
    blocks += chart_table(pdf, section.items, chart)
    if chart_png is not None:
        blocks += [Heading(plain(t("export.pdf.trend"))), Image(chart_png)]
    return blocks


def _title(chart: list[Data], today: dt.date, missing: bool) -> list[Block]:
    blocks: list[Block] = [
        Text(plain(t("worksheet.title")), size=20, bold=True, color=ACCENT, after=2),
        Text(plain(t("export.pdf.objective")), size=SMALL_PT, bold=True, color=ACCENT),
        Text(plain(t("worksheet.objective")), after=2.5, keep=True),
    ]
    dates = [row["session_date"] for row in chart if row["session_date"] is not None]
    if dates and dates[0] == dates[-1]:
        blocks.append(Text(plain(t("export.pdf.period_one", date=date_text(dates[0]))), size=11))
    elif dates:
        first, last = date_text(dates[0]), date_text(dates[-1])
        blocks.append(Text(plain(t("export.pdf.period", first=first, last=last)), size=11))
    shown = plain(show_date(today))
    blocks.append(Text(plain(t("export.pdf.exported", date=shown)), size=SMALL_PT, color=GREY))
    if missing:
        blocks.append(Text(plain(t("export.pdf.missing")), size=9, color=GREY, before=2))
    return blocks


def worksheet_blocks(
    pdf: WorksheetPdf,
    sheet: Worksheet,
    data: Data,
    chart_png: bytes | None,
    today: dt.date,
    missing: bool,
) -> list[Block]:
    """The whole PDF: the title, then each section of the worksheet in order, by its kind
    (`pdf` measures what must be measured to decide, such as a chart cell's height)."""
    answers: Answers = {a["key"]: a["text"] for a in data["answers"]}
    # Progress marks ("checklist.done") may be kept apart from the answers.
    seen = set(answers) | set(data.get("progress", []))
    chart = chart_rows(data["sessions"])
    blocks = _title(chart, today, missing)
    for section in sheet:
        if section.kind is SectionKind.TOGGLES:
            blocks += _toggles(section, answers, seen)
        elif section.kind is SectionKind.PAGES:
            blocks += _tips(section, answers)
        elif section.kind is SectionKind.PROMPTS:
            blocks += _prompts(section, answers)
        elif section.kind is SectionKind.CHART:
            blocks += _chart(pdf, section, chart, chart_png)
    return blocks


# Laying the blocks out -----------------------------------------------------------------------


def kept(pdf: WorksheetPdf, blocks: Sequence[Block], index: int) -> float:
    """What must fit on the page before block `index` is drawn: it, and what it is glued to."""
    total = 0.0
    for block in blocks[index:]:
        total += block.need(pdf)
        if not block.glue:
            break
    return total


def lay_out(
    pdf: WorksheetPdf, blocks: Sequence[Block], breaks: frozenset[int] = frozenset()
) -> list[tuple[int, float]]:
    """Draws the blocks, with a page break before those in `breaks` too; returns the page and
    height each one began at."""
    placed = []
    if pdf.page == 0:  # else its first page was added to measure on (see `build_pdf`)
        pdf.add_page()
    for index, block in enumerate(blocks):
        if not pdf.at_top() and (index in breaks or pdf.will_page_break(kept(pdf, blocks, index))):
            pdf.add_page()
        placed.append((pdf.page, pdf.get_y()))
        block.draw(pdf)
    return placed


def last_page_fill(pdf: WorksheetPdf) -> float:
    """How far down the last page the drawing reaches, in mm."""
    return pdf.get_y() - pdf.t_margin


def _fuller(
    pdf: WorksheetPdf,
    blocks: Sequence[Block],
    placed: Sequence[tuple[int, float]],
    new: Callable[[], WorksheetPdf],
) -> WorksheetPdf | None:
    """The blocks laid out again with a page break before one block of the page before the
    last: the latest whose move fills the last page enough (None if none tried does)."""
    short = LAST_PAGE_MIN - last_page_fill(pdf)
    candidates = [
        index
        for index in range(len(blocks) - 1, 0, -1)
        if not blocks[index - 1].glue  # a page may break before it
        and placed[index][0] == pdf.page - 1
        and placed[index][1] > pdf.t_margin + 0.5
        and pdf.page_break_trigger - placed[index][1] >= short
    ]
    for index in candidates[:3]:
        again = new()
        lay_out(again, blocks, frozenset({index}))
        if again.page == pdf.page and last_page_fill(again) >= LAST_PAGE_MIN:
            return again
    return None


def build_pdf(
    data: Data,
    *,
    chart_png: bytes | None,
    today: dt.date,
    fallbacks: Sequence[Path] | None = None,
    sheet: Worksheet | None = None,
) -> bytes:
    """The worksheet (the one in use unless given) with the person's answers, chart, trend and
    closing reflections, as PDF.

    No last page with only a few lines: when the end would spill over so, the PDF is laid out
    again with a page break before a block on the page before (the latest that moves enough),
    so the end goes over to the last page together with what precedes it.
    """
    fonts = tuple(fallback_fonts() if fallbacks is None else fallbacks)
    heights: dict[Any, float] = {}

    def new() -> WorksheetPdf:
        pdf = WorksheetPdf(fonts, heights)
        pdf.set_title(plain(t("worksheet.title")))
        return pdf

    pdf = new()
    chart = chart_rows(data["sessions"])
    typed = [a["text"] for a in data["answers"]]
    typed += [r["topic"] for r in chart] + [r["therapist_role"] for r in chart]
    missing = pdf.lacks_glyphs(typed)
    pdf.add_page()  # fpdf2 measures text only on a page
    blocks = worksheet_blocks(pdf, sheet or worksheet(), data, chart_png, today, missing)
    placed = lay_out(pdf, blocks)
    if pdf.page > 1 and last_page_fill(pdf) < LAST_PAGE_MIN:
        pdf = _fuller(pdf, blocks, placed, new) or pdf
    return bytes(pdf.output())
