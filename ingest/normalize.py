"""Text clean-up that search engineers expect, and nothing that loses language information.

NFKC folds compatibility forms (full-width Latin and digits, ligatures, half-width
katakana) to their canonical characters, which every analyzer handles better. It
never changes script: no ASCII folding, no transliteration, accents stay. HTML in
descriptions is reduced to its text; runs of whitespace become one space.
"""

from __future__ import annotations

import re
import unicodedata
from html.parser import HTMLParser

_WHITESPACE = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SKIPPED_TAGS = {"script", "style", "template", "noscript"}


def clean_text(text: str) -> str:
    """NFKC, control characters removed, whitespace collapsed and trimmed."""
    text = unicodedata.normalize("NFKC", text)
    text = _CONTROL.sub(" ", text)
    return _WHITESPACE.sub(" ", text).strip()


def has_visible_text(text: str) -> bool:
    """Whether anything would show: not only format characters (zero-width, bidi marks), controls or spaces."""
    return any(unicodedata.category(char)[0] not in "CZ" for char in text)


def strip_html(markup: str) -> str:
    """The visible text of an HTML fragment, entities decoded; tags become word breaks."""
    if "<" not in markup and "&" not in markup:
        return markup
    parser = _TextOnly()
    parser.feed(markup)
    parser.close()
    return " ".join(parser.parts)


def truncate(text: str, max_chars: int) -> tuple[str, bool]:
    """At most ``max_chars`` characters, cut at the last space when there is one nearby."""
    if len(text) <= max_chars:
        return text, False
    cut = text[:max_chars]
    space = cut.rfind(" ", max_chars - 200)
    return (cut[:space] if space > 0 else cut), True


class _TextOnly(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED_TAGS:
            self._skipping += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_TAGS and self._skipping:
            self._skipping -= 1

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)
