"""The bot's words, loaded once from the TOML files in `content/`, looked up by key.

Every file holds one top-level table per section (`[start]`, `[reflect]`, ...). A key is a dotted
path (`"start.welcome"`); lists (pages, checklist statements, tips) are read with `items()`.
Values inserted into a text are HTML-escaped unless they are `Html`.
"""

from __future__ import annotations

import html
import re
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

CONTENT_DIR = Path(__file__).parent.parent / "content"


class Html(str):
    """A string that is already safe HTML and must not be escaped again."""

    __slots__ = ()


# Folders of words that come with a worksheet file other than the built-in one (see
# conversations.worksheet.current); their tables are merged over the bot's own words.
_extra_dirs: list[Path] = []


def add_words(folder: Path) -> None:
    """Merges the TOML files in `folder` over the bot's words (a worksheet's own words)."""
    _extra_dirs.append(folder)
    _tree.cache_clear()


def _merge(into: dict[str, Any], data: dict[str, Any]) -> None:
    for name, value in data.items():
        if isinstance(value, dict) and isinstance(into.get(name), dict):
            _merge(into[name], value)
        else:
            into[name] = value


@cache
def _tree() -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for path in sorted(CONTENT_DIR.glob("*.toml")):
        with path.open("rb") as handle:
            data = tomllib.load(handle)
        overlap = tree.keys() & data.keys()
        if overlap:
            raise ValueError(f"{path.name} repeats sections {sorted(overlap)}")
        tree.update(data)
    for folder in _extra_dirs:
        for path in sorted(folder.glob("*.toml")):
            with path.open("rb") as handle:
                _merge(tree, tomllib.load(handle))
    return tree


def lookup(key: str) -> Any:
    """The value at a key (a text, a list or a table), or None if there is none."""
    try:
        return _lookup(key)
    except KeyError:
        return None


def _lookup(key: str) -> Any:
    node: Any = _tree()
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            raise KeyError(f"no content for {key!r}")
        node = node[part]
    return node


def _escape(value: object) -> str:
    return value if isinstance(value, Html) else html.escape(str(value), quote=False)


def t(key: str, /, **values: object) -> Html:
    """The text for a key, with `{name}` placeholders filled in (escaped)."""
    node = _lookup(key)
    if not isinstance(node, str):
        raise TypeError(f"content {key!r} is not a text")
    if not values:
        return Html(node)
    return Html(node.format(**{name: _escape(v) for name, v in values.items()}))


def items(key: str, /) -> list[Any]:
    """A list from the content (weekday names, paragraphs), or a table's values in order."""
    node = _lookup(key)
    if isinstance(node, dict):
        return list(node.values())
    if not isinstance(node, list):
        raise TypeError(f"content {key!r} is not a list")
    return node


def escape(text: str) -> Html:
    """Escape what a person typed before it is shown in HTML."""
    return Html(html.escape(text, quote=False))


def all_keys() -> set[str]:
    """Every leaf key in the content (lists count as one key), for the coverage test."""
    found: set[str] = set()

    def walk(prefix: str, node: Any) -> None:
        if isinstance(node, dict):
            for name, child in node.items():
                walk(f"{prefix}.{name}" if prefix else name, child)
        else:
            found.add(prefix)

    walk("", _tree())
    return found


TAG = re.compile(r"<[^>]+>")


def short_prompt(text: str, limit: int = 200) -> str:
    """A prompt's question without HTML, heading lines or notes after it, cut at `limit`."""
    plain = html.unescape(TAG.sub("", text))
    paragraphs = [" ".join(p.split()) for p in plain.split("\n\n") if p.strip()]
    body = next((p for p in paragraphs if p[-1] in ".?!:"), paragraphs[0] if paragraphs else "")
    if len(body) <= limit:
        return body
    cut = body[: limit - 1]
    return (cut.rsplit(" ", 1)[0] if " " in cut else cut) + "…"
