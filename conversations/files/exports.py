"""The files /export sends, built from the gathered data: JSON, the chart as CSV, and the PDF.

Pure functions of the data (storage/export.py) and the content; nothing here touches the disk
except to read fonts. The PDF embeds DejaVu Sans (shipped with matplotlib), so Latin, Cyrillic,
Greek, Arabic and Hebrew answers print as they were typed; a script DejaVu lacks (Chinese, most
emoji) uses a fallback font when the machine has one, and otherwise shows as a box with a note,
never an error.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import html
import io
import json
import logging
import re
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from fpdf import FPDF, FontFace
from fpdf.enums import Align, XPos, YPos
from fpdf.fonts import TTFFont

from conversations.worksheet.content import items, short_prompt, t
from conversations.worksheet.dates import show_date

# fpdf2 names missing glyphs (characters a person typed) in a warning; `printable` below keeps
# them from reaching it, and this keeps any other such line out of the bot's log. fontTools logs
# every table of every font it subsets at DEBUG, which would bury the bot's own lines.
logging.getLogger("fpdf").setLevel(logging.ERROR)
logging.getLogger("fontTools").setLevel(logging.WARNING)

Data = dict[str, Any]
Point = tuple[dt.date, int | None, int | None]

# JSON ----------------------------------------------------------------------------------------


def build_json(data: Data) -> bytes:
    """The gathered data as readable UTF-8 JSON."""
    return (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode()


# CSV -----------------------------------------------------------------------------------------

# A spreadsheet runs a cell that starts with one of these as a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
COLUMNS = (
    "export.columns.date",
    "export.columns.topic",
    "export.columns.trust",
    "export.columns.safety",
    "export.columns.role",
)


def neutralise(cell: str) -> str:
    """A cell a spreadsheet shows as text: a leading apostrophe before a formula's first sign."""
    return "'" + cell if cell.lstrip(" ").startswith(FORMULA_STARTS) else cell


def chart_rows(sessions: Iterable[Data]) -> list[Data]:
    """The session chart as the bot shows it: completed rows, oldest first (undated last)."""
    rows = [s for s in sessions if s["complete"]]
    return sorted(rows, key=lambda s: (s["session_date"] is None, s["session_date"] or ""))


def _number(value: int | None) -> str:
    return "" if value is None else str(value)


def build_csv(sessions: Iterable[Data]) -> bytes:
    """The session chart as CSV (UTF-8 with a BOM, so spreadsheet apps read it as UTF-8)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([plain(t(key)) for key in COLUMNS])
    for row in chart_rows(sessions):
        cells = [
            row["session_date"] or "",
            row["topic"] or "",
            _number(row["trust"]),
            _number(row["safety"]),
            row["therapist_role"] or "",
        ]
        writer.writerow([neutralise(cell) for cell in cells])
    return buffer.getvalue().encode("utf-8-sig")


# Words from the content ----------------------------------------------------------------------

TAG = re.compile(r"<[^>]+>")
HEADING = re.compile(r"[^\w<]*<b>[^<]*</b>", re.DOTALL)
SCALE = re.compile(r"^1 = .*$", re.MULTILINE)


def plain(text: str) -> str:
    """Content HTML as plain text."""
    return html.unescape(TAG.sub("", text))


def lead(key: str) -> str:
    """The first paragraph of a section's introduction after its bold heading: the worksheet's
    own words (what follows is the bot's)."""
    paragraphs = [p.strip() for p in t(key).split("\n\n") if p.strip()]
    return next((plain(p) for p in paragraphs if not HEADING.fullmatch(p)), "")


def prompt(key: str) -> str:
    """A prompt's question as plain text, without its heading or the bot's hints."""
    return short_prompt(t(key), limit=2000)


def scale(key: str) -> str:
    """The "1 = ..., 10 = ..." line of a rating prompt."""
    found = SCALE.search(plain(t(key)))
    return found.group(0) if found else ""


def date_text(value: str | None) -> str:
    """A stored YYYY-MM-DD date as the bot shows dates."""
    return plain(show_date(None if value is None else dt.date.fromisoformat(value)))


def numbers(text: str | None) -> set[int]:
    """1-based numbers from a stored selection such as "1,4"."""
    return {int(part) for part in (text or "").split(",") if part.strip().isdecimal()}


def chart_points(sessions: Iterable[Data]) -> list[Point]:
    """Completed, dated sessions with a score, oldest first, for the trend chart."""
    return [
        (dt.date.fromisoformat(row["session_date"]), row["trust"], row["safety"])
        for row in chart_rows(sessions)
        if row["session_date"] is not None
        and (row["trust"] is not None or row["safety"] is not None)
    ]


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


# The PDF -------------------------------------------------------------------------------------

BODY_PT = 10.5
LINE = 5.2  # mm per line of body text
INDENT = 5.0  # mm: answers sit under their prompt
RULE_GAP = 8.0  # mm between the blank lines of an unanswered prompt
BLANK_LINES = 3
BLANK_ROWS = 6  # empty chart rows to write on when none are logged
INK = (22, 45, 110)  # answers, in the blue of a pen
ACCENT = (0, 95, 95)
GREY = (110, 110, 110)
BLACK = (0, 0, 0)
HEADER_FILL = (225, 238, 238)
COLUMN_WIDTHS = (22, 34, 9, 10, 35)  # fractions of the page width


class WorksheetPdf(FPDF):
    """The worksheet on A4 in DejaVu Sans, with "Page n of N" at the foot of each page."""

    def __init__(self, fallbacks: Sequence[Path]) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
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

    def printable(self, text: str) -> str:
        """Text with what no embedded font can draw shown as a box (fpdf2 would drop it)."""
        text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
        out = []
        for char in text:
            if char == "\n" or ord(char) in self.covered:
                out.append(char)
            elif not _drops(char) and unicodedata.category(char) != "Cc":
                out.append(REPLACEMENT)
        return "".join(out)

    def lacks_glyphs(self, texts: Iterable[str | None]) -> bool:
        """Whether any of these texts has a character that will show as a box."""
        return any(REPLACEMENT in self.printable(text) for text in texts if text)

    def footer(self) -> None:
        """The page number."""
        self.set_y(-12)
        self.style(size=8, color=GREY)
        self.cell(0, 6, plain(t("export.pdf.footer", page=self.page_no(), pages="{nb}")), align="C")

    # Drawing helpers -------------------------------------------------------------------------

    def style(
        self, *, size: float = BODY_PT, bold: bool = False, color: tuple[int, int, int] = BLACK
    ) -> None:
        """Set the font size, weight and colour for what follows."""
        self.set_font(FAMILY, "B" if bold else "", size)
        self.set_text_color(*color)

    def para(
        self,
        text: str,
        *,
        size: float = BODY_PT,
        bold: bool = False,
        color: tuple[int, int, int] = BLACK,
        indent: float = 0,
    ) -> None:
        """A paragraph across the page, wrapped."""
        self.style(size=size, bold=bold, color=color)
        self.set_x(self.l_margin + indent)
        height = LINE * size / BODY_PT
        self.multi_cell(
            self.epw - indent,
            height,
            self.printable(text),
            align=Align.L,
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )

    def heading(self, text: str, room: float = 30) -> None:
        """A section heading, moved to a new page if nothing would fit under it."""
        if self.will_page_break(room):
            self.add_page()
        self.ln(5)
        self.para(text, size=14, bold=True, color=ACCENT)
        self.ln(1.5)

    def blank_lines(self, count: int = BLANK_LINES) -> None:
        """Ruled lines to write an answer on, as on the paper worksheet."""
        if self.will_page_break(count * RULE_GAP + 2):
            self.add_page()
        self.set_draw_color(*GREY)
        self.set_line_width(0.2)
        y = self.get_y()
        for _ in range(count):
            y += RULE_GAP
            self.line(self.l_margin + INDENT, y, self.l_margin + self.epw, y)
        self.set_y(y + 3)

    def answer(self, text: str | None, lines: int = BLANK_LINES) -> None:
        """A person's answer under its prompt, or blank lines when there is none."""
        if text is None or not text.strip():
            self.blank_lines(lines)
            return
        self.ln(0.8)
        self.para(text.strip(), color=INK, indent=INDENT)
        self.ln(2.5)

    def numbered(self, number: str, text: str | None) -> None:
        """One of several numbered answers to a prompt, or a line to write it on."""
        if self.will_page_break(RULE_GAP + 2):
            self.add_page()
        self.ln(1.5)
        self.style(bold=True)
        self.set_x(self.l_margin + INDENT)
        self.cell(INDENT + 1, LINE, f"{number}.")
        if text is None or not text.strip():
            y = self.get_y() + LINE
            self.set_draw_color(*GREY)
            self.set_line_width(0.2)
            self.line(self.get_x(), y, self.l_margin + self.epw, y)
            self.set_y(y + 3)
            return
        self.style(color=INK)
        self.multi_cell(
            0,
            LINE,
            self.printable(text.strip()),
            align=Align.L,
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        self.ln(1.5)

    def choices(self, options: Sequence[tuple[bool, str]]) -> None:
        """Boxes side by side, the chosen one ticked."""
        self.ln(1)
        self.set_x(self.l_margin + INDENT)
        for checked, label in options:
            self.style(size=12, color=INK if checked else GREY)
            self.cell(INDENT + 1, LINE, TICKED if checked else UNTICKED)
            self.style(bold=checked)
            self.cell(self.get_string_width(label) + 10, LINE, label)
        self.ln(LINE + 2)

    def question(self, number: str, text: str) -> None:
        """A numbered prompt."""
        if self.will_page_break(LINE * 2 + RULE_GAP):
            self.add_page()
        self.ln(1.5)
        self.para(f"{number}. {text}" if number else text, bold=True)

    def tick(self, checked: bool, title: str, text: str = "") -> None:
        """A statement with a box, ticked or not; its text under its title."""
        if self.will_page_break(LINE * 3):
            self.add_page()
        self.style(size=12, color=INK if checked else GREY)
        self.cell(INDENT + 1, LINE, TICKED if checked else UNTICKED)
        self.style(bold=True)
        self.multi_cell(0, LINE, title, align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if text:
            self.para(text, size=9.5, indent=INDENT + 1)
        self.ln(1.5)


def _title(pdf: WorksheetPdf, chart: list[Data], today: dt.date, missing: bool) -> None:
    pdf.para(plain(t("export.pdf.title")), size=20, bold=True, color=ACCENT)
    pdf.ln(1)
    dates = [row["session_date"] for row in chart if row["session_date"] is not None]
    if dates and dates[0] == dates[-1]:
        pdf.para(plain(t("export.pdf.period_one", date=date_text(dates[0]))), size=11)
    elif dates:
        first, last = date_text(dates[0]), date_text(dates[-1])
        pdf.para(plain(t("export.pdf.period", first=first, last=last)), size=11)
    shown = plain(show_date(today))
    pdf.para(plain(t("export.pdf.exported", date=shown)), size=9.5, color=GREY)
    if missing:
        pdf.ln(2)
        pdf.para(plain(t("export.pdf.missing")), size=9, color=GREY)


def _checklist(pdf: WorksheetPdf, answers: dict[str, str | None]) -> None:
    pdf.heading(plain(t("export.pdf.checklist")))
    pdf.para(lead("checklist.intro"))
    pdf.ln(2)
    chosen = numbers(answers.get("checklist.selected"))
    for number, statement in enumerate(items("checklist.statements"), start=1):
        pdf.tick(number in chosen, plain(statement["title"]), plain(statement["text"]))


def _tips(pdf: WorksheetPdf, answers: dict[str, str | None]) -> None:
    pdf.heading(plain(t("export.pdf.tips")))
    pdf.para(plain(t("export.pdf.tips_note")), size=9.5, color=GREY)
    pdf.ln(2)
    marked = numbers(answers.get("tips.marked"))
    for number, tip in enumerate(items("tips.list"), start=1):
        pdf.tick(number in marked, plain(tip["title"]), plain(tip["text"]))


def _reflections(pdf: WorksheetPdf, answers: dict[str, str | None]) -> None:
    pdf.heading(plain(t("export.pdf.reflect")))
    pdf.para(lead("reflect.intro"), size=9.5)
    # Prompt 6 is one question with three answers (q6.1, q6.2, q6.3), numbered 1-3 under it.
    shown: set[str] = set()
    for item in items("reflect.prompts"):
        number, _, part = str(item["key"]).removeprefix("q").partition(".")
        if number not in shown:
            shown.add(number)
            pdf.question(number, short_prompt(item["text"], limit=2000))
        answer = answers.get(f"reflect.{item['key']}")
        if part:
            pdf.numbered(part, answer)
        else:
            pdf.answer(answer)


def _chart(pdf: WorksheetPdf, chart: list[Data]) -> None:
    pdf.heading(plain(t("export.pdf.chart")), room=60)
    pdf.para(lead("log.intro"), size=9.5)
    pdf.ln(3)
    if not chart:
        pdf.para(plain(t("export.pdf.no_sessions")), size=9.5, color=GREY)
        pdf.ln(2)
    pdf.style(size=9)
    headings = FontFace(emphasis="BOLD", fill_color=HEADER_FILL)
    centred = {2, 3}
    with pdf.table(
        col_widths=COLUMN_WIDTHS,
        line_height=4.6,
        headings_style=headings,
        text_align="LEFT",
        padding=1.5,
        width=pdf.epw,
    ) as table:
        heading = table.row()
        for index, key in enumerate(COLUMNS):
            heading.cell(plain(t(key)), align="CENTER" if index in centred else "LEFT")
        for row in chart:
            cells = [
                date_text(row["session_date"]),
                pdf.printable(row["topic"] or ""),
                _number(row["trust"]),
                _number(row["safety"]),
                pdf.printable(row["therapist_role"] or ""),
            ]
            line = table.row()
            for index, cell in enumerate(cells):
                line.cell(cell, align="CENTER" if index in centred else "LEFT")
        if not chart:
            for _ in range(BLANK_ROWS):
                line = table.row()
                for _column in COLUMNS:
                    line.cell(" ")
    pdf.set_text_color(*BLACK)


def _trend(pdf: WorksheetPdf, chart_png: bytes) -> None:
    height = pdf.epw * 2 / 3  # the chart is 1200 x 800 px
    pdf.heading(plain(t("export.pdf.trend")), room=height + 20)
    pdf.image(io.BytesIO(chart_png), w=pdf.epw, h=height)


def _closing(pdf: WorksheetPdf, answers: dict[str, str | None]) -> None:
    pdf.heading(plain(t("export.pdf.after")))
    pdf.question("", prompt("finish.trust_prompt"))
    pdf.answer(answers.get("finish.trust"), 4)

    pdf.heading(plain(t("export.pdf.exercise")))
    pdf.question("1", prompt("finish.surprise_prompt"))
    surprise = answers.get("finish.surprise")
    pdf.choices(
        [(surprise == "yes", plain(t("finish.yes"))), (surprise == "no", plain(t("finish.no")))]
    )
    if surprise != "no" or answers.get("finish.surprise_detail"):
        pdf.para(prompt("finish.detail_prompt"), indent=INDENT)
        pdf.answer(answers.get("finish.surprise_detail"))
    pdf.question("2", prompt("finish.helpful_prompt"))
    pdf.para(scale("finish.helpful_prompt"), size=9.5, color=GREY)
    helpful = answers.get("finish.helpful")
    rating = plain(t("export.pdf.rating", value=helpful)) if helpful else None
    pdf.answer(rating, 1)


def build_pdf(
    data: Data,
    *,
    chart_png: bytes | None,
    today: dt.date,
    fallbacks: Sequence[Path] | None = None,
) -> bytes:
    """The worksheet with the person's answers, chart, trend and closing reflections, as PDF."""
    pdf = WorksheetPdf(fallback_fonts() if fallbacks is None else fallbacks)
    pdf.set_title(plain(t("export.pdf.title")))
    answers: dict[str, str | None] = {a["key"]: a["text"] for a in data["answers"]}
    chart = chart_rows(data["sessions"])
    typed = [*answers.values(), *(r["topic"] for r in chart), *(r["therapist_role"] for r in chart)]
    pdf.add_page()
    _title(pdf, chart, today, pdf.lacks_glyphs(typed))
    _checklist(pdf, answers)
    _tips(pdf, answers)
    _reflections(pdf, answers)
    _chart(pdf, chart)
    if chart_png is not None:
        _trend(pdf, chart_png)
    _closing(pdf, answers)
    return bytes(pdf.output())
