"""Template parameters for a query, filters, and the search pipelines built from per-language parameters."""

import json

import numpy as np
import pytest

from lingodex.ingest.index.mappings import PRODUCTS, language_fields
from lingodex.search_templates.filters import FilterError, Filters, parse_filters
from lingodex.search_templates.pipelines import HYBRID_MINMAX, HYBRID_RRF, fusion_pipeline, pipeline_body
from lingodex.search_templates.query_builder import SearchQuery, check_page, searchable_text, template_params, window_params
from lingodex.search_templates.search_params import Boosts, LanguageParams
from lingodex.search_templates.templates import DENSE, HYBRID, LEXICAL, template_ids

ANALYZED = language_fields(PRODUCTS)


def params_for(lang: str = "en", filters: Filters | None = None, **params) -> dict:
    query = SearchQuery("wireless headphones", lang, [0.1, 0.2], filters or Filters(), size=5)
    return template_params(query, LanguageParams(**params), ANALYZED)


def test_the_query_languages_fields_carry_their_boosts() -> None:
    assert params_for("de", boosts=Boosts(title=3.0, description=1.0))["own_fields"] == ["title.de^3.0", "description.de^1.0"]


def test_every_query_searches_the_language_agnostic_fields_whatever_its_language() -> None:
    for lang in ("de", "id", "und", "tlh"):
        assert params_for(lang)["any_fields"] == ["title_all^1.0", "description_all^0.3"]


def test_fields_boosted_zero_are_left_out_and_their_clause_with_them() -> None:
    params = params_for("de", boosts=Boosts(title=0.0, description=0.0))
    assert (params["own_fields"], params["has_own"]) == ([], False)
    assert params_for("de", boosts=Boosts(title=1.0, title_all=0.0, description_all=0.0))["has_any"] is False


def test_boosts_that_search_no_title_are_refused() -> None:
    with pytest.raises(ValueError, match="no title is searched"):
        Boosts(title=0.0, title_all=0.0)


def test_the_fallback_languages_titles_are_searched_at_the_lower_boost() -> None:
    assert params_for("de", fallback_languages=["en", "ja", "other"], boosts=Boosts(other_languages=0.5))["other_fields"] == [
        "title.en^0.5", "title.ja^0.5", "title.other^0.5"]


def test_the_query_languages_own_title_is_not_repeated_as_a_fallback() -> None:
    params = params_for("en", fallback_languages=["en", "other"], boosts=Boosts(other_languages=0.5))
    assert params["other_fields"] == ["title.other^0.5"]
    assert params_for("en", fallback_languages=["en"], boosts=Boosts(other_languages=0.5))["cross_lingual"] is False


def test_a_zero_fallback_boost_turns_the_cross_lingual_clause_off() -> None:
    assert params_for(boosts=Boosts(other_languages=0))["cross_lingual"] is False


def test_dense_search_discounts_hubs_only_where_the_index_has_isolation_scores() -> None:
    scored = SearchQuery("headphones", "en", [0.1, 0.2], isolation_missing=0.3)
    params = template_params(scored, LanguageParams(hubness_penalty=0.25), ANALYZED)
    assert (params["penalise_hubs"], params["hubness_penalty"], params["isolation_missing"]) == (True, 0.25, 0.3)
    assert template_params(scored, LanguageParams(hubness_penalty=0.0), ANALYZED)["penalise_hubs"] is False
    unscored = SearchQuery("headphones", "en", [0.1, 0.2])
    assert template_params(unscored, LanguageParams(hubness_penalty=0.25), ANALYZED)["penalise_hubs"] is False


def test_a_long_query_is_cut_at_a_space_below_the_limit() -> None:
    assert searchable_text("wireless " * 100, 64) == ("wireless " * 7).rstrip()
    assert searchable_text("ケトル" * 100, 64) == ("ケトル" * 100)[:64], "no space near the end: cut at the limit"
    assert searchable_text("short", 64) == "short"


def test_a_language_without_its_own_analyzer_searches_the_icu_field() -> None:
    assert params_for("tlh", boosts=Boosts(title=1.0))["own_fields"][0].startswith("title.other^")


def test_filters_travel_as_clauses_for_both_sub_queries() -> None:
    filters = parse_filters(["brand=Acme,Orca", "price=10..100"])
    params = params_for(filters=filters)
    assert params["filters"] == [{"terms": {"brand": ["Acme", "Orca"]}}, {"range": {"price": {"gte": 10.0, "lte": 100.0}}}]
    assert params["has_filters"] is True
    assert params_for()["has_filters"] is False


def test_the_fusion_window_bounds_hybrid_pagination() -> None:
    query = SearchQuery("q", "en", [0.1], size=10, offset=95)
    with pytest.raises(ValueError, match="fusion window"):
        check_page(query, LanguageParams(window=100, k=100))
    check_page(SearchQuery("q", "en", [0.1], size=10, offset=90), LanguageParams(window=100, k=100))


def test_client_side_sub_queries_fetch_the_whole_window_from_the_top() -> None:
    query = SearchQuery("q", "en", [0.1], size=10, offset=20)
    params = window_params(query, LanguageParams(window=40, k=60), ANALYZED)
    assert (params["from"], params["size"], params["window"], params["k"]) == (0, 40, 40, 60)


def test_parameters_are_plain_json_even_for_numpy_vectors() -> None:
    query = SearchQuery("q", "en", np.array([0.5, 0.25], dtype=np.float32))
    assert json.loads(json.dumps(template_params(query, LanguageParams(), ANALYZED)))["vector"] == [0.5, 0.25]


def test_the_three_strategies_ship_as_templates() -> None:
    assert {LEXICAL, DENSE, HYBRID} <= set(template_ids())


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
    assert all(pipeline_body(name)["phase_results_processors"] for name in (HYBRID_MINMAX, HYBRID_RRF))


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
