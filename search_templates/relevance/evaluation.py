"""Relevance evaluation: judged queries through a strategy, scored by trec_eval (pytrec-eval), per language.

Judgments come as JSON/JSONL (`{"id", "query", "lang"?, "relevant": {doc_id: grade}, "exclude"?: [doc_id]}`)
or as TREC qrels plus a topics TSV (`id<TAB>query[<TAB>lang]`).

``exclude`` names documents that never count for or against the query: when
the query is itself a catalog item (title-to-title search), its own document
would always rank first as a non-relevant hit, so it is removed from the
ranking, as trec_eval-style evaluation of such tasks does.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytrec_eval

METRICS = ("ndcg@10", "recall@10", "recall@100", "mrr@10")
DEPTH = 100  # hits fetched per query: recall@100 needs them


@dataclass(frozen=True)
class JudgedQuery:
    id: str
    text: str
    lang: str | None
    relevant: dict[str, int]  # doc id -> grade (> 0 relevant)
    exclude: frozenset[str] = frozenset()  # never counted: e.g. the query's own document

    @property
    def scored(self) -> bool:
        """Whether evaluation scores it: trec_eval leaves out a query with no relevant document."""
        return any(grade > 0 for grade in self.relevant.values())

    def without_excluded(self, ranked: Sequence[tuple[str, float]]) -> list[tuple[str, float]]:
        """``ranked`` with the excluded documents taken out, order kept."""
        return [hit for hit in ranked if hit[0] not in self.exclude]


@dataclass(frozen=True)
class Report:
    """Mean metrics over all queries and per query language; `queries` counts them."""

    overall: dict[str, float]
    per_language: dict[str, dict[str, float]]
    queries: dict[str, int]
    per_query: dict[str, dict[str, float]]
    languages: dict[str, str] = field(default_factory=dict)  # query id -> the language it was searched in


def load_judgments(path: Path, topics: Path | None = None) -> list[JudgedQuery]:
    """JSON list or JSON Lines; with ``topics``, ``path`` is TREC qrels (`qid 0 docid grade`)."""
    if topics is not None:
        return _trec(path, topics)
    text = path.read_text(encoding="utf-8").strip()
    items = json.loads(text) if text.startswith("[") else [json.loads(line) for line in text.splitlines() if line.strip()]
    return [JudgedQuery(str(item["id"]), item["query"], item.get("lang"),
                        {str(doc): int(grade) for doc, grade in item["relevant"].items()},
                        frozenset(str(doc) for doc in item.get("exclude", []))) for item in items]


def _trec(qrels: Path, topics: Path) -> list[JudgedQuery]:
    relevant: dict[str, dict[str, int]] = defaultdict(dict)
    for line in qrels.read_text(encoding="utf-8").splitlines():
        if line.strip():
            qid, _, doc, grade = line.split()
            relevant[qid][doc] = int(grade)
    queries = []
    for line in topics.read_text(encoding="utf-8").splitlines():
        if line.strip():
            qid, text, *lang = line.split("\t")
            queries.append(JudgedQuery(qid, text, lang[0] if lang else None, dict(relevant.get(qid, {}))))
    return queries


Run = dict[str, dict[str, float]]  # query id -> doc id -> score
Retrieve = Callable[[JudgedQuery], tuple[list[tuple[str, float]], str]]  # -> ranked (doc, score), query language


def ranking(ranked: Sequence[tuple[str, float]]) -> dict[str, float]:
    """One query's entry in a run: trec_eval orders by score, so scores that fall with rank keep the order exactly."""
    return {doc: float(len(ranked) - rank) for rank, (doc, _) in enumerate(ranked)}


def run_queries(judged: Sequence[JudgedQuery], retrieve: Retrieve) -> tuple[Run, dict[str, str]]:
    """Every judged query through ``retrieve``; returns the run and each query's language."""
    run, languages = {}, {}
    for query in judged:
        ranked, lang = retrieve(query)
        run[query.id] = ranking(query.without_excluded(ranked))
        languages[query.id] = lang
    return run, languages


def evaluate(judged: Sequence[JudgedQuery], run: Run, languages: dict[str, str]) -> Report:
    qrels = {query.id: query.relevant for query in judged if query.scored}
    deep = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut.10", "recall.10,100"}).evaluate(_cut(run, DEPTH))
    top10 = pytrec_eval.RelevanceEvaluator(qrels, {"recip_rank"}).evaluate(_cut(run, 10))
    per_query = {qid: {"ndcg@10": deep[qid]["ndcg_cut_10"], "recall@10": deep[qid]["recall_10"],
                       "recall@100": deep[qid]["recall_100"], "mrr@10": top10[qid]["recip_rank"]}
                 for qid in qrels if qid in deep}
    return report_of(per_query, languages)


def report_of(per_query: dict[str, dict[str, float]], languages: dict[str, str]) -> Report:
    """Per-query metrics as a report: their means over all queries and per query language."""
    groups: dict[str, list[str]] = defaultdict(list)
    for qid in per_query:
        groups[languages.get(qid, "und")].append(qid)
    return Report(_mean(per_query, list(per_query)), {lang: _mean(per_query, ids) for lang, ids in sorted(groups.items())},
                  {"all": len(per_query), **{lang: len(ids) for lang, ids in groups.items()}}, per_query,
                  {qid: lang for lang, ids in groups.items() for qid in ids})


def _cut(run: Run, depth: int) -> Run:
    """Each query's best ``depth`` documents (a query with no hits stays, empty, and scores 0)."""
    return {qid: dict(sorted(docs.items(), key=lambda item: -item[1])[:depth]) or {"__none__": 0.0}
            for qid, docs in run.items()}


def _mean(per_query: dict[str, dict[str, float]], ids: list[str]) -> dict[str, float]:
    metrics = list(next(iter(per_query.values()), dict.fromkeys(METRICS)))  # those the queries were scored on
    return {metric: sum(per_query[qid][metric] for qid in ids) / len(ids) if ids else 0.0 for metric in metrics}
