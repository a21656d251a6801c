"""The fusion grid as arrays scores every candidate exactly as fusing in Python and trec_eval do."""

import random

import pytest

from lingodex.search_templates.fusion import Ranked
from lingodex.search_templates.relevance.evaluation import JudgedQuery
from lingodex.search_templates.relevance.fusion_grid import FusionGrid, grid_report
from lingodex.search_templates.relevance.tuning import candidates, score
from lingodex.search_templates.search_params import LanguageParams


def random_windows(seed: int, queries: int = 60) -> tuple[list[JudgedQuery], dict[str, list[Ranked]]]:
    """Windows with what real ones have: overlaps, ties, one-sided hits, short and empty lists, graded judgments."""
    rng = random.Random(seed)
    judged, windows = [], {}
    for i in range(queries):
        pool = [f"d{rng.randrange(400)}" for _ in range(300)]
        lexical_docs = list(dict.fromkeys(pool[:rng.choice([0, 3, 40, 150, 220])]))
        dense_docs = list(dict.fromkeys(pool[100:100 + rng.choice([1, 60, 200])]))
        lexical = sorted(((doc, float(rng.choice([rng.uniform(0, 30), 7.0, 7.0]))) for doc in lexical_docs),
                         key=lambda hit: -hit[1])
        dense = sorted(((doc, rng.choice([rng.uniform(0.2, 0.95), 0.5])) for doc in dense_docs), key=lambda hit: -hit[1])
        relevant = {doc: rng.choice([0, 1, 1, 2, 3]) for doc in rng.sample(pool, 12)}
        if i % 7 == 0:
            relevant["never-found"] = 2
        judged.append(JudgedQuery(f"q{i}", "text", rng.choice(["en", "id"]), relevant))
        windows[f"q{i}"] = [Ranked(lexical), Ranked(dense)]
    return judged, windows


ODD = [LanguageParams(lexical_weight=0.35, dense_weight=0.65, window=150, k=150),
       LanguageParams(lexical_weight=1.0, dense_weight=0.0, combination="harmonic_mean", normalization="z_score"),
       LanguageParams(fusion="rrf", rank_constant=1, window=7, k=7)]


@pytest.mark.parametrize("seed", [1, 2])
def test_every_candidate_scores_each_query_as_python_fusion_and_trec_eval_do(seed: int) -> None:
    judged, windows = random_windows(seed)
    languages = {query.id: query.lang or "und" for query in judged}
    grid = FusionGrid(judged, windows)
    for params in [*candidates(LanguageParams()), *ODD]:
        expected = score(judged, windows, languages, params)
        got = grid_report(grid, judged, params, languages)
        assert set(got.per_query) == set(expected.per_query)
        for qid, metrics in expected.per_query.items():
            assert got.per_query[qid]["ndcg@10"] == pytest.approx(metrics["ndcg@10"], abs=1e-12), (params, qid)
        assert got.per_language["en"]["ndcg@10"] == pytest.approx(expected.per_language["en"]["ndcg@10"], abs=1e-12)


def test_equal_fused_scores_rank_in_document_id_order_as_the_searcher_pages_them() -> None:
    judged = [JudgedQuery("q", "text", "en", {"b": 1})]
    windows = {"q": [Ranked([("b", 1.0), ("a", 1.0)]), Ranked([])]}  # a and b tie; a ranks first by id
    report = grid_report(FusionGrid(judged, windows), judged, LanguageParams(), {"q": "en"})
    assert report.per_query["q"]["ndcg@10"] == pytest.approx(1 / 1.584962500721156)


def test_a_report_covers_only_the_queries_asked_for() -> None:
    judged, windows = random_windows(3, queries=10)
    grid = FusionGrid(judged, windows)
    report = grid_report(grid, judged[:4], LanguageParams(), {query.id: "en" for query in judged})
    assert set(report.per_query) == {query.id for query in judged[:4]} and report.queries["all"] == 4
