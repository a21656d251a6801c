"""Language centroids through real workers into the real node: stored with the version, used by every vector and query."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from opensearchpy import OpenSearch

from lingodex.ingest.batch import embed_records, index_embedded
from lingodex.ingest.index.documents import PreparedRecord
from lingodex.ingest.index.index_versions import alias_indices, centroids_of, stored_records
from lingodex.ingest.catalog.language import LanguageGuess
from lingodex.ingest.catalog.readers import read_records
from lingodex.ingest.catalog.schema import CatalogProduct
from lingodex.ingest.job import JobRecord
from lingodex.ingesting import build_ingest_job
from lingodex.settings import Settings
from lingodex.search_templates.searcher import HybridSearcher
from tests.loads import live_workers, scratch_settings

CATALOG = [
    ("en-1", "Wireless noise cancelling headphones", "en"),
    ("en-2", "Stainless steel insulated water bottle", "en"),
    ("en-3", "Mechanical gaming keyboard with RGB backlight", "en"),
    ("en-4", "Men's lightweight running shoes", "en"),
    ("de-1", "Kabellose Kopfhörer mit Geräuschunterdrückung", "de"),
    ("de-2", "Isolierte Trinkflasche aus Edelstahl", "de"),
    ("de-3", "Mechanische Gaming-Tastatur mit Beleuchtung", "de"),
    ("de-4", "Leichte Laufschuhe für Herren", "de"),
]
KOREAN = [
    ("ko-1", "무선 노이즈 캔슬링 헤드폰", "ko"),
    ("ko-2", "스테인리스 보온 물병", "ko"),
    ("ko-3", "기계식 게이밍 키보드", "ko"),
]


@pytest.fixture(scope="module")
def centring_settings(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Three documents make a language's centroid the catalog's own (the default asks for 30)."""
    return scratch_settings(settings, tmp_path_factory.mktemp("centring-home"), batch_size=4,
                            centring=settings.ingest.centring.model_copy(update={"min_documents": 3}))


@pytest.fixture(scope="module")
def workers(centring_settings: Settings) -> Iterator[None]:
    with live_workers(centring_settings):
        yield


@pytest.fixture
def alias(index_name: str) -> str:
    """A new alias: its versions are dropped after the test (index_name)."""
    return index_name


def load(settings: Settings, path: Path, products: list[tuple[str, str, str]], index: str, **options) -> JobRecord:
    path.write_text("".join(json.dumps({"id": i, "title": t, "lang": lang}, ensure_ascii=False) + "\n"
                            for i, t, lang in products), encoding="utf-8")
    job = build_ingest_job(settings).run(read_records(path), str(path), index, **options)
    assert job.state == "done" and job.counts.indexed == len(products), job
    return job


def stored(client: OpenSearch, index: str, doc_id: str) -> dict:
    return client.get(index=index, id=doc_id)["_source"]


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b) / np.linalg.norm(a) / np.linalg.norm(b))


# A worker's int8 vectors differ slightly with the batch they were embedded in, and centring (which shortens the
# vector before normalising) magnifies that: the stored vector is within 0.98 of this process's centred vector,
# where the encoder's uncentred vector is about 0.5 away.
SAME_CENTRED = 0.98


def test_a_new_version_records_its_centroids_and_centres_every_vector_with_them(
        workers: None, centring_settings: Settings, client: OpenSearch, fixture_search: tuple[HybridSearcher, str],
        alias: str, tmp_path: Path) -> None:
    encoder = fixture_search[0].encoder
    load(centring_settings, tmp_path / "catalog.jsonl", CATALOG, alias)
    centroids = centroids_of(client, alias)
    assert centroids is not None
    assert {lang: centroids.of(lang).source for lang in ("en", "de", "th")} == {
        "en": "catalog", "de": "catalog", "th": "reference"}
    for doc_id, title, lang in CATALOG:
        document = stored(client, alias, doc_id)
        assert document["centring"]["id"] == centroids.id
        raw = encoder.encode_passages([title])
        expected, _ = centroids.centre_passages(raw, [lang])
        assert cosine(np.asarray(document["embedding"]), expected[0]) > SAME_CENTRED, doc_id
        assert cosine(np.asarray(document["embedding"]), raw[0]) < 0.9, doc_id


def test_a_query_in_a_language_the_catalog_lacks_is_centred_with_the_reference_centroid(
        workers: None, centring_settings: Settings, client: OpenSearch, fixture_search: tuple[HybridSearcher, str],
        alias: str, tmp_path: Path) -> None:
    searcher = fixture_search[0]
    load(centring_settings, tmp_path / "catalog.jsonl", CATALOG, alias)
    text = "หูฟังไร้สาย"
    query, _, _ = searcher.prepare(text, index=alias, lang="th")
    centroids = centroids_of(client, alias)
    assert centroids is not None and centroids.of("th").source == "reference"
    expected = centroids.centre_queries(searcher.encoder.encode_queries([text]), ["th"])[0]
    assert cosine(np.asarray(query.vector), expected) > 0.9999
    assert cosine(np.asarray(query.vector), searcher.encoder.encode_queries([text])[0]) < 0.99, "centring moved it"


def test_an_index_refuses_vectors_that_were_not_centred_with_its_centroids(
        workers: None, centring_settings: Settings, client: OpenSearch, fixture_search: tuple[HybridSearcher, str],
        alias: str, tmp_path: Path) -> None:
    searcher = fixture_search[0]
    load(centring_settings, tmp_path / "catalog.jsonl", CATALOG, alias)
    index = alias_indices(client, alias)[0]
    raw = [PreparedRecord(position=1, product=CatalogProduct(id="raw-1", title="Espresso machine"),
                          language=LanguageGuess("en", 1.0, "declared"))]
    embedded = embed_records(raw, searcher.encoder, {}, index, searcher.analyzed)  # no centroids: raw vectors
    outcome = index_embedded(client, index, embedded, refresh=True, centroids=centroids_of(client, index))
    assert outcome["indexed"] == 0
    assert [rejection["record_id"] for rejection in outcome["rejected"]] == ["raw-1"]
    assert "centred" in outcome["rejected"][0]["reason"]
    assert not client.exists(index=index, id="raw-1")


def test_a_new_version_estimates_new_centroids_and_recentres_stored_vectors_without_embedding_them(
        workers: None, centring_settings: Settings, client: OpenSearch, fixture_search: tuple[HybridSearcher, str],
        alias: str, tmp_path: Path) -> None:
    encoder = fixture_search[0].encoder
    load(centring_settings, tmp_path / "first.jsonl", CATALOG, alias)
    first = centroids_of(client, alias)
    job = load(centring_settings, tmp_path / "second.jsonl", CATALOG + KOREAN, alias, new_version=True)
    second = centroids_of(client, alias)
    assert first is not None and second is not None and second.id != first.id
    assert second.of("ko").source == "catalog"
    assert (job.counts.cache_hits, job.counts.embedded) == (len(CATALOG), len(KOREAN))
    expected, _ = second.centre_passages(encoder.encode_passages([CATALOG[0][1]]), [CATALOG[0][2]])
    reused = stored(client, alias, CATALOG[0][0])
    assert reused["centring"]["id"] == second.id
    assert cosine(np.asarray(reused["embedding"]), expected[0]) > SAME_CENTRED


def test_a_reindex_estimates_its_centroids_anew_with_the_current_settings(
        workers: None, centring_settings: Settings, client: OpenSearch, alias: str, tmp_path: Path) -> None:
    load(centring_settings, tmp_path / "catalog.jsonl", CATALOG, alias)
    before = centroids_of(client, alias)
    stricter = centring_settings.ingest.centring.model_copy(update={"min_documents": 100})
    settings = centring_settings.model_copy(update={"ingest": centring_settings.ingest.model_copy(
        update={"centring": stricter})})
    # what `lingodex reindex` runs: the products stored in the serving version, into a new version
    job = build_ingest_job(settings).run(stored_records(client, alias_indices(client, alias)[0]), "reindex", alias,
                                         new_version=True)
    after = centroids_of(client, alias)
    assert job.state == "done" and (job.counts.indexed, job.counts.embedded) == (len(CATALOG), 0)
    assert before is not None and after is not None and after.id != before.id
    assert (before.of("en").source, after.of("en").source) == ("catalog", "reference")


def test_with_centring_off_a_new_version_keeps_the_encoders_vectors(
        workers: None, centring_settings: Settings, client: OpenSearch, fixture_search: tuple[HybridSearcher, str],
        alias: str, tmp_path: Path) -> None:
    off = centring_settings.model_copy(update={"ingest": centring_settings.ingest.model_copy(update={
        "centring": centring_settings.ingest.centring.model_copy(update={"enabled": False})})})
    load(off, tmp_path / "catalog.jsonl", CATALOG, alias)
    assert centroids_of(client, alias) is None
    document = stored(client, alias, "en-1")
    assert "centring" not in document
    raw = fixture_search[0].encoder.encode_passages([CATALOG[0][1]])[0]
    assert cosine(np.asarray(document["embedding"]), raw) > 0.99
