"""Pseudo-relevance feedback on the dense side: does moving the query vector toward its first hits help?

    python bench/experiments/dense_feedback.py --shopee ../shared/data/shopee/dev.csv

Research, not product code. Rocchio's idea in embedding space: after a first
hybrid ranking, the query vector becomes normalize(q + alpha * mean of the top
m fused hits' vectors) and the dense side is searched again, then fused again
with the same lexical list. Listings of one product sit close to one another,
so the first hits pull the query toward the product rather than toward its
own wording.

Exact search in numpy over the vectors `bench/experiments/language_centring.py`
cached (the configured encoder, /tmp/lingodex-centring), centred per detected
language as ingest does; the lexical side is plain BM25 (k1 1.2, b 0.75,
lowercased Unicode word tokens) computed here, standing in for the index's
field. Every Shopee title with a group mate is a query, its own title taken out
of both lists before fusion and before feedback (trec_eval-style), min-max and
arithmetic mean as neural-search fuses; a small grid of weights and feedback
settings printed for the tuning 70 % and the held-out 30 % of the stable split.
Outcome (BENCHMARKS.md, Shopee): no gain at the best weight, so not built.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
from scipy import sparse

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from bench.experiments.hubness import centred_shopee  # noqa: E402
from lingodex.encoder.lexical_negatives import bm25_matrix as bm25_weights, tokens  # noqa: E402
from lingodex.search_templates.relevance.evaluation import JudgedQuery, evaluate, ranking  # noqa: E402

DEPTH = 100


def bm25_matrix(titles: list[str], k1: float = 1.2, b: float = 0.75) -> tuple[sparse.csr_matrix, dict[str, int]]:
    """Documents × terms BM25 weights of the titles' lowercased word tokens."""
    return bm25_weights([tokens(title) for title in titles], k1, b)


def lexical_top(titles: list[str], rows: list[int], weights: sparse.csr_matrix, vocabulary: dict[str, int]):
    indicator = sparse.lil_matrix((len(rows), len(vocabulary)))
    for out, row in enumerate(rows):
        for token in set(tokens(titles[row])):
            indicator[out, vocabulary[token]] = 1.0
    scores = (indicator.tocsr() @ weights.T).toarray()
    return top_without_self(scores, rows)


def top_without_self(scores: np.ndarray, rows: list[int]) -> tuple[np.ndarray, np.ndarray]:
    scores[np.arange(len(rows)), rows] = -np.inf
    top = np.argpartition(-scores, DEPTH, axis=1)[:, :DEPTH]
    values = np.take_along_axis(scores, top, axis=1)
    order = np.argsort(-values, axis=1)
    return np.take_along_axis(top, order, axis=1), np.take_along_axis(values, order, axis=1)


def min_max(values: np.ndarray) -> np.ndarray:
    """neural-search's min-max over one list: a hit at the minimum gets 0.001, a flat list 1.0."""
    if len(values) == 0:
        return values
    low, high = values.min(), values.max()
    if high == low:
        return np.ones_like(values)
    out = (values - low) / (high - low)
    return np.where(out == 0, 0.001, out)


def fused(lex: tuple[np.ndarray, np.ndarray], dense: tuple[np.ndarray, np.ndarray], weight: float) -> list[list[tuple[int, float]]]:
    """Min-max, arithmetic mean; a list that missed a document scores 0 for it (lexical lists hold matches only)."""
    runs = []
    for q in range(len(lex[0])):
        score: dict[int, float] = defaultdict(float)
        matched = lex[1][q] > 0
        for doc, value in zip(lex[0][q][matched], min_max(lex[1][q][matched]), strict=True):
            score[int(doc)] += weight * value
        for doc, value in zip(dense[0][q], min_max(dense[1][q]), strict=True):
            score[int(doc)] += (1 - weight) * value
        runs.append(sorted(score.items(), key=lambda item: -item[1])[:DEPTH])
    return runs


def ndcg(judged: list[JudgedQuery], runs: list[list[tuple[int, float]]], ids: list[str]) -> tuple[float, dict[str, float]]:
    run = {query.id: ranking([(ids[doc], value) for doc, value in hits]) for query, hits in zip(judged, runs, strict=True)}
    report = evaluate(judged, run, {query.id: query.lang for query in judged})
    return report.overall["ndcg@10"], {lang: values["ndcg@10"] for lang, values in report.per_language.items()}


def feedback_queries(q: np.ndarray, docs: np.ndarray, runs: list[list[tuple[int, float]]], m: int, alpha: float) -> np.ndarray:
    tops = np.array([[doc for doc, _ in hits[:m]] for hits in runs])
    moved = q + alpha * docs[tops].mean(axis=1)
    return moved / np.linalg.norm(moved, axis=1, keepdims=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shopee", type=Path, required=True)
    args = parser.parse_args()
    ids, titles, docs, queries, tuning, held, position = centred_shopee(args.shopee)
    weights, vocabulary = bm25_matrix(titles)
    for name, part in (("tuning", tuning), ("held-out", held)):
        part_rows = [position[query.id] for query in part]
        lex = lexical_top(titles, part_rows, weights, vocabulary)
        q = queries[part_rows]
        dense = top_without_self(q @ docs.T, part_rows)
        print(f"\n{name}: {len(part)} queries")
        alone = [ndcg(part, [list(zip(top, values, strict=True)) for top, values in zip(*ranked, strict=True)], ids)[0]
                 for ranked in (lex, dense)]
        print(f"plain BM25 {alone[0]:.4f}  dense {alone[1]:.4f}")
        for weight in (0.5, 0.6, 0.7, 0.8):
            first = fused(lex, dense, weight)
            base, langs_base = ndcg(part, first, ids)
            line = [f"w {weight}: hybrid {base:.4f} ({', '.join(f'{k} {v:.3f}' for k, v in sorted(langs_base.items()))})"]
            for m, alpha in ((3, 0.5), (5, 0.5), (5, 1.0), (10, 1.0), (10, 2.0)):
                moved = feedback_queries(q, docs, first, m, alpha)
                again = fused(lex, top_without_self(moved @ docs.T, part_rows), weight)
                score, per = ndcg(part, again, ids)
                line.append(f"  m{m} a{alpha}: {score:.4f} ({', '.join(f'{k} {v:.3f}' for k, v in sorted(per.items()))})")
            print("\n".join(line), flush=True)


if __name__ == "__main__":
    main()
