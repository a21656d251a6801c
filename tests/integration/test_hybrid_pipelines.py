"""Hybrid queries fused server-side by neural-search search pipelines."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from opensearchpy import OpenSearch

from lingodex.ingest.index.documents import PreparedRecord, to_document
from lingodex.ingest.index.indexer import bulk_index, recreate_index
from lingodex.ingest.catalog.language import LanguageGuess
from lingodex.ingest.index.mappings import EncoderIdentity, index_body, language_fields
from lingodex.ingest.catalog.schema import CatalogProduct
from lingodex.search_templates.pipelines import HYBRID_MINMAX, HYBRID_RRF, pipeline_body, put_pipeline
from lingodex.search_templates.query_builder import SearchQuery, template_params
from lingodex.search_templates.search_params import LanguageParams
from lingodex.search_templates.templates import HYBRID, push_templates

# Two-dimensional "embeddings" make the dense ranking obvious: query [1, 0].
CATALOG = {
    "a": ("red running shoes", [1.0, 0.0]),
    "b": ("red shoes", [0.6, 0.8]),
    "c": ("blue hat", [0.0, 1.0]),
    "d": ("green socks", [0.8, 0.6]),
}
QUERY_VECTOR = [1.0, 0.0]


@pytest.fixture
def catalog_index(client: OpenSearch, index_name: str) -> str:
    recreate_index(client, index_name, index_body("products", encoder=EncoderIdentity("test-2d", "none", 2)))
    languages = language_fields("products")
    english = LanguageGuess("en", 1.0, "declared")
    documents = [
        to_document(PreparedRecord(position=1, product=CatalogProduct(id=doc_id, title=title), language=english),
                    vector, languages)
        for doc_id, (title, vector) in CATALOG.items()
    ]
    assert not bulk_index(client, index_name, documents, refresh=True).rejected
    return index_name


@pytest.fixture
def pipeline(client: OpenSearch) -> Iterator[callable]:
    """Put a uniquely named pipeline for one test and delete it afterwards."""
    created: list[str] = []

    def put(body: dict) -> str:
        name = f"test-pipeline-{uuid.uuid4().hex[:6]}"
        put_pipeline(client, name, body)
        created.append(name)
        return name

    yield put
    for name in created:
        client.transport.perform_request("DELETE", f"/_search/pipeline/{name}")


def minmax_pipeline(weights: list[float]) -> dict:
    body = pipeline_body(HYBRID_MINMAX)
    body["phase_results_processors"][0]["normalization-processor"]["combination"]["parameters"]["weights"] = weights
    return body


def search(client: OpenSearch, index: str, pipeline_name: str, text: str) -> list[tuple[str, float]]:
    push_templates(client)
    params = template_params(SearchQuery(text, "en", QUERY_VECTOR), LanguageParams(window=10, k=10), language_fields("products"))
    hits = client.search_template(index=index, body={"id": HYBRID, "params": params},
                                  params={"search_pipeline": pipeline_name})["hits"]["hits"]
    return [(hit["_id"], hit["_score"]) for hit in hits]


def test_shipped_pipelines_are_accepted_by_the_node(client: OpenSearch) -> None:
    for name in (HYBRID_MINMAX, HYBRID_RRF):
        put_pipeline(client, name)
        stored = client.transport.perform_request("GET", f"/_search/pipeline/{name}")[name]
        assert stored["phase_results_processors"] == pipeline_body(name)["phase_results_processors"]


def test_minmax_arithmetic_mean_gives_the_document_first_in_both_lists_a_score_of_one(
    client: OpenSearch, catalog_index: str, pipeline
) -> None:
    hits = search(client, catalog_index, pipeline(minmax_pipeline([0.3, 0.7])), "red running shoes")
    assert hits[0][0] == "a"
    assert hits[0][1] == pytest.approx(1.0, abs=1e-6)
    assert all(0.0 <= score <= 1.0 for _, score in hits)


def test_minmax_weights_decide_between_lexical_and_dense_winners(client: OpenSearch, catalog_index: str, pipeline) -> None:
    # "blue hat" matches only c lexically; the query vector [1, 0] is nearest to a.
    lexical_heavy = search(client, catalog_index, pipeline(minmax_pipeline([0.9, 0.1])), "blue hat")
    dense_heavy = search(client, catalog_index, pipeline(minmax_pipeline([0.1, 0.9])), "blue hat")
    assert lexical_heavy[0][0] == "c"
    assert dense_heavy[0][0] == "a"


def test_rrf_score_ranker_sums_reciprocal_ranks(client: OpenSearch, catalog_index: str, pipeline) -> None:
    rank_constant = pipeline_body(HYBRID_RRF)["phase_results_processors"][0]["score-ranker-processor"]["combination"]["rank_constant"]
    hits = dict(search(client, catalog_index, pipeline(pipeline_body(HYBRID_RRF)), "red running shoes"))
    # lexical ranks: a=1, b=2; dense ranks for [1, 0]: a=1, d=2, b=3, c=4
    assert hits["a"] == pytest.approx(2 / (rank_constant + 1), rel=1e-5)
    assert hits["b"] == pytest.approx(1 / (rank_constant + 2) + 1 / (rank_constant + 3), rel=1e-5)
    assert hits["c"] == pytest.approx(1 / (rank_constant + 4), rel=1e-5)
