"""Query translation on the real node: a Portuguese query finds English titles lexically; a broken translator costs nothing."""

from __future__ import annotations

import logging

import pytest
from opensearchpy import OpenSearch

from lingodex.ingest.batch import embed_records
from lingodex.ingest.index.documents import PreparedRecord
from lingodex.ingest.index.indexer import bulk_index, recreate_index
from lingodex.ingest.catalog.language import LanguageGuess
from lingodex.ingest.index.mappings import PRODUCTS, EncoderIdentity, index_body
from lingodex.ingest.catalog.schema import CatalogProduct
from lingodex.search_templates.search_params import SearchParams
from lingodex.search_templates.searcher import HybridSearcher
from lingodex.search_templates.translation import FastTranslate, Translators

ENGLISH = {
    "headphones": "Wireless noise cancelling headphones",
    "bottle": "Stainless steel water bottle",
    "keyboard": "Mechanical gaming keyboard",
    "shoes": "Lightweight running shoes for men",
}
QUERY = "fone de ouvido sem fio"  # Portuguese: wireless headphones
TRANSLATE_PT = SearchParams(languages={"pt": {"translate_to": ["en"]}})


class Broken:
    def supports(self, source: str, target: str) -> bool:
        return True

    def translate(self, text: str, source: str, target: str) -> str:
        raise OSError("translation model went missing")


@pytest.fixture
def english_catalog(fixture_search: tuple[HybridSearcher, str], client: OpenSearch, index_name: str) -> str:
    searcher, _ = fixture_search
    encoder = searcher.encoder
    records = [PreparedRecord(position=i, product=CatalogProduct(id=doc_id, title=title),
                              language=LanguageGuess("en", 1.0, "declared"))
               for i, (doc_id, title) in enumerate(ENGLISH.items(), start=1)]
    recreate_index(client, index_name, index_body(PRODUCTS, encoder=EncoderIdentity(
        encoder.model_id, encoder.fingerprint, encoder.dimension)))
    assert not bulk_index(client, index_name, embed_records(records, encoder, {}, index_name, searcher.analyzed)["documents"],
                          refresh=True).rejected
    return index_name


def searcher_with(shared: HybridSearcher, params: SearchParams, translators: Translators) -> HybridSearcher:
    return HybridSearcher(shared.client, shared.encoder, params, shared.detector, shared.analyzed,
                          translators=translators)


def test_without_translation_a_portuguese_query_finds_no_english_title_lexically(
        fixture_search: tuple[HybridSearcher, str], english_catalog: str) -> None:
    searcher = searcher_with(fixture_search[0], SearchParams(), Translators([FastTranslate()]))
    assert searcher.search(english_catalog, QUERY, lang="pt", strategy="lexical").hits == []


def test_with_translate_to_english_the_portuguese_query_finds_the_english_headphones_lexically(
        fixture_search: tuple[HybridSearcher, str], english_catalog: str) -> None:
    searcher = searcher_with(fixture_search[0], TRANSLATE_PT, Translators([FastTranslate()]))
    hits = searcher.search(english_catalog, QUERY, lang="pt", strategy="lexical").hits
    assert [hit.id for hit in hits][:1] == ["headphones"]


def test_a_translator_that_raises_leaves_the_hybrid_search_working(
        fixture_search: tuple[HybridSearcher, str], english_catalog: str, caplog: pytest.LogCaptureFixture) -> None:
    searcher = searcher_with(fixture_search[0], TRANSLATE_PT, Translators([Broken()]))
    with caplog.at_level(logging.WARNING):
        hits = searcher.search(english_catalog, QUERY, lang="pt").hits
    assert [hit.id for hit in hits][:1] == ["headphones"], "the dense side still finds them"
    assert "translation model went missing" in caplog.text
