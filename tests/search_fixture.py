"""The shipped multilingual search fixture (tests/data/search_fixture.yaml), as catalog records and as an index."""

from __future__ import annotations

from pathlib import Path

import yaml
from opensearchpy import OpenSearch

from lingodex.encoder import Encoder
from lingodex.ingest.batch import embed_records
from lingodex.ingest.index.documents import PreparedRecord
from lingodex.ingest.index.indexer import bulk_index, recreate_index
from lingodex.ingest.catalog.language import LanguageGuess
from lingodex.ingest.index.mappings import PRODUCTS, EncoderIdentity, index_body, language_fields
from lingodex.ingest.catalog.schema import CatalogProduct
from lingodex.search_templates.relevance.evaluation import JudgedQuery

FIXTURE = Path(__file__).parent / "data" / "search_fixture.yaml"


def fixture_products() -> list[dict]:
    """One record per (product type, language), ids <type>-<lang>, and the English-only products."""
    data = yaml.safe_load(FIXTURE.read_text(encoding="utf-8"))
    brands = data["brands"]
    records = [{"id": f"{kind}-{lang}", "title": titles[lang], "lang": lang}
               for kind, titles in data["types"].items() for lang in data["languages"]]
    records += [{"id": f"{kind}-en", "title": title, "lang": "en"} for kind, title in data["english_only"].items()]
    for i, record in enumerate(records):
        record.update(brand=brands[i % len(brands)], price=float(10 + (i * 37) % 190), currency="EUR")
    return records


def load_fixture(client: OpenSearch, index: str, encoder: Encoder) -> list[dict]:
    """Index the fixture with the real encoder, the way an embed + index batch does."""
    records = fixture_products()
    prepared = [PreparedRecord(position=i, product=CatalogProduct(**record),
                               language=LanguageGuess(record["lang"], 1.0, "declared"))
                for i, record in enumerate(records, start=1)]
    identity = EncoderIdentity(encoder.model_id, encoder.fingerprint, encoder.dimension)
    recreate_index(client, index, index_body(PRODUCTS, encoder=identity))
    embedded = embed_records(prepared, encoder, {}, index, language_fields(PRODUCTS))
    outcome = bulk_index(client, index, embedded["documents"], refresh=True)
    assert not outcome.rejected, outcome.rejected[:3]
    return records


def kind_of(product_id: str) -> str:
    """The product type of a fixture id (<type>-<lang>)."""
    return product_id.rsplit("-", 1)[0]


def judged_known_queries(known: list[tuple[str, str, str]]) -> list[JudgedQuery]:
    """Each known query judged: every listing of the product it names is relevant (grade 1)."""
    listings = _listings()
    return [JudgedQuery(f"q{number}", text, lang, dict.fromkeys(listings[kind_of(expected)], 1))
            for number, (lang, text, expected) in enumerate(known, start=1)]


def judged_titles() -> list[JudgedQuery]:
    """Every title as a query, the product's listings in the other languages relevant, its own excluded (as the Shopee benchmark)."""
    listings = _listings()
    return [JudgedQuery(record["id"], record["title"], record["lang"],
                        {other: 1 for other in listings[kind_of(record["id"])] if other != record["id"]},
                        exclude=frozenset({record["id"]}))
            for record in fixture_products() if len(listings[kind_of(record["id"])]) > 1]


def _listings() -> dict[str, list[str]]:
    """Product type -> the ids of its listings, one per language it is written in."""
    listings: dict[str, list[str]] = {}
    for record in fixture_products():
        listings.setdefault(kind_of(record["id"]), []).append(record["id"])
    return listings
