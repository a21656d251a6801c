"""Judgment files and metrics: trec_eval's numbers, grouped per query language."""

import json
from pathlib import Path

import pytest

from lingodex.search_templates.relevance.evaluation import JudgedQuery, evaluate, load_judgments, run_queries

JUDGED = [JudgedQuery("q1", "kettle", "en", {"a": 1, "b": 1}), JudgedQuery("q2", "Kessel", "de", {"c": 2})]


def run_of(rankings: dict[str, list[str]], langs: dict[str, str] | None = None):
    return run_queries(JUDGED, lambda q: ([(doc, 1.0) for doc in rankings.get(q.id, [])], (langs or {}).get(q.id, q.lang)))


def test_a_perfect_ranking_scores_one_everywhere() -> None:
    report = evaluate(JUDGED, *run_of({"q1": ["a", "b"], "q2": ["c"]}))
    assert report.overall == {"ndcg@10": 1.0, "recall@10": 1.0, "recall@100": 1.0, "mrr@10": 1.0}


def test_a_query_with_no_hits_counts_as_zero_not_as_missing() -> None:
    report = evaluate(JUDGED, *run_of({"q1": ["a", "b"]}))
    assert report.overall["mrr@10"] == pytest.approx(0.5)
    assert report.queries["all"] == 2


def test_rank_order_is_kept_whatever_the_scores() -> None:
    report = evaluate(JUDGED, *run_of({"q1": ["x", "a"], "q2": ["c"]}))
    assert report.per_query["q1"]["mrr@10"] == pytest.approx(0.5)


def test_a_relevant_document_below_rank_ten_counts_for_recall_at_100_only() -> None:
    report = evaluate(JUDGED, *run_of({"q1": [f"x{i}" for i in range(10)] + ["a", "b"], "q2": ["c"]}))
    assert report.per_query["q1"]["recall@10"] == 0.0 and report.per_query["q1"]["recall@100"] == 1.0
    assert report.per_query["q1"]["mrr@10"] == 0.0


def test_metrics_are_grouped_by_query_language() -> None:
    report = evaluate(JUDGED, *run_of({"q1": ["a", "b"], "q2": []}))
    assert report.per_language["en"]["ndcg@10"] == 1.0 and report.per_language["de"]["ndcg@10"] == 0.0
    assert report.queries == {"all": 2, "en": 1, "de": 1}


def test_json_judgments_load_from_a_list_or_json_lines(tmp_path: Path) -> None:
    item = {"id": 7, "query": "kettle", "lang": "en", "relevant": {"a": 1}}
    (tmp_path / "list.json").write_text(json.dumps([item]))
    (tmp_path / "lines.jsonl").write_text(json.dumps(item) + "\n")
    expected = [JudgedQuery("7", "kettle", "en", {"a": 1})]
    assert load_judgments(tmp_path / "list.json") == load_judgments(tmp_path / "lines.jsonl") == expected


def test_trec_qrels_load_with_a_topics_file(tmp_path: Path) -> None:
    (tmp_path / "qrels").write_text("q1 0 a 1\nq1 0 b 0\nq2 0 c 2\n")
    (tmp_path / "topics.tsv").write_text("q1\tkettle\ten\nq2\tKessel\n")
    loaded = load_judgments(tmp_path / "qrels", tmp_path / "topics.tsv")
    assert loaded == [JudgedQuery("q1", "kettle", "en", {"a": 1, "b": 0}), JudgedQuery("q2", "Kessel", None, {"c": 2})]
