"""Hubness: documents that sit close to almost everything crowd dense results; each gets a score that lets queries discount them.

In a high-dimensional embedding space a few vectors are among the nearest
neighbours of far more points than the rest ("hubs"): a short, generic title,
or a sentence in a language whose texts bunch together. They answer many
queries badly. The remedy from cross-lingual retrieval (CSLS, Conneau et al.
2018) ranks a document by its similarity to the query minus the mean
similarity to its own nearest neighbours. That mean needs the whole catalog,
so it is computed here, after a load, with the index's own k-NN search, and
stored in each document as its ``isolation``:

    isolation = (the best score the index's space gives) - mean k-NN score of its ``neighbours`` nearest others

(never negative, so that a function_score can add it). A dense query adds
``hubness_penalty × isolation`` to each k-NN candidate's score
(search_templates/templates/lingodex-dense.mustache): candidates are ranked by
their score minus the penalty times their neighbours' mean score. Measured in
BENCHMARKS.md, "Hubness".

Every load scores the documents that have no isolation yet (new ones, and
changed ones, which are indexed whole); scores of documents already there are
kept, like the language centroids, until `lingodex reindex` builds a version
anew. The index's ``_meta.hubness`` records the neighbour count and the
median isolation, which a query uses for a document left unscored.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from opensearchpy import OpenSearch, helpers

from lingodex.ingest.index.index_versions import record_meta

log = logging.getLogger(__name__)

FIELD = "isolation"
# The best k-NN score each space gives to unit vectors (Lucene's scores: cosinesimil (1 + cos) / 2,
# innerproduct 1 + dot for dot >= 0, l2 1 / (1 + distance²)).
BEST_SCORE = {"cosinesimil": 1.0, "innerproduct": 2.0, "l2": 1.0}
SEARCH_CHUNK = 100  # k-NN queries per _msearch
NEIGHBOUR_EF_SEARCH = 100  # HNSW candidates explored per neighbour search (k is only neighbours + 1)


@dataclass(frozen=True)
class Hubness:
    """What an index's isolation scores were made with, from its ``_meta.hubness``."""

    neighbours: int
    median_isolation: float
    scored: int

    def to_meta(self) -> dict[str, Any]:
        return {"neighbours": self.neighbours, "median_isolation": round(self.median_isolation, 6), "scored": self.scored}

    @classmethod
    def from_meta(cls, meta: dict[str, Any] | None) -> Hubness | None:
        if not meta or "hubness" not in meta:
            return None
        found = meta["hubness"]
        return cls(int(found["neighbours"]), float(found["median_isolation"]), int(found["scored"]))


def has_isolation_field(client: OpenSearch, index: str) -> bool:
    """Indices made before mapping schema 4 cannot hold the score (their mapping is strict)."""
    mappings = client.indices.get_mapping(index=index)
    return all(FIELD in body["mappings"].get("properties", {}) for body in mappings.values())


def hubness_of(client: OpenSearch, index: str) -> Hubness | None:
    """The index's hubness record (None: never scored, so queries leave it out). An alias over several versions
    uses the first version's median; its documents' own scores are what matters."""
    mappings = client.indices.get_mapping(index=index)
    found = [Hubness.from_meta(body["mappings"].get("_meta")) for body in mappings.values()]
    return next((hubness for hubness in found if hubness is not None), None)


def score_unscored(client: OpenSearch, index: str, *, neighbours: int, ef_search: int | None = NEIGHBOUR_EF_SEARCH,
                   on_progress: Callable[[int, int], None] = lambda done, total: None) -> Hubness:
    """Give every document of ``index`` that has no isolation one; record the median in ``_meta.hubness``.

    The index must be refreshed (its new documents searchable). Returns what was recorded.
    """
    space = _space_type(client, index)
    unscored = {"bool": {"must_not": {"exists": {"field": FIELD}}}}
    total = client.count(index=index, body={"query": unscored})["count"]
    done = 0
    actions = _updates(client, index, unscored, neighbours, BEST_SCORE[space], ef_search)
    for ok, item in helpers.streaming_bulk(client, actions, chunk_size=500, max_retries=3, raise_on_error=False):
        done += 1
        if not ok and item.get("update", {}).get("status") != 404:  # deleted meanwhile: nothing to score
            raise RuntimeError(f"could not store the isolation of document {item.get('update', {}).get('_id')} in "
                               f"{index}: {item.get('update', {}).get('error')}")
        if done % 1000 == 0 or done == total:
            on_progress(done, total)
    client.indices.refresh(index=index)
    hubness = Hubness(neighbours, _median_isolation(client, index), done)
    record_meta(client, index, "hubness", hubness.to_meta())
    return hubness


def _updates(client: OpenSearch, index: str, unscored: dict[str, Any], neighbours: int, best: float,
             ef_search: int | None) -> Iterator[dict[str, Any]]:
    """A partial update per unscored document, its neighbours found by k-NN queries, SEARCH_CHUNK per _msearch."""
    chunk: list[tuple[str, list[float]]] = []
    for hit in helpers.scan(client, index=index, query={"query": unscored, "_source": ["embedding"]}, size=SEARCH_CHUNK):
        chunk.append((hit["_id"], hit["_source"]["embedding"]))
        if len(chunk) == SEARCH_CHUNK:
            yield from _scored(client, index, chunk, neighbours, best, ef_search)
            chunk = []
    if chunk:
        yield from _scored(client, index, chunk, neighbours, best, ef_search)


def _scored(client: OpenSearch, index: str, chunk: list[tuple[str, list[float]]], neighbours: int, best: float,
            ef_search: int | None) -> Iterator[dict[str, Any]]:
    lines: list[dict[str, Any]] = []
    for _, vector in chunk:
        knn: dict[str, Any] = {"vector": vector, "k": neighbours + 1}
        if ef_search:
            knn["method_parameters"] = {"ef_search": ef_search}
        lines += [{"index": index}, {"size": neighbours + 1, "_source": False, "query": {"knn": {"embedding": knn}}}]
    responses = client.msearch(body=lines)["responses"]
    for (doc_id, _), response in zip(chunk, responses, strict=True):
        if "error" in response:
            raise RuntimeError(f"the k-NN search for the neighbours of {doc_id} in {index} failed: {response['error']}")
        scores = [hit["_score"] for hit in response["hits"]["hits"] if hit["_id"] != doc_id][:neighbours]
        isolation = max(0.0, best - sum(scores) / len(scores)) if scores else best  # alone in its index
        yield {"_op_type": "update", "_index": index, "_id": doc_id, "doc": {FIELD: isolation}}


def _median_isolation(client: OpenSearch, index: str) -> float:
    response = client.search(index=index, body={"size": 0, "aggs": {"median": {"percentiles": {
        "field": FIELD, "percents": [50]}}}})
    value = response["aggregations"]["median"]["values"].get("50.0")
    return float(value) if value is not None else 0.0


def _space_type(client: OpenSearch, index: str) -> str:
    mapping = client.indices.get_mapping(index=index)[index]["mappings"]["properties"]["embedding"]
    return str(mapping.get("space_type", "l2"))  # the k-NN plugin's default space

