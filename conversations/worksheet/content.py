"""The bot's words, loaded once from the TOML files in `content/`, looked up by key, in the
language of the person being answered.

Every file holds one top-level table per section (`[start]`, `[reflect]`, ...). A key is a dotted
path (`"start.welcome"`); lists (pages, checklist statements, tips) are read with `items()`.
Values inserted into a text are HTML-escaped unless they are `Html`.

English is `content/*.toml`; another language is the same files, with the same keys, in
`content/<language>/` (`content/de/`, `content/pt_BR/`). The language is a ContextVar set once per
update from the person (see `speaking`), so call sites say `t("key")`; a key a language lacks
falls back to English, never to the key's name (the bot's own languages have every key: a test
checks it; a worksheet file's words may come in fewer).
"""

from __future__ import annotations

import contextlib
import html
import re
import tomllib
from collections.abc import Iterator
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import Any

CONTENT_DIR = Path(__file__).parent.parent / "content"
ENGLISH = "en"

_language: ContextVar[str] = ContextVar("language", default=ENGLISH)


class Html(str):
    """A string that is already safe HTML and must not be escaped again."""

    __slots__ = ()


# Folders of words that come with a worksheet file other than the built-in one (see
# conversations.worksheet.current); their tables are merged over the bot's own words.
_extra_dirs: list[Path] = []


def add_words(folder: Path) -> None:
    """Merges the TOML files in `folder` (and `folder/<language>/`) over the bot's words (a
    worksheet's own words)."""
    _extra_dirs.append(folder)
    _tree.cache_clear()
    languages.cache_clear()


def _merge(into: dict[str, Any], data: dict[str, Any]) -> None:
    for name, value in data.items():
        if isinstance(value, dict) and isinstance(into.get(name), dict):
            _merge(into[name], value)
        else:
            into[name] = value


def _load(path: Path) -> dict[str, Any]:
    with path.open("rb") as handle:
        return tomllib.load(handle)


@cache
def languages() -> tuple[str, ...]:
    """The languages the bot speaks: English first, then every folder of content/ (sorted)."""
    found = sorted(p.name for p in CONTENT_DIR.iterdir() if p.is_dir() and any(p.glob("*.toml")))
    return (ENGLISH, *found)


def own_words(language: str) -> dict[str, Any]:
    """One language's own files of the bot's words, unmerged (for the checks of a translation)."""
    folder = CONTENT_DIR if language == ENGLISH else CONTENT_DIR / language
    tree: dict[str, Any] = {}
    for path in sorted(folder.glob("*.toml")):
        data = _load(path)
        overlap = tree.keys() & data.keys()
        if overlap:
            raise ValueError(f"{path.name} repeats sections {sorted(overlap)}")
        tree.update(data)
    return tree


@cache
def _tree(language: str = ENGLISH) -> dict[str, Any]:
    # The bot's English, then the language's own words over it; then a worksheet file's words
    # in the same order, so a worksheet that comes only in English is in English, its own words
    # over the bot's words for the built-in worksheet in any language.
    tree = own_words(ENGLISH)
    if language != ENGLISH:
        _merge(tree, own_words(language))
    for folder in _extra_dirs:
        for path in sorted(folder.glob("*.toml")):
            _merge(tree, _load(path))
        if language != ENGLISH:
            for path in sorted((folder / language).glob("*.toml")):
                _merge(tree, _load(path))
    return tree


def language() -> str:
    """The language of the person being answered now."""
    return _language.get()


def supported(code: str | None) -> str:
    """The bot's language for a Telegram language code ("de", "pt-br", "en-GB"), else English.

    A regional code finds its language ("de-AT" speaks "de"); Portuguese is Brazil's.
    """
    if not code:
        return ENGLISH
    have = languages()
    tag = code.replace("-", "_")
    base, _, region = tag.partition("_")
    exact = f"{base.lower()}_{region.upper()}" if region else base.lower()
    for candidate in (exact, base.lower()):
        if candidate in have:
            return candidate
    regional = [name for name in have if name.split("_")[0] == base.lower()]
    return regional[0] if regional else ENGLISH


def set_language(code: str) -> None:
    """Speak this language for the rest of the current update (its task's context)."""
    _language.set(code if code in languages() else ENGLISH)


@contextlib.contextmanager
def speaking(code: str) -> Iterator[None]:
    """Speak a language within a block (a reminder job, a test), then as before."""
    token = _language.set(code if code in languages() else ENGLISH)
    try:
        yield
    finally:
        _language.reset(token)


def lookup(key: str) -> Any:
    """The value at a key (a text, a list or a table), or None if there is none."""
    try:
        return _lookup(key)
    except KeyError:
        return None


def _lookup(key: str) -> Any:
    node: Any = _tree(_language.get())
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


def all_keys(tree: dict[str, Any] | None = None) -> set[str]:
    """Every leaf key in the content (lists count as one key), for the coverage test; or in
    one tree of words (own_words)."""
    found: set[str] = set()

    def walk(prefix: str, node: Any) -> None:
        if isinstance(node, dict):
            for name, child in node.items():
                walk(f"{prefix}.{name}" if prefix else name, child)
        else:
            found.add(prefix)

    walk("", _tree(ENGLISH) if tree is None else tree)
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
