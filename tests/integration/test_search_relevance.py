"""Known queries over the shipped multilingual fixture, with the real encoder: lexical, dense and hybrid.

211 products: 29 product types written in en, es, de, fr, ja, zh, ko (ids
<type>-<lang>) and 8 that exist only in English.
"""

from __future__ import annotations

import pytest

from lingodex.search_templates.searcher import HybridSearcher
from tests.search_fixture import kind_of

# (query language, query, the product it names): words of that language's title, not the whole title
KNOWN = [
    ("en", "coffee grinder", "coffee-grinder-en"),
    ("es", "hervidor eléctrico", "kettle-es"),
    ("de", "Laufschuhe", "running-shoes-de"),
    ("fr", "tapis de yoga", "yoga-mat-fr"),
    ("ja", "ヨガマット", "yoga-mat-ja"),
    ("zh", "电热水壶", "kettle-zh"),
    ("ko", "헤드폰", "headphones-ko"),
    ("de", "Fahrradhelm", "bicycle-helmet-de"),
    ("ja", "掃除機", "vacuum-ja"),
]
CROSS_LINGUAL = ("es", "máscara de buceo", "snorkel-mask-en")  # Spanish query, product listed only in English


@pytest.fixture
def searcher(fixture_search: tuple[HybridSearcher, str]) -> tuple[HybridSearcher, str]:
    return fixture_search


def top_ids(searcher: tuple[HybridSearcher, str], lang: str, text: str, strategy: str, size: int = 10) -> list[str]:
    engine, index = searcher
    return [hit.id for hit in engine.search(index, text, lang=lang, size=size, strategy=strategy).hits]


@pytest.mark.parametrize(("lang", "text", "expected"), KNOWN, ids=[f"{lang}:{text}" for lang, text, _ in KNOWN])
def test_lexical_ranks_the_named_product_in_the_querys_language_first(searcher, lang, text, expected) -> None:
    assert top_ids(searcher, lang, text, "lexical")[0] == expected


@pytest.mark.parametrize(("lang", "text", "expected"), KNOWN, ids=[f"{lang}:{text}" for lang, text, _ in KNOWN])
def test_dense_ranks_the_named_kind_of_product_first_in_whatever_language(searcher, lang, text, expected) -> None:
    found = top_ids(searcher, lang, text, "dense")
    assert kind_of(found[0]) == kind_of(expected)
    assert expected in found[:7], "the query language's own listing is among that product's seven listings"


@pytest.mark.parametrize(("lang", "text", "expected"), KNOWN, ids=[f"{lang}:{text}" for lang, text, _ in KNOWN])
def test_hybrid_ranks_the_named_product_in_the_querys_language_first(searcher, lang, text, expected) -> None:
    assert top_ids(searcher, lang, text, "hybrid")[0] == expected


def test_a_spanish_query_finds_an_english_only_product_by_dense_and_hybrid_but_not_lexical(searcher) -> None:
    lang, text, expected = CROSS_LINGUAL
    # no word is shared; a character trigram may be ("más" / "mask"), far down the list
    assert expected not in top_ids(searcher, lang, text, "lexical", size=10)
    assert top_ids(searcher, lang, text, "dense")[0] == expected
    assert expected in top_ids(searcher, lang, text, "hybrid")[:3]
