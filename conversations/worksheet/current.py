"""The worksheet this bot runs: the built-in one, or the file `WORKSHEET_FILE` names.

`use()` is called once at start, before any handler is built; `worksheet()` is what everything
else reads. A worksheet file's own words are the TOML files in the folder beside it with the
file's name (`my_sheet.toml` -> `my_sheet/`), merged over the bot's words.
"""

from __future__ import annotations

from pathlib import Path

from conversations.worksheet import content
from conversations.worksheet.loader import BUILT_IN, load
from conversations.worksheet.model import Worksheet

_current: Worksheet | None = None


def use(path: Path | None) -> Worksheet:
    """Loads and checks a worksheet file (None: the built-in one); raises WorksheetError."""
    global _current
    if path is not None and path.resolve() != BUILT_IN.resolve():
        words = path.with_suffix("")
        if words.is_dir():
            content.add_words(words)
    _current = load(path or BUILT_IN, content.lookup)
    return _current


def worksheet() -> Worksheet:
    """The worksheet in use (the built-in one unless `use()` chose another)."""
    return _current if _current is not None else use(None)
