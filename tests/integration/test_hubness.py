"""Hubness scores through real workers into the real node: every load scores its documents, dense search discounts hubs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from opensearchpy import OpenSearch

from lingodex.ingest.catalog.readers import read_records
from lingodex.ingest.index.hubness import hubness_of
from lingodex.ingest.job import JobRecord
from lingodex.ingesting import build_ingest_job
from lingodex.search_templates.searcher import HybridSearcher
from lingodex.search_templates.templates import DENSE
from lingodex.settings import Settings
from tests.loads import live_workers, scratch_settings

HEADPHONES = [  # six near-identical titles: each other's nearest neighbours
    ("hp-1", "Wireless noise cancelling headphones, black"),
    ("hp-2", "Wireless noise cancelling headphones, white"),
    ("hp-3", "Wireless noise cancelling headphones, blue"),
    ("hp-4", "Wireless noise-cancelling headphones, black, 30 h battery"),
    ("hp-5", "Noise cancelling wireless headphones, silver"),
    ("hp-6", "Wireless headphones with noise cancelling, red"),
]
OUTLIER = ("hose-1", "Garden hose reel with 30 m of hose and a brass spray nozzle")
MORE = [("kb-1", "Mechanical gaming keyboard with RGB backlight"), ("kb-2", "Mechanical keyboard, brown switches")]


@pytest.fixture(scope="module")
def hubness_settings(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Three neighbours per document: the catalogs here are a few titles."""
    return scratch_settings(settings, tmp_path_factory.mktemp("hubness-home"), batch_size=4,
                            hubness=settings.ingest.hubness.model_copy(update={"neighbours": 3}))


@pytest.fixture(scope="module")
def workers(hubness_settings: Settings) -> Iterator[None]:
    with live_workers(hubness_settings):
        yield


def load(settings: Settings, path: Path, products: list[tuple[str, str]], index: str, **options) -> JobRecord:
    path.write_text("".join(json.dumps({"id": i, "title": t, "lang": "en"}) + "\n" for i, t in products),
                    encoding="utf-8")
    job = build_ingest_job(settings).run(read_records(path), str(path), index, **options)
    assert job.state == "done" and job.counts.indexed == len(products), job
    return job


def isolation(client: OpenSearch, index: str) -> dict[str, float | None]:
    hits = client.search(index=index, body={"size": 100, "_source": ["isolation"]})["hits"]["hits"]
    return {hit["_id"]: hit["_source"].get("isolation") for hit in hits}


def test_every_loaded_document_gets_an_isolation_score_and_the_version_records_their_median(
        workers: None, hubness_settings: Settings, client: OpenSearch, index_name: str, tmp_path: Path) -> None:
    job = load(hubness_settings, tmp_path / "catalog.jsonl", HEADPHONES + [OUTLIER], index_name)
    scores = isolation(client, index_name)
    assert job.hubness_scored == len(HEADPHONES) + 1
    assert set(scores) == {doc_id for doc_id, _ in HEADPHONES + [OUTLIER]}
    assert all(score is not None and 0 <= score <= 1 for score in scores.values()), scores
    recorded = hubness_of(client, index_name)
    assert recorded is not None and recorded.neighbours == 3 and recorded.scored == len(scores)
    ordered = sorted(score for score in scores.values() if score is not None)
    assert ordered[0] <= recorded.median_isolation <= ordered[-1]


def test_a_document_among_near_duplicates_is_less_isolated_than_an_unrelated_one(
        workers: None, hubness_settings: Settings, client: OpenSearch, index_name: str, tmp_path: Path) -> None:
    load(hubness_settings, tmp_path / "catalog.jsonl", HEADPHONES + [OUTLIER], index_name)
    scores = isolation(client, index_name)
    assert all(scores[OUTLIER[0]] > scores[doc_id] for doc_id, _ in HEADPHONES), scores  # type: ignore[operator]


def test_a_dense_score_is_the_knn_score_plus_the_penalty_times_the_documents_isolation(
        workers: None, hubness_settings: Settings, client: OpenSearch, fixture_search: tuple[HybridSearcher, str],
        index_name: str, tmp_path: Path) -> None:
    searcher = fixture_search[0]
    load(hubness_settings, tmp_path / "catalog.jsonl", HEADPHONES + [OUTLIER] + MORE, index_name)
    scores = isolation(client, index_name)
    query, _, params = searcher.prepare("bluetooth headphones", index=index_name, lang="en", size=9)
    assert query.isolation_missing is not None and params.hubness_penalty > 0
    plain = {hit.id: hit.score for hit in searcher.one_sub_query(
        index_name, query, params.model_copy(update={"hubness_penalty": 0.0}), DENSE)}
    penalised = {hit.id: hit.score for hit in searcher.one_sub_query(index_name, query, params, DENSE)}
    assert set(penalised) == set(plain) == set(scores)
    for doc_id, score in penalised.items():
        assert score == pytest.approx(plain[doc_id] + params.hubness_penalty * scores[doc_id], abs=1e-5), doc_id


def test_an_incremental_load_scores_its_new_documents_and_keeps_the_scores_already_there(
        workers: None, hubness_settings: Settings, client: OpenSearch, index_name: str, tmp_path: Path) -> None:
    load(hubness_settings, tmp_path / "first.jsonl", HEADPHONES, index_name)
    before = isolation(client, index_name)
    job = load(hubness_settings, tmp_path / "second.jsonl", MORE, index_name)
    after = isolation(client, index_name)
    assert job.hubness_scored == len(MORE)
    assert {doc_id: after[doc_id] for doc_id in before} == before
    assert all(after[doc_id] is not None for doc_id, _ in MORE)


def test_an_index_loaded_without_hubness_is_searched_by_knn_scores_alone(
        workers: None, hubness_settings: Settings, client: OpenSearch, fixture_search: tuple[HybridSearcher, str],
        index_name: str, tmp_path: Path) -> None:
    searcher = fixture_search[0]
    off = hubness_settings.model_copy(update={"ingest": hubness_settings.ingest.model_copy(update={
        "hubness": hubness_settings.ingest.hubness.model_copy(update={"enabled": False})})})
    job = load(off, tmp_path / "catalog.jsonl", HEADPHONES, index_name)
    assert job.hubness_scored is None and hubness_of(client, index_name) is None
    assert set(isolation(client, index_name).values()) == {None}
    query, _, params = searcher.prepare("bluetooth headphones", index=index_name, lang="en")
    assert query.isolation_missing is None
    with_penalty = [(hit.id, hit.score) for hit in searcher.one_sub_query(index_name, query, params, DENSE)]
    without = [(hit.id, hit.score) for hit in searcher.one_sub_query(
        index_name, query, params.model_copy(update={"hubness_penalty": 0.0}), DENSE)]
    assert with_penalty == without
