"""Comparing two configurations on one judged set: the paired randomization test and the report built from it."""

from __future__ import annotations

import numpy as np

from lingodex.search_templates.relevance.comparison import Comparison, compare, paired_test
from lingodex.search_templates.relevance.evaluation import METRICS, JudgedQuery, Report
from lingodex.workbench import report_html


def rng() -> np.random.Generator:
    return np.random.default_rng(7)


def report(scores: dict[str, float], languages: dict[str, str]) -> Report:
    per_query = {qid: dict.fromkeys(METRICS, score) for qid, score in scores.items()}
    by_language: dict[str, list[str]] = {}
    for qid, lang in languages.items():
        by_language.setdefault(lang, []).append(qid)
    mean = lambda ids: {metric: sum(per_query[q][metric] for q in ids) / len(ids) for metric in METRICS}  # noqa: E731
    return Report(mean(list(scores)), {lang: mean(ids) for lang, ids in by_language.items()},
                  {"all": len(scores), **{lang: len(ids) for lang, ids in by_language.items()}}, per_query, languages)


def test_identical_runs_are_never_significant() -> None:
    assert paired_test([0.5, 0.2, 0.9], [0.5, 0.2, 0.9], 1000, rng()).p_value == 1.0


def test_a_consistent_gain_over_thirty_queries_is_significant() -> None:
    base = np.linspace(0.2, 0.8, 30)
    found = paired_test(base, base + np.linspace(0.05, 0.15, 30), 5000, rng())
    assert found.p_value < 0.001 and found.mean_b > found.mean_a


def test_one_query_that_moved_among_three_is_not_significant() -> None:
    assert paired_test([0.5, 0.5, 0.5], [0.5, 0.5, 0.9], 5000, rng()).p_value > 0.2


def test_gains_and_losses_that_cancel_are_not_significant() -> None:
    a = [0.5] * 20
    b = [0.6, 0.4] * 10
    assert paired_test(a, b, 5000, rng()).p_value > 0.9


def test_queries_are_listed_largest_change_first_and_tested_per_language() -> None:
    judged = [JudgedQuery(q, f"text {q}", None, {"d": 1}) for q in ("q1", "q2", "q3")]
    languages = {"q1": "en", "q2": "en", "q3": "id"}
    found = compare(judged, report({"q1": 0.5, "q2": 0.1, "q3": 0.9}, languages),
                    report({"q1": 0.6, "q2": 0.7, "q3": 0.4}, languages), ("A.yaml", "B.yaml"), samples=500)
    assert [(q.id, q.lang, round(q.delta, 3)) for q in found.queries] == [("q2", "en", 0.6), ("q3", "id", -0.5),
                                                                         ("q1", "en", 0.1)]
    assert set(found.significance) == {"all", "en", "id"} and found.significance["id"].queries == 1
    assert Comparison.from_json(found.to_json()) == found


def test_the_report_page_escapes_names_and_draws_a_bar_pair_per_metric_and_language() -> None:
    judged = [JudgedQuery("q1", "<b>kettle</b>", None, {"d": 1})]
    languages = {"q1": "en"}
    page = report_html(compare(judged, report({"q1": 0.2}, languages), report({"q1": 0.7}, languages),
                               ("<A>", "B"), samples=100))
    assert "&lt;A&gt;" in page and "<A>" not in page and "&lt;b&gt;kettle&lt;/b&gt;" in page
    assert page.count("<svg") == 2  # all, en
    assert page.count("<rect") == 2 * 2 * len(METRICS)
    assert "+0.500" in page
