"""Two configurations on the same judged queries: per-language metrics side by side, per-query differences, and
whether the difference is more than chance (a paired randomization test).

The test is the one IR evaluation recommends for comparing two systems on
one query set (Smucker, Allan & Carterette, CIKM 2007): under the null
hypothesis the two runs are exchangeable per query, so each query's
difference is equally likely to have either sign; the p-value is the share of
random sign assignments whose mean difference is at least as far from zero as
the one observed. Two-sided, no normality assumed, seeded so a report is
reproducible.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from lingodex.search_templates.relevance.evaluation import METRICS, JudgedQuery, Report

SAMPLES = 10_000
SEED = 20261130


@dataclass(frozen=True)
class QueryDifference:
    id: str
    text: str
    lang: str
    a: float
    b: float

    @property
    def delta(self) -> float:
        return self.b - self.a


@dataclass(frozen=True)
class Significance:
    queries: int
    mean_a: float
    mean_b: float
    p_value: float  # two-sided; 1.0 when there are no queries or no differences


@dataclass(frozen=True)
class Comparison:
    """Configuration A against B on one judged set; ``metric`` is the one tested and listed per query."""

    names: tuple[str, str]
    metric: str
    overall: dict[str, dict[str, float]]  # "a"/"b" -> metric -> mean
    per_language: dict[str, dict[str, dict[str, float]]]  # lang -> "a"/"b" -> metric -> mean
    significance: dict[str, Significance]  # "all" and each language
    queries: list[QueryDifference]  # every judged query, largest |delta| first

    def to_json(self) -> dict[str, Any]:
        return {"names": list(self.names), "metric": self.metric, "metrics": list(METRICS), "overall": self.overall,
                "per_language": self.per_language,
                "significance": {lang: asdict(found) for lang, found in self.significance.items()},
                "queries": [{**asdict(query), "delta": query.delta} for query in self.queries]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Comparison:
        return cls((data["names"][0], data["names"][1]), data["metric"], data["overall"], data["per_language"],
                   {lang: Significance(**found) for lang, found in data["significance"].items()},
                   [QueryDifference(q["id"], q["text"], q["lang"], q["a"], q["b"]) for q in data["queries"]])


def compare(judged: Sequence[JudgedQuery], a: Report, b: Report, names: tuple[str, str], *,
            metric: str = "ndcg@10", samples: int = SAMPLES, seed: int = SEED) -> Comparison:
    """A against B: the queries both reports scored (a query without relevant documents is in neither)."""
    texts = {query.id: query.text for query in judged}
    scored = [qid for qid in a.per_query if qid in b.per_query]
    differences = sorted((QueryDifference(qid, texts.get(qid, ""), a.languages.get(qid, "und"),
                                          a.per_query[qid][metric], b.per_query[qid][metric]) for qid in scored),
                         key=lambda query: (-abs(query.delta), query.id))
    groups: dict[str, list[QueryDifference]] = {"all": differences}
    for query in differences:
        groups.setdefault(query.lang, []).append(query)
    rng = np.random.default_rng(seed)
    significance = {lang: paired_test([q.a for q in groups[lang]], [q.b for q in groups[lang]], samples, rng)
                    for lang in ["all", *sorted(set(groups) - {"all"})]}
    per_language = {lang: {"a": a.per_language[lang], "b": b.per_language.get(lang, {})} for lang in a.per_language}
    return Comparison(names, metric, {"a": a.overall, "b": b.overall}, per_language, significance, differences)


def paired_test(a: Sequence[float], b: Sequence[float], samples: int, rng: np.random.Generator) -> Significance:
    """Two-sided paired randomization (sign-flip) test of mean(b - a) against 0."""
    differences = np.asarray(b, dtype=np.float64) - np.asarray(a, dtype=np.float64)
    if differences.size == 0 or not differences.any():
        return Significance(int(differences.size), float(np.mean(a)) if len(a) else 0.0,
                            float(np.mean(b)) if len(b) else 0.0, 1.0)
    observed = abs(differences.mean())
    at_least = 0
    for start in range(0, samples, 1000):
        signs = rng.choice((-1.0, 1.0), size=(min(1000, samples - start), differences.size))
        at_least += int((np.abs((signs * differences).mean(axis=1)) >= observed - 1e-12).sum())
    return Significance(int(differences.size), float(np.mean(a)), float(np.mean(b)), (at_least + 1) / (samples + 1))

