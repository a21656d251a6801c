"""A query's language: declared, the shop's locale, or detected among the languages the catalog holds.

Short queries are where detection is weakest ('sartén' comes out Hungarian, 'yoga mat' undecided), and a
wrong language costs twice: the wrong per-language parameters, and the wrong centroid taken out of the
query vector (ingest/centring.py). So, in order:

1. a language the caller declares (``lang``) is used as is;
2. detection competes only among the catalog's languages (the index's ``lang`` values);
3. a ``locale`` (the shop's or the user's, e.g. pt-BR) is a prior: the share ``locale_prior`` of queries
   are expected in its language, the rest spread over the catalog's others, and the detector's
   confidences are weighed by it (Bayes). Clear evidence still wins: an English query in an Indonesian
   shop stays English, while an ambiguous short one goes to the locale.

BENCHMARKS.md, "Query language", measures each step on short queries in 20 languages.
"""

from __future__ import annotations

from collections.abc import Collection

from lingodex.ingest.catalog.language import LanguageDetector, LanguageGuess, best_of, primary_subtag

DEFAULT_LOCALE_PRIOR = 0.5  # bench/query_language.py: neutral with two catalog languages, 8x the others with nine


class QueryLanguage:
    def __init__(self, detector: LanguageDetector, locale_prior: float = DEFAULT_LOCALE_PRIOR) -> None:
        self.detector = detector
        self.locale_prior = locale_prior

    def resolve(self, text: str, *, lang: str | None = None, locale: str | None = None,
                catalog: Collection[str] | None = None, locale_prior: float | None = None,
                ranked: list[tuple[str, float]] | None = None) -> LanguageGuess:
        """``catalog``: the languages to choose among (None: all the detector knows); ``ranked``: confidences
        already computed for ``text`` (benchmarks reuse them)."""
        if lang:
            return LanguageGuess(primary_subtag(lang), 1.0, "declared")
        ranked = ranked if ranked is not None else self.detector.confidences(text)
        if not locale:
            return best_of(ranked, catalog or None, self.detector.min_confidence)
        hint = primary_subtag(locale)
        among = set(catalog or (code for code, _ in ranked)) | {hint}
        prior = self.locale_prior if locale_prior is None else locale_prior
        spread = (1 - prior) / max(1, len(among) - 1)
        weighed = [(code, value * (prior if code == hint else spread)) for code, value in ranked if code in among]
        total = sum(value for _, value in weighed)
        if total == 0:
            return LanguageGuess(hint, prior, "locale")
        code, value = max(weighed, key=lambda pair: pair[1])
        return LanguageGuess(code, round(value / total, 4), "locale" if code == hint else "detected")
