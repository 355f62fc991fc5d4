"""``parse_mode=HTML`` the way Telegram applies it: tags become entities, the text loses them.

The bot's tests and the demo read the text a trader actually sees, and malformed markup must
fail here as it would in Telegram (400 "can't parse entities") rather than pass silently.
Offsets and lengths are in UTF-16 code units, as in the Bot API.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

from bot.emulator.errors import BotApiError, bad_request

_SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
}
# Marks a <code class="language-x"> folded into its enclosing <pre> (one "pre" entity).
_FOLDED = {"type": "folded"}


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def format_text(text: str, parse_mode: str | None) -> tuple[str, list[dict[str, Any]]]:
    """Return the visible text and its entities for ``parse_mode`` (none or HTML)."""
    if not parse_mode:
        return text, []
    if parse_mode.upper() != "HTML":
        raise bad_request("unsupported parse_mode")
    parser = _TelegramHtmlParser(text)
    return parser.run()


class _TelegramHtmlParser(HTMLParser):
    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self._source = source
        self._line_starts = [0]
        for line in source.splitlines(keepends=True):
            self._line_starts.append(self._line_starts[-1] + len(line))
        self._parts: list[str] = []
        self._position = 0
        self._open: list[tuple[str, int, dict[str, Any]]] = []
        self._entities: list[dict[str, Any]] = []

    def run(self) -> tuple[str, list[dict[str, Any]]]:
        self.feed(self._source)
        self.close()
        if self._open:
            unclosed = self._open[-1][0]
            raise _cant_parse(f'Can\'t find end tag corresponding to start tag "{unclosed}"')
        self._entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return "".join(self._parts), self._entities

    def handle_data(self, data: str) -> None:
        self._parts.append(data)
        self._position += utf16_length(data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        entity = self._entity_for(tag, dict(attrs))
        if entity is None:
            raise _cant_parse(f'Unsupported start tag "{tag}" at byte offset {self._byte_offset()}')
        self._open.append((tag, self._position, entity))

    def handle_endtag(self, tag: str) -> None:
        if not self._open:
            raise _cant_parse(f"Unexpected end tag at byte offset {self._byte_offset()}")
        open_tag, start, entity = self._open.pop()
        if open_tag != tag:
            raise _cant_parse(
                f'Unmatched end tag at byte offset {self._byte_offset()}, '
                f'expected "</{open_tag}>", found "</{tag}>"'
            )
        if entity is not _FOLDED and self._position > start:
            self._entities.append({**entity, "offset": start, "length": self._position - start})

    def _entity_for(self, tag: str, attrs: dict[str, str | None]) -> dict[str, Any] | None:
        if tag == "code" and self._open and self._open[-1][0] == "pre":
            language = (attrs.get("class") or "").removeprefix("language-")
            if language:
                self._open[-1][2]["language"] = language
                return _FOLDED
        if tag in _SIMPLE_TAGS:
            return {"type": _SIMPLE_TAGS[tag]}
        if tag == "span" and attrs.get("class") == "tg-spoiler":
            return {"type": "spoiler"}
        if tag == "a" and attrs.get("href"):
            return {"type": "text_link", "url": attrs["href"]}
        if tag == "blockquote":
            return {"type": "expandable_blockquote" if "expandable" in attrs else "blockquote"}
        if tag == "tg-emoji" and attrs.get("emoji-id"):
            return {"type": "custom_emoji", "custom_emoji_id": attrs["emoji-id"]}
        return None

    def _byte_offset(self) -> int:
        line, column = self.getpos()
        index = self._line_starts[line - 1] + column
        return len(self._source[:index].encode())


def _cant_parse(detail: str) -> BotApiError:
    return bad_request(f"can't parse entities: {detail}")
