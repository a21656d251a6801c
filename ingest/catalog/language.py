"""Which language a text is in: declared by the record, or detected with lingua.

lingua (lingua-language-detector) was chosen over fastText's lid.176 and langid
because it is the most accurate of the offline detectors on short text, which is
what product titles are: on titles such as "Sepatu sneakers pria kasual" the
compressed fastText model that ships on PyPI answers Slovak, lingua Indonesian.
Its models ship inside the wheel, so nothing is downloaded. Detection is limited
to the configured languages (memory: ~0.7 GB for 27 languages, all preloaded).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # loaded only when a record needs detecting
    import lingua

# Codes some catalogs still use for the same languages.
_LEGACY = {"in": "id", "iw": "he", "ji": "yi", "nb": "no", "nn": "no", "jw": "jv"}
LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$")
UNDETERMINED = "und"


@dataclass(frozen=True)
class LanguageGuess:
    code: str  # ISO 639-1 where one exists, lower case; "und" when nothing was confident
    confidence: float
    source: str  # "declared" or "detected"


def primary_subtag(tag: str) -> str:
    """'pt-BR' -> 'pt', 'zh_Hant_TW' -> 'zh', 'IN' -> 'id' (legacy code)."""
    primary = re.split(r"[-_]", tag.strip())[0].lower()
    return _LEGACY.get(primary, primary)


def is_language_tag(tag: str) -> bool:
    """A BCP-47-shaped tag (not a check that the language exists)."""
    return bool(LANGUAGE_TAG.match(tag.strip()))


class LanguageDetector:
    """Lazily built: a catalog whose records all declare their language never loads lingua."""

    def __init__(self, languages: list[str], min_confidence: float) -> None:
        self.languages = languages
        self.min_confidence = min_confidence

    @cached_property
    def _detector(self) -> lingua.LanguageDetector:
        from lingua import IsoCode639_1, LanguageDetectorBuilder

        codes = [getattr(IsoCode639_1, code.upper()) for code in self.languages]
        return LanguageDetectorBuilder.from_iso_codes_639_1(*codes).with_preloaded_language_models().build()

    def detect(self, text: str, among: Collection[str] | None = None) -> LanguageGuess:
        """The most likely language; with ``among``, the most likely of those (see ``best_of``)."""
        return best_of(self.confidences(text), among, self.min_confidence)

    def confidences(self, text: str) -> list[tuple[str, float]]:
        """(ISO 639-1 code, confidence) for every configured language, most likely first; they sum to 1 (or 0)."""
        return [(value.language.iso_code_639_1.name.lower(), value.value)
                for value in self._detector.compute_language_confidence_values(text)]


def best_of(ranked: list[tuple[str, float]], among: Collection[str] | None, min_confidence: float) -> LanguageGuess:
    """The best of a detector's (code, confidence) list, 'und' below ``min_confidence``.

    With ``among``, only those languages compete and their confidences are renormalised among them: what a
    query needs, whose runner-up outside the catalog ('sartén' read as Hungarian) must not win. Han-only text
    gets lingua's zh and 0 for ja, so it counts as ja where only ja is allowed.
    """
    if among is not None:
        allowed = {primary_subtag(code) for code in among}
        kept = [(code, value) for code, value in ranked if code in allowed]
        total = sum(value for _, value in kept)
        if total == 0 and ranked and ranked[0][0] == "zh" and "ja" in allowed:
            kept, total = [("ja", ranked[0][1])], ranked[0][1]
        ranked = [(code, value / total) for code, value in kept] if total > 0 else []
    if not ranked:
        return LanguageGuess(UNDETERMINED, 0.0, "detected")
    code, value = ranked[0]
    return LanguageGuess(code if value >= min_confidence else UNDETERMINED, round(value, 4), "detected")
