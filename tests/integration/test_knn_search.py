"""k-NN queries on HNSW fields return the nearest vectors first."""

from pathlib import Path

import pytest
from opensearchpy import OpenSearch

REPO = Path(__file__).resolve().parents[2]


def _local_node_has_faiss() -> bool:
    libs = REPO.glob(".lingodex/opensearch/opensearch-*/plugins/opensearch-knn/lib/libopensearchknn_faiss*.so")
    return any(libs)


ENGINES = [
    "lucene",
    pytest.param(
        "faiss",
        marks=pytest.mark.skipif(
            not _local_node_has_faiss(),
            reason="the opensearch-knn zip on Maven Central ships no native faiss library (JNI), so a "
            "faiss field would crash the local node; the official tarball/Docker image has it",
        ),
    ),
]


@pytest.mark.parametrize("engine", ENGINES)
def test_knn_query_on_an_hnsw_field_ranks_nearest_vectors_first(client: OpenSearch, index_name: str, engine: str) -> None:
    client.indices.create(index=index_name, body={
        "settings": {"index": {"knn": True, "number_of_shards": 1, "number_of_replicas": 0}},
        "mappings": {"properties": {"v": {
            "type": "knn_vector", "dimension": 3, "space_type": "l2",
            "method": {"name": "hnsw", "engine": engine, "parameters": {"m": 16, "ef_construction": 64}},
        }}},
    })
    vectors = {"far": [9, 9, 9], "near": [1, 0, 0], "nearest": [0.1, 0, 0], "middle": [3, 3, 0]}
    for doc_id, vector in vectors.items():
        client.index(index=index_name, id=doc_id, body={"v": vector})
    client.indices.refresh(index=index_name)

    response = client.search(index=index_name, body={"size": 4, "query": {"knn": {"v": {"vector": [0, 0, 0], "k": 4}}}})

    assert [hit["_id"] for hit in response["hits"]["hits"]] == ["nearest", "near", "middle", "far"]
