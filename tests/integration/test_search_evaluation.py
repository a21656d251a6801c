"""Evaluation on the real node: lingodex's trec_eval numbers agree with OpenSearch's `_rank_eval`."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from lingodex.search_templates.relevance.evaluation import evaluate, run_queries
from lingodex.search_templates.search_params import DEFAULT_PARAMS_FILE, Boosts, LanguageParams, SearchParams, load_search_params
from lingodex.search_templates.relevance.tuning import POOLED, tune, write_params
from lingodex.search_templates.relevance.rank_eval import rank_eval
from lingodex.search_templates.searcher import HybridSearcher, retriever
from lingodex.search_templates.templates import DENSE, LEXICAL
from tests.integration.test_search_relevance import CROSS_LINGUAL, KNOWN
from tests.search_fixture import judged_known_queries, judged_titles

JUDGED = judged_known_queries([*KNOWN, CROSS_LINGUAL])


def params_for(searcher: HybridSearcher, index: str):  # noqa: ANN201
    return lambda query: searcher.template_params_for(query.text, index=index, lang=query.lang)


@pytest.mark.parametrize(("strategy", "template"), [("lexical", LEXICAL), ("dense", DENSE)])
def test_our_recall_and_mrr_equal_rank_evals_for_the_same_template(
        fixture_search: tuple[HybridSearcher, str], strategy: str, template: str) -> None:
    searcher, index = fixture_search
    ours = evaluate(JUDGED, *run_queries(JUDGED, retriever(searcher, index, strategy))).overall

    alias = f"{index}-alias"  # ratings must name the index behind an alias, as its hits do
    searcher.client.indices.put_alias(index=index, name=alias)
    theirs = rank_eval(searcher.client, alias, JUDGED, template, params_for(searcher, alias))
    assert 0 < ours["recall@10"] < 1, "a measurement that can move either way"
    assert ours["recall@10"] == pytest.approx(theirs["recall@10"], abs=1e-6)
    assert ours["mrr@10"] == pytest.approx(theirs["mrr@10"], abs=1e-6)


def test_rank_eval_ndcg_is_higher_when_a_query_returns_fewer_hits_than_it_has_relevant_documents(
        fixture_search: tuple[HybridSearcher, str]) -> None:
    """OpenSearch's ideal DCG counts only as many ratings as there are hits; trec_eval's counts them all."""
    shared, index = fixture_search
    # whole words only (character trigrams off): one lexical hit, seven relevant listings
    words_only = SearchParams(default=LanguageParams(boosts=Boosts(title_trigrams=0.0)))
    searcher = HybridSearcher(shared.client, shared.encoder, words_only, shared.detector, shared.analyzed)
    one = [query for query in JUDGED if query.text == "Laufschuhe"]

    ours = evaluate(one, *run_queries(one, retriever(searcher, index, "lexical"))).overall["ndcg@10"]
    assert rank_eval(searcher.client, index, one, LEXICAL, params_for(searcher, index))["ndcg@10"] == pytest.approx(1.0)
    assert ours == pytest.approx(1 / sum(1 / math.log2(rank + 1) for rank in range(1, 8)))


def test_hybrid_is_evaluated_per_query_language(fixture_search: tuple[HybridSearcher, str]) -> None:
    searcher, index = fixture_search
    report = evaluate(JUDGED, *run_queries(JUDGED, retriever(searcher, index, "hybrid")))
    assert report.queries == {"all": 10, "en": 1, "es": 2, "de": 2, "fr": 1, "ja": 2, "zh": 1, "ko": 1}
    assert report.per_language["es"]["mrr@10"] > 0


def test_tuning_chooses_per_language_parameters_within_the_grids_best_and_writes_them_for_the_searcher(
        fixture_search: tuple[HybridSearcher, str], tmp_path: Path) -> None:
    searcher, index = fixture_search
    tuned, outcomes = tune(searcher, index, judged_titles(), held_out=0.3, min_queries=5)
    assert {outcome.lang for outcome in outcomes} == {POOLED, "en", "es", "de", "fr", "ja", "zh", "ko"}
    assert all(max(outcome.tuned_before, outcome.tuned_after) <= outcome.tuned_best for outcome in outcomes)
    assert all(outcome.held_out_queries > 0 and 0 <= outcome.held_out_after <= 1 for outcome in outcomes)
    write_params(tuned, tmp_path / "tuned.yaml", header_from=DEFAULT_PARAMS_FILE)
    reloaded = load_search_params(tmp_path / "tuned.yaml")
    assert {outcome.stage for outcome in outcomes} == {"lexical", "fusion"}
    for outcome in outcomes:  # the fusion stage chose on the lexical stage's boosts: its choices are what was written
        if outcome.stage == "fusion":
            assert (reloaded.default if outcome.lang == POOLED else reloaded.for_language(outcome.lang)) == outcome.chosen


def test_a_language_with_four_queries_keeps_the_pooled_parameters(fixture_search: tuple[HybridSearcher, str]) -> None:
    searcher, index = fixture_search
    judged = judged_titles()
    korean = [query for query in judged if query.lang == "ko"]
    judged = [query for query in judged if query.lang != "ko"] + korean[:4]
    tuned, outcomes = tune(searcher, index, judged, held_out=0.0, min_queries=5)
    assert "ko" not in {outcome.lang for outcome in outcomes}
    pooled = next(o.chosen for o in outcomes if o.lang == POOLED and o.stage == "fusion")
    assert tuned.for_language("ko") == tuned.default == pooled


def test_a_tuned_file_pages_past_twenty(fixture_search: tuple[HybridSearcher, str], tmp_path: Path) -> None:
    searcher, index = fixture_search
    tuned, _ = tune(searcher, index, judged_titles(), held_out=0.3, min_queries=5)
    write_params(tuned, tmp_path / "tuned.yaml", header_from=DEFAULT_PARAMS_FILE)
    paged = HybridSearcher(searcher.client, searcher.encoder, load_search_params(tmp_path / "tuned.yaml"),
                           searcher.detector, searcher.analyzed)
    for lang, text in [("en", "headphones"), ("ja", "ヘッドホン"), ("de", "Kopfhörer")]:
        whole = [hit.id for hit in paged.search(index, text, lang=lang, size=30).hits]
        page = [hit.id for hit in paged.search(index, text, lang=lang, size=10, offset=20).hits]
        assert len(whole) == 30 and page == whole[20:30]
