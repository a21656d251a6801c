"""A mixed-language catalog: neither language detection nor spelling may hide a product from lexical search.

Marketplace titles mix languages (brand and model in English, the rest in
Indonesian or German), so detection files one product's listings under
different languages. Lexical search must still find every listing.
"""

from __future__ import annotations

import pytest
from opensearchpy import OpenSearch

from lingodex.ingest.batch import embed_records
from lingodex.ingest.index.documents import PreparedRecord
from lingodex.ingest.index.indexer import bulk_index, recreate_index
from lingodex.ingest.index.mappings import PRODUCTS, EncoderIdentity, index_body
from lingodex.ingest.catalog.schema import CatalogProduct
from lingodex.search_templates.searcher import HybridSearcher

# One product listed three times; detection files the listings as three languages (id, en, de).
SAME_PRODUCT = {
    "bag-id": "Tas Selempang Pria Kulit Asli Premium Original",
    "bag-en": "Messenger shoulder sling bag for men tas selempang pria brown",
    "bag-de": "Tas Selempang Pria Herren Umhängetasche aus Leder",
}
# Indonesian neighbours sharing the query's common words (tas, pria, kulit), not the product's name (selempang).
OTHERS = {
    "backpack": "Tas Ransel Pria Kulit Asli",
    "wallet": "Dompet Pria Kulit Asli Murah",
    "shoes": "Sepatu Pria Kulit Asli Formal",
    "belt": "Ikat Pinggang Pria Kulit Asli",
    "jacket": "Jaket Pria Kulit Asli Premium",
    "handbag": "Tas Wanita Kulit Asli Import",
    "powerbank": "Powerbank 10000 mAh fast charging",
    "cable": "Kabel data USB type C fast charging",
}
QUERIES = ["tas selempang pria kulit", "Tas Selempang Pria"]


@pytest.fixture
def mixed_catalog(fixture_search: tuple[HybridSearcher, str], client: OpenSearch, index_name: str) -> str:
    searcher, _ = fixture_search
    records = [PreparedRecord(position=i, product=CatalogProduct(id=doc_id, title=title),
                              language=searcher.detector.detect(title))
               for i, (doc_id, title) in enumerate({**SAME_PRODUCT, **OTHERS}.items(), start=1)]
    detected = {record.id: record.language.code for record in records if record.id in SAME_PRODUCT}
    assert len(set(detected.values())) == 3, f"the fixture needs three detected languages, got {detected}"
    encoder = searcher.encoder
    recreate_index(client, index_name, index_body(PRODUCTS, encoder=EncoderIdentity(
        encoder.model_id, encoder.fingerprint, encoder.dimension)))
    documents = embed_records(records, encoder, {}, index_name, searcher.analyzed)["documents"]
    assert not bulk_index(client, index_name, documents, refresh=True).rejected
    return index_name


@pytest.mark.parametrize("text", QUERIES)
def test_lexical_finds_every_listing_of_a_product_whatever_language_it_was_detected_as(
        fixture_search: tuple[HybridSearcher, str], mixed_catalog: str, text: str) -> None:
    searcher, _ = fixture_search
    top = [hit.id for hit in searcher.search(mixed_catalog, text, size=3, strategy="lexical").hits]
    assert sorted(top) == sorted(SAME_PRODUCT)


def test_lexical_finds_a_listing_that_writes_the_product_name_as_one_word(
        fixture_search: tuple[HybridSearcher, str], mixed_catalog: str) -> None:
    searcher, _ = fixture_search
    hits = searcher.search(mixed_catalog, "power bank", size=3, strategy="lexical").hits
    assert [hit.id for hit in hits][:1] == ["powerbank"], "no word matches: only the title's character trigrams do"
