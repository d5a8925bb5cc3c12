"""Parser for Telegram's parse_mode=HTML, following the Bot API server's rules and messages."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ALLOWED_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "code",
        "pre",
        "blockquote",
        "tg-emoji",
    }
)
SIMPLE_TAG_ENTITIES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
}
NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
SPACES = frozenset(" \t\r\n\v\f")
SURROGATE_ERROR = (
    "Text contains invalid Unicode characters after decoding HTML entities, "
    "check for unmatched surrogate code units"
)


class EntityParseError(ValueError):
    """Raised when text can't be parsed; the message is Telegram's description suffix."""


@dataclass(frozen=True)
class ParsedText:
    """Plain text plus Telegram MessageEntity dicts (UTF-16 offsets)."""

    text: str
    entities: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _OpenTag:
    """A start tag waiting for its end tag."""

    name: str
    argument: str
    offset: int
    language: str = ""


def utf16_len(text: str) -> int:
    """Length of text in UTF-16 code units, as Telegram counts it."""
    return len(text.encode("utf-16-le")) // 2


def parse_html(source: str, *, strict: bool = True) -> ParsedText:
    """Parse Telegram HTML; strict also rejects '&' that does not start a valid entity."""
    return _HtmlParser(source, strict).parse()


def _is_name_char(char: str) -> bool:
    """Whether char may appear in an unquoted attribute value (HTML 2.0 name token)."""
    return (char.isascii() and char.isalnum()) or char in ".-"


def _decode_numeric(source: str, pos: int) -> tuple[int, int] | None:
    """Decode '&#N' / '&#xH' at pos; returns (code point, end index)."""
    end = pos + 2
    hexadecimal = source.startswith("x", end)
    end += hexadecimal
    digits = "0123456789abcdefABCDEF" if hexadecimal else "0123456789"
    value = 0
    while end < len(source) and source[end] in digits:
        value = value * (16 if hexadecimal else 10) + int(source[end], 16)
        end += 1
        if value >= 0x10FFFF:
            return None
    if value == 0 or end - pos >= 10:
        return None
    return value, end


def _decode_entity(source: str, pos: int) -> tuple[str, int, bool] | None:
    """Decode a character reference at pos; returns (char, end index, had ';')."""
    if source.startswith("#", pos + 1):
        numeric = _decode_numeric(source, pos)
        if numeric is None:
            return None
        code, end = numeric
        if 0xD800 <= code <= 0xDFFF:
            raise EntityParseError(SURROGATE_ERROR)
        char = chr(code)
    else:
        end = pos + 1
        while end < len(source) and source[end].isascii() and source[end].isalpha():
            end += 1
        named = NAMED_ENTITIES.get(source[pos + 1 : end])
        if named is None:
            return None
        char = named
    if source.startswith(";", end):
        return char, end + 1, True
    return char, end, False


class _HtmlParser:
    """Single-use HTML to (text, entities) converter."""

    def __init__(self, source: str, strict: bool) -> None:
        """Prepare parsing of source."""
        self.src = source
        self.strict = strict
        self.pos = 0
        self.out: list[str] = []
        self.utf16 = 0
        self.stack: list[_OpenTag] = []
        self.entities: list[dict[str, Any]] = []

    def parse(self) -> ParsedText:
        """Run the parser over the whole source."""
        while self.pos < len(self.src):
            char = self.src[self.pos]
            if char == "&":
                self._character_reference()
            elif char == "<":
                self._tag()
            else:
                self._emit(char)
                self.pos += 1
        if self.stack:
            name = self.stack[-1].name
            raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{name}"')
        entities = sorted(self.entities, key=lambda e: (e["offset"], -e["length"]))
        return ParsedText("".join(self.out), entities)

    def _byte_offset(self, index: int) -> int:
        """UTF-8 byte offset of a source index (Telegram reports byte offsets)."""
        return len(self.src[:index].encode("utf-8"))

    def _error(self, message: str, index: int) -> EntityParseError:
        """Build an error mentioning the byte offset of index."""
        return EntityParseError(f"{message} at byte offset {self._byte_offset(index)}")

    def _emit(self, text: str) -> None:
        """Append decoded text to the output."""
        self.out.append(text)
        self.utf16 += utf16_len(text)

    def _at(self, index: int) -> str:
        """Character at index, or '' past the end."""
        return self.src[index] if index < len(self.src) else ""

    def _skip_spaces(self, index: int) -> int:
        """Index of the first non-space character at or after index."""
        while self._at(index) in SPACES and index < len(self.src):
            index += 1
        return index

    def _character_reference(self) -> None:
        """Handle '&' in text."""
        decoded = _decode_entity(self.src, self.pos)
        if decoded is not None and (decoded[2] or not self.strict):
            self._emit(decoded[0])
            self.pos = decoded[1]
            return
        if self.strict:
            raise self._error("Character '&' must be escaped as \"&amp;\"", self.pos)
        self._emit("&")
        self.pos += 1

    def _tag(self) -> None:
        """Handle '<' starting a start or end tag."""
        if self._at(self.pos + 1) == "/":
            self._end_tag()
        else:
            self._start_tag()

    def _start_tag(self) -> None:
        """Parse a start tag with its attributes and push it."""
        begin = self.pos
        i = begin + 1
        while i < len(self.src) and self.src[i] not in SPACES and self.src[i] != ">":
            i += 1
        if i >= len(self.src):
            raise self._error("Unclosed start tag", begin)
        name = self.src[begin + 1 : i].lower()
        if name not in ALLOWED_TAGS:
            raise self._error(f'Unsupported start tag "{name}"', begin)
        argument, i = self._attributes(name, begin, i)
        if name == "span" and argument != "spoiler":
            raise self._error('Tag "span" must have class "tg-spoiler"', begin)
        self.stack.append(_OpenTag(name, argument, self.utf16))
        self.pos = i + 1

    def _attributes(self, tag: str, begin: int, i: int) -> tuple[str, int]:
        """Parse attributes until '>'; returns (tag argument, index of '>')."""
        argument = ""
        while self._at(i) != ">":
            i = self._skip_spaces(i)
            if self._at(i) == ">":
                break
            attr_begin = i
            while i < len(self.src) and self.src[i] not in SPACES and self.src[i] not in "=>":
                i += 1
            attr = self.src[attr_begin:i]
            if not attr:
                raise self._error(f'Empty attribute name in the tag "{tag}"', begin)
            i = self._skip_spaces(i)
            if self._at(i) != "=":
                if tag == "blockquote" and attr == "expandable":
                    argument = "expandable"
                    continue
                message = f'Expected equal sign in declaration of an attribute of the tag "{tag}"'
                raise self._error(message, begin)
            i = self._skip_spaces(i + 1)
            if i >= len(self.src):
                raise self._error(f'Unclosed start tag "{tag}"', begin)
            value, i = self._attribute_value(i)
            if i >= len(self.src):
                raise self._error("Unclosed start tag", begin)
            argument = _tag_argument(tag, attr, value, argument)
        return argument, i

    def _attribute_value(self, i: int) -> tuple[str, int]:
        """Parse a quoted or unquoted attribute value starting at i."""
        quote = self.src[i]
        if quote not in "'\"":
            start = i
            while i < len(self.src) and _is_name_char(self.src[i]):
                i += 1
            if i < len(self.src) and self.src[i] not in SPACES and self.src[i] != ">":
                raise self._error("Unexpected end of name token", start)
            return self.src[start:i].lower(), i
        i += 1
        chars: list[str] = []
        while i < len(self.src) and self.src[i] != quote:
            decoded = _decode_entity(self.src, i) if self.src[i] == "&" else None
            if decoded is not None:
                chars.append(decoded[0])
                i = decoded[1]
            else:
                chars.append(self.src[i])
                i += 1
        return "".join(chars), i + 1 if i < len(self.src) else i

    def _end_tag(self) -> None:
        """Parse an end tag and close the innermost open tag."""
        begin = self.pos
        if not self.stack:
            raise self._error("Unexpected end tag", begin)
        i = begin + 2
        while i < len(self.src) and self.src[i] not in SPACES and self.src[i] != ">":
            i += 1
        end_name = self.src[begin + 2 : i]
        i = self._skip_spaces(i)
        if self._at(i) != ">":
            raise self._error("Unclosed end tag", begin)
        open_tag = self.stack[-1]
        if end_name and end_name.lower() != open_tag.name:
            raise EntityParseError(
                f"Unmatched end tag at byte offset {self._byte_offset(begin)}, "
                f'expected "</{open_tag.name}>", found "</{end_name}>"'
            )
        self.stack.pop()
        self._close(open_tag)
        self.pos = i + 1

    def _close(self, tag: _OpenTag) -> None:
        """Create the entity for a closed tag, if it covers any text."""
        length = self.utf16 - tag.offset
        if length <= 0:
            return
        parent = self.stack[-1] if self.stack else None
        if tag.name == "code" and tag.argument and parent is not None and parent.name == "pre":
            parent.language = tag.argument
            return
        entity = self._entity_for(tag)
        if entity is not None:
            entity.update(offset=tag.offset, length=length)
            self.entities.append(entity)

    def _entity_for(self, tag: _OpenTag) -> dict[str, Any] | None:
        """MessageEntity fields (without position) for a closed tag."""
        if tag.name in SIMPLE_TAG_ENTITIES:
            return {"type": SIMPLE_TAG_ENTITIES[tag.name]}
        if tag.name == "a":
            return {"type": "text_link", "url": tag.argument} if tag.argument else None
        if tag.name == "code":
            return {"type": "code"}
        if tag.name == "pre":
            return {"type": "pre", "language": tag.language} if tag.language else {"type": "pre"}
        if tag.name == "blockquote":
            return {"type": "expandable_blockquote" if tag.argument else "blockquote"}
        if not tag.argument.isdigit():
            raise EntityParseError("Invalid custom emoji identifier specified")
        return {"type": "custom_emoji", "custom_emoji_id": tag.argument}


def _tag_argument(tag: str, attr: str, value: str, current: str) -> str:
    """The meaningful argument of a tag given one of its attributes."""
    if tag == "a" and attr == "href":
        return value
    if tag == "code" and attr == "class" and value.startswith("language-"):
        return value[len("language-") :]
    if tag == "span" and attr == "class" and value.startswith("tg-"):
        return value[len("tg-") :]
    if tag == "tg-emoji" and attr == "emoji-id":
        return value
    if tag == "blockquote" and attr == "expandable":
        return "expandable"
    return current
