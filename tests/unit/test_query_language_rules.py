"""A short query's language: declared, detected among the catalog's languages, weighed by the shop's locale."""

import pytest

from lingodex.ingest.catalog.language import LanguageDetector, best_of
from lingodex.search_templates.query_language import QueryLanguage

EUROPEAN = ["en", "es", "fr", "de", "it", "pt", "nl", "pl", "sv"]


@pytest.fixture(scope="module")
def detector() -> LanguageDetector:
    return LanguageDetector(["en", "es", "fr", "de", "it", "pt", "nl", "hu", "ja", "zh"], 0.3)


def test_a_declared_language_wins_over_everything(detector: LanguageDetector) -> None:
    guess = QueryLanguage(detector).resolve("sartén", lang="pt-BR", locale="es", catalog=["es"])
    assert (guess.code, guess.source) == ("pt", "declared")


def test_detection_among_the_catalogs_languages_cannot_pick_a_language_the_catalog_lacks(
        detector: LanguageDetector) -> None:
    assert detector.detect("sartén").code == "hu"  # lingua's best over all its languages
    assert QueryLanguage(detector).resolve("sartén", catalog=["en", "es", "de"]).code == "es"


def test_han_only_text_is_japanese_in_a_catalog_without_chinese(detector: LanguageDetector) -> None:
    assert detector.detect("水筒").code == "zh"
    assert QueryLanguage(detector).resolve("水筒", catalog=["en", "ja"]).code == "ja"


def test_renormalised_confidences_below_the_minimum_are_undetermined() -> None:
    assert best_of([("en", 0.2), ("de", 0.15), ("fr", 0.1)], ["de", "fr", "it", "nl"], 0.7).code == "und"
    assert best_of([("en", 0.2), ("de", 0.15), ("fr", 0.05)], ["de", "fr"], 0.7).code == "de"


def test_the_locale_decides_an_ambiguous_query() -> None:
    ranked = [("es", 0.40), ("pt", 0.35), ("it", 0.25)]
    resolver = QueryLanguage(detector=None, locale_prior=0.5)  # type: ignore[arg-type] - ranked is given
    guess = resolver.resolve("cafetera", locale="pt-BR", catalog=EUROPEAN, ranked=ranked)
    assert (guess.code, guess.source) == ("pt", "locale")


def test_clear_evidence_of_another_catalog_language_beats_the_locale() -> None:
    ranked = [("en", 0.97), ("de", 0.02), ("nl", 0.01)]
    resolver = QueryLanguage(detector=None, locale_prior=0.5)  # type: ignore[arg-type] - ranked is given
    assert resolver.resolve("wireless headphones", locale="de", catalog=EUROPEAN, ranked=ranked).code == "en"


def test_with_two_catalog_languages_a_prior_of_one_half_is_detection_alone() -> None:
    ranked = [("en", 0.6), ("id", 0.4)]
    resolver = QueryLanguage(detector=None, locale_prior=0.5)  # type: ignore[arg-type] - ranked is given
    assert resolver.resolve("tas ransel", locale="id", catalog=["id", "en"], ranked=ranked).code == "en"
    assert QueryLanguage(None, locale_prior=0.7).resolve(  # type: ignore[arg-type]
        "tas ransel", locale="id", catalog=["id", "en"], ranked=ranked).code == "id"
