"""Hybrid request bodies, filters and the search pipelines built from per-language parameters."""

import json

import numpy as np
import pytest

from ingest.mappings import PRODUCTS, language_fields
from search_templates.filters import FilterError, Filters, parse_filters
from search_templates.pipelines import HYBRID_MINMAX, HYBRID_RRF, available_pipelines, fusion_pipeline
from search_templates.query_builder import SearchQuery, hybrid_body, sub_query_bodies
from search_templates.search_params import LanguageParams

ANALYZED = language_fields(PRODUCTS)


def body_for(lang: str = "en", filters: Filters | None = None, **params) -> dict:
    query = SearchQuery("wireless headphones", lang, [0.1, 0.2], filters or Filters(), size=5)
    return hybrid_body(query, LanguageParams(**params), ANALYZED)


def test_the_hybrid_query_puts_lexical_first_and_dense_second() -> None:
    lexical, dense = body_for()["query"]["hybrid"]["queries"]
    assert "bool" in lexical
    assert dense["knn"]["embedding"]["vector"] == [0.1, 0.2]


def test_the_lexical_query_searches_the_query_languages_fields_with_their_boosts() -> None:
    lexical = body_for("de")["query"]["hybrid"]["queries"][0]["bool"]
    own = lexical["should"][0]["multi_match"]["fields"]
    assert own == ["title.de^3.0", "description.de^1.0"]


def test_other_languages_titles_are_a_lower_weight_fallback_that_excludes_the_query_language() -> None:
    fallback = body_for("de")["query"]["hybrid"]["queries"][0]["bool"]["should"][-1]["multi_match"]["fields"]
    assert "title.de^0.5" not in fallback
    assert {"title.en^0.5", "title.ja^0.5", "title.other^0.5"} <= set(fallback)


def test_a_language_without_its_own_analyzer_searches_the_icu_field() -> None:
    own = body_for("tlh")["query"]["hybrid"]["queries"][0]["bool"]["should"][0]["multi_match"]["fields"]
    assert own[0].startswith("title.other^")


def test_filters_apply_to_the_lexical_and_inside_the_knn_sub_query() -> None:
    filters = parse_filters(["brand=Acme,Orca", "price=10..100"])
    lexical, dense = body_for(filters=filters)["query"]["hybrid"]["queries"]
    expected = [{"terms": {"brand": ["Acme", "Orca"]}}, {"range": {"price": {"gte": 10.0, "lte": 100.0}}}]
    assert lexical["bool"]["filter"] == expected
    assert dense["knn"]["embedding"]["filter"] == {"bool": {"filter": expected}}


def test_without_filters_the_knn_query_has_no_filter() -> None:
    assert "filter" not in body_for()["query"]["hybrid"]["queries"][1]["knn"]["embedding"]


def test_the_fusion_window_bounds_pagination() -> None:
    query = SearchQuery("q", "en", [0.1], size=10, offset=95)
    with pytest.raises(ValueError, match="fusion window"):
        hybrid_body(query, LanguageParams(window=100, k=100), ANALYZED)


def test_the_window_is_the_pagination_depth_and_each_client_side_sub_query_size() -> None:
    params = LanguageParams(window=40, k=60)
    query = SearchQuery("q", "en", [0.1])
    assert hybrid_body(query, params, ANALYZED)["query"]["hybrid"]["pagination_depth"] == 40
    assert [body["size"] for body in sub_query_bodies(query, params, ANALYZED)] == [40, 40]


def test_bodies_are_plain_json_even_for_numpy_vectors() -> None:
    query = SearchQuery("q", "en", np.array([0.5, 0.25], dtype=np.float32))
    body = hybrid_body(query, LanguageParams(), ANALYZED)
    assert json.loads(json.dumps(body))["query"]["hybrid"]["queries"][1]["knn"]["embedding"]["vector"] == [0.5, 0.25]


@pytest.mark.parametrize(("expression", "clause"), [
    ("price=..50", {"range": {"price": {"lte": 50.0}}}),
    ("price=20..", {"range": {"price": {"gte": 20.0}}}),
    ("lang=ja", {"terms": {"lang": ["ja"]}}),
    ("category=Home > Kitchen", {"terms": {"category": ["Home > Kitchen"]}}),
])
def test_filter_expressions_become_clauses(expression: str, clause: dict) -> None:
    assert parse_filters([expression]).clauses() == [clause]


@pytest.mark.parametrize("expression", ["colour=red", "brand", "price=cheap", "brand="])
def test_a_bad_filter_is_refused_with_what_was_wrong(expression: str) -> None:
    with pytest.raises(FilterError, match="filter"):
        parse_filters([expression])


def test_both_shipped_pipeline_bodies_are_available() -> None:
    assert {HYBRID_MINMAX, HYBRID_RRF} <= set(available_pipelines())


def test_a_normalization_pipeline_carries_the_languages_technique_and_weights() -> None:
    _, body = fusion_pipeline(LanguageParams(lexical_weight=0.4, dense_weight=0.6, normalization="z_score",
                                             combination="harmonic_mean"))
    processor = body["phase_results_processors"][0]["normalization-processor"]
    assert processor["normalization"]["technique"] == "z_score"
    assert processor["combination"] == {"technique": "harmonic_mean", "parameters": {"weights": [0.4, 0.6]}}


def test_an_rrf_pipeline_carries_the_rank_constant() -> None:
    name, body = fusion_pipeline(LanguageParams(fusion="rrf", rank_constant=20))
    assert name.startswith("lingodex-rrf-")
    assert body["phase_results_processors"][0]["score-ranker-processor"]["combination"]["rank_constant"] == 20


def test_pipeline_names_change_with_their_parameters_and_only_then() -> None:
    first, _ = fusion_pipeline(LanguageParams(lexical_weight=0.3, dense_weight=0.7))
    again, _ = fusion_pipeline(LanguageParams(lexical_weight=0.3, dense_weight=0.7, window=50, k=50))
    other, _ = fusion_pipeline(LanguageParams(lexical_weight=0.5, dense_weight=0.5))
    assert first == again != other
