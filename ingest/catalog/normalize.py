"""Text clean-up that search engineers expect, and nothing that loses language information.

NFKC folds compatibility forms (full-width Latin and digits, ligatures, half-width
katakana) to their canonical characters, which every analyzer handles better. It
never changes script: no ASCII folding, no transliteration, accents stay. HTML in
descriptions is reduced to the text a browser would show (inscriptis: inline tags
join, block tags break); runs of whitespace become one space.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # inscriptis is imported when a description holds markup
    from inscriptis.model.config import ParserConfig
    from inscriptis.model.html_document_state import HtmlDocumentState

_WHITESPACE = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(text: str) -> str:
    """NFKC, control characters removed, whitespace collapsed and trimmed."""
    text = unicodedata.normalize("NFKC", text)
    text = _CONTROL.sub(" ", text)
    return _WHITESPACE.sub(" ", text).strip()


def has_visible_text(text: str) -> bool:
    """Whether anything would show: not only format characters (zero-width, bidi marks), controls or spaces."""
    return any(unicodedata.category(char)[0] not in "CZ" for char in text)


def strip_html(markup: str) -> str:
    """The visible text of an HTML fragment, entities decoded: inline tags join words, block tags separate them.

    inscriptis renders HTML the way a browser lays it out, so `multi<b>lingual</b>` stays one word where a
    tag-is-a-space stripper made two, and `<p>Steel</p><p>kettle</p>` stays two; scripts and styles are
    dropped, and list items get no bullet (an 'o' or '*' would be indexed as a word). Text without markup
    is returned as it is (most descriptions, and the fast path).
    """
    if "<" not in markup and "&" not in markup:
        return markup
    from inscriptis import get_text

    return get_text(markup, _html_config())


@cache
def _html_config() -> ParserConfig:
    from inscriptis.model.config import ParserConfig
    from inscriptis.model.tag import CustomHtmlTagHandlerMapping

    def list_item_without_bullet(state: HtmlDocumentState, tag: dict[str, str]) -> None:
        state.tags[-1].list_bullet = ""
        state.tags[-1].write("")

    return ParserConfig(custom_html_tag_handler_mapping=CustomHtmlTagHandlerMapping(
        start_tag_mapping={"li": list_item_without_bullet}, end_tag_mapping={}))


def truncate(text: str, max_chars: int) -> tuple[str, bool]:
    """At most ``max_chars`` characters, cut at the last space when there is one nearby."""
    if len(text) <= max_chars:
        return text, False
    cut = text[:max_chars]
    space = cut.rfind(" ", max_chars - 200)
    return (cut[:space] if space > 0 else cut), True
