"""A query's language is chosen among the languages the index holds, and the shopper's locale weighs it."""

from __future__ import annotations

import yaml

from lingodex.search_templates.searcher import HybridSearcher
from tests.search_fixture import FIXTURE


def test_the_catalogs_languages_are_read_from_the_index(fixture_search: tuple[HybridSearcher, str]) -> None:
    searcher, index = fixture_search
    assert set(searcher.catalog_languages(index) or []) == set(yaml.safe_load(FIXTURE.read_text())["languages"])


def test_a_short_query_is_never_given_a_language_the_catalog_lacks(fixture_search: tuple[HybridSearcher, str]) -> None:
    searcher, index = fixture_search
    assert searcher.detector.detect("sartén").code == "hu"  # over every language lingodex detects
    result = searcher.search(index, "sartén", size=3)
    assert result.language.code == "es" and result.hits[0].id == "frying-pan-es"


def test_the_locale_decides_between_catalog_languages_when_the_text_is_ambiguous(
        fixture_search: tuple[HybridSearcher, str]) -> None:
    searcher, index = fixture_search
    assert searcher.query_language("Yoga", index).code != "de"
    guess = searcher.query_language("Yoga", index, locale="de-AT")
    assert (guess.code, guess.source) == ("de", "locale")
    assert searcher.query_language("Yoga", index, lang="fr").code == "fr"  # a declared language is final
