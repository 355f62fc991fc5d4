"""parse_mode=HTML as Telegram applies it: visible text plus entities in UTF-16 units."""

from __future__ import annotations

import pytest

from bot.emulator.errors import BotApiError
from bot.emulator.formatting import format_text


def test_nested_tags_become_entities_with_utf16_offsets() -> None:
    text, entities = format_text(
        '📈 <b>XAUUSD <i>buy</i></b> &amp; <a href="https://x.test">chart</a>', "HTML"
    )

    assert text == "📈 XAUUSD buy & chart"
    assert entities == [
        {"type": "bold", "offset": 3, "length": 10},
        {"type": "italic", "offset": 10, "length": 3},
        {"type": "text_link", "url": "https://x.test", "offset": 16, "length": 5},
    ]


def test_pre_with_a_language_is_one_entity() -> None:
    text, entities = format_text('<pre><code class="language-python">x = 1</code></pre>', "html")

    assert text == "x = 1"
    assert entities == [{"type": "pre", "language": "python", "offset": 0, "length": 5}]


def test_plain_text_is_left_alone() -> None:
    assert format_text("<b>not parsed</b>", None) == ("<b>not parsed</b>", [])


@pytest.mark.parametrize(
    ("source", "parse_mode", "description"),
    [
        ("<b>x</i>", "HTML", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("é<b>x", "HTML", 'Can\'t find end tag corresponding to start tag "b"'),
        ("é</b>", "HTML", "Unexpected end tag at byte offset 2"),
        ("*bold*", "MarkdownV2", "unsupported parse_mode"),
    ],
)
def test_bad_markup_is_refused_like_telegram(
    source: str, parse_mode: str, description: str
) -> None:
    with pytest.raises(BotApiError) as refusal:
        format_text(source, parse_mode)

    assert refusal.value.status == 400
    assert refusal.value.description.endswith(description)
