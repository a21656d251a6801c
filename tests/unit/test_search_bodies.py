"""Hybrid request bodies and the search pipeline files."""

import json

import pytest

from search_templates.hybrid import hybrid_request
from search_templates.pipelines import HYBRID_MINMAX, HYBRID_RRF, available_pipelines, pipeline_body


def test_hybrid_request_puts_lexical_first_and_dense_second() -> None:
    body = hybrid_request("wireless headphones", [0.1, 0.2], "en", size=5, window=40)
    lexical, dense = body["query"]["hybrid"]["queries"]
    assert lexical["multi_match"]["query"] == "wireless headphones"
    assert lexical["multi_match"]["fields"][0] == "title.en^3"
    assert dense == {"knn": {"embedding": {"vector": [0.1, 0.2], "k": 40}}}
    assert body["size"] == 5


def test_hybrid_request_is_plain_json_even_for_numpy_vectors() -> None:
    np = pytest.importorskip("numpy")
    body = hybrid_request("q", np.array([0.5, 0.25], dtype=np.float32), "en")
    assert json.loads(json.dumps(body))["query"]["hybrid"]["queries"][1]["knn"]["embedding"]["vector"] == [0.5, 0.25]


def test_both_shipped_pipelines_are_available() -> None:
    assert {HYBRID_MINMAX, HYBRID_RRF} <= set(available_pipelines())


def test_minmax_pipeline_has_one_weight_per_sub_query() -> None:
    processor = pipeline_body(HYBRID_MINMAX)["phase_results_processors"][0]["normalization-processor"]
    weights = processor["combination"]["parameters"]["weights"]
    assert len(weights) == 2
    assert sum(weights) == pytest.approx(1.0)
