"""Does discounting hubs (CSLS) help dense search after language centring, and what should a document's hubness be?

    python bench/experiments/hubness.py --tatoeba ../shared/data/tatoeba --shopee ../shared/data/shopee/dev.csv

Research, not product code: exact search in numpy over the vectors
bench/experiments/language_centring.py cached (run that first), centred as
lingodex centres them (documents minus their language's passage mean, queries
minus the query-prefix mean). A candidate's score is its cosine minus
``penalty × r``, where ``r`` is the document's mean cosine to its 10 nearest
neighbours among:
- the pool's *query* vectors (CSLS as published: the other side's neighbours);
- the pool's *document* vectors (what an index can compute from itself after
  a load: ingest/index/hubness.py).
The top 100 by cosine are re-ranked.

Tatoeba mixed pool (every sentence of every pair in one pool, each the query
for its translation) is scored two ways: one relevant document (the
translation) as bench/cross_lingual.py does, and "duplicate-aware": 14 % of
the pool's English sentences occur more than once (across pairs), so every
sentence linked to the same English text is relevant and a copy of the query's
own text is excluded like the query itself. MRR@10 per query (micro) and the
mean over query languages (macro).
Per pair (one language per index) and Shopee (title to title, held-out 30 %):
what a catalog that is not mixed gains or loses.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import defaultdict
from pathlib import Path
from typing import NamedTuple

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from language_centring import (CACHE, PAIRS, cached_pool, centre, means_by_language, read_pairs, top_k,  # noqa: E402
                               translation, unit)

from lingodex.search_templates.relevance.choice import split  # noqa: E402
from lingodex.search_templates.relevance.evaluation import JudgedQuery, evaluate, ranking  # noqa: E402

PENALTIES = (0.0, 0.25, 0.5, 0.75)
NEIGHBOURS = 10
DEPTH = 100


def neighbour_mean(points: np.ndarray, against: np.ndarray, k: int = NEIGHBOURS, same_rows: bool = True) -> np.ndarray:
    """Each point's mean cosine to its k nearest rows of ``against`` (itself excluded when both are the same rows)."""
    top, scores = top_k(points, against, k + 1)
    return np.array([np.mean([s for hit, s in zip(row, row_scores, strict=True) if not (same_rows and hit == i)][:k])
                     for i, (row, row_scores) in enumerate(zip(top, scores, strict=True))])


def reranked(queries: np.ndarray, docs: np.ndarray, hubness: np.ndarray, penalty: float) -> np.ndarray:
    top, scores = top_k(queries, docs, DEPTH)
    order = np.argsort(-(scores - penalty * hubness[top]), axis=1)
    return np.take_along_axis(top, order, axis=1)


def mixed_pool(directory: Path) -> None:
    pool, _ = read_pairs(directory, 200)
    ids, texts, truth = [p[0] for p in pool], [p[1] for p in pool], [p[2] for p in pool]
    n = len(ids)
    docs, queries, langs = cached_pool(n)
    position = {doc_id: row for row, doc_id in enumerate(ids)}
    # duplicate-aware judgments: sentences linked through the same English text are translations of each other
    meaning: dict[str, int] = {}
    group = [0] * n
    for row, doc_id in enumerate(ids):
        if doc_id.endswith(":en"):
            group[row] = group[position[translation(doc_id)]] = meaning.setdefault(texts[row], len(meaning))
    members: dict[int, set[int]] = defaultdict(set)
    same_text: dict[str, set[int]] = defaultdict(set)
    for row in range(n):
        members[group[row]].add(row)
        same_text[texts[row]].add(row)
    duplicated = sum(len(rows) > 1 for text, rows in same_text.items() if truth[next(iter(rows))] == "eng")
    print(f"pool {n}; English texts occurring more than once: {duplicated}")

    def mrr(top: np.ndarray, aware: bool) -> tuple[float, float, float]:
        by_lang: dict[str, list[float]] = defaultdict(list)
        for row, hits in enumerate(top):
            excluded = same_text[texts[row]] if aware else {row}
            relevant = members[group[row]] - excluded if aware else {position[translation(ids[row])]}
            kept = [hit for hit in hits if hit not in excluded][:10]
            rank = next((r for r, hit in enumerate(kept, 1) if hit in relevant), None)
            by_lang[truth[row]].append(1 / rank if rank else 0.0)
        hindi = float(np.mean(by_lang["hin"]))
        return float(np.mean([v for values in by_lang.values() for v in values])), \
            float(np.mean([np.mean(values) for values in by_lang.values()])), hindi

    plain = mrr(top_k(queries, docs, DEPTH)[0], True), mrr(top_k(queries, docs, DEPTH)[0], False)
    centred_docs = centre(docs, langs, means_by_language(docs, langs))
    centred_queries = centre(queries, langs, means_by_language(queries, langs))
    print("\n| hubness from | penalty | MRR@10 one relevant (micro / macro / hi) | duplicate-aware (micro / macro / hi) |")
    print("| --- | --- | --- | --- |")
    print(f"| plain vectors | – | {plain[1][0]:.3f} / {plain[1][1]:.3f} / {plain[1][2]:.3f} | "
          f"{plain[0][0]:.3f} / {plain[0][1]:.3f} / {plain[0][2]:.3f} |")
    for source, against in (("queries (CSLS)", centred_queries), ("documents (shipped)", centred_docs)):
        hubness = neighbour_mean(centred_docs, against)
        for penalty in PENALTIES:
            top = reranked(centred_queries, centred_docs, hubness, penalty)
            one, aware = mrr(top, False), mrr(top, True)
            print(f"| {source} | {penalty} | {one[0]:.3f} / {one[1]:.3f} / {one[2]:.3f} | "
                  f"{aware[0]:.3f} / {aware[1]:.3f} / {aware[2]:.3f} |", flush=True)


def per_pair(directory: Path) -> None:
    pool, ref = read_pairs(directory, 200)
    ids, truth = [p[0] for p in pool], [p[2] for p in pool]
    docs, queries, _ = cached_pool(len(pool))
    reference = means_by_language(np.load(CACHE / f"reference-queries-{len(ref)}.npy"), [lang for _, lang in ref])
    changes: dict[float, list[float]] = defaultdict(list)
    for pair in PAIRS:
        for query_side, doc_side in (("x", "en"), ("en", "x")):
            d_rows = [i for i, doc_id in enumerate(ids) if doc_id.startswith(f"{pair}:") and doc_id.endswith(f":{doc_side}")]
            q_rows = [i for i, doc_id in enumerate(ids) if doc_id.startswith(f"{pair}:") and doc_id.endswith(f":{query_side}")]
            d = unit(docs[d_rows] - docs[d_rows].mean(axis=0))
            q = unit(queries[q_rows] - reference.get(truth[q_rows[0]], reference["*"]))
            hubness = neighbour_mean(d, d)
            scores = {}
            for penalty in PENALTIES:
                top = reranked(q, d, hubness, penalty)[:, :10]
                scores[penalty] = np.mean([next((1 / r for r, hit in enumerate(row, 1) if hit == i), 0.0)
                                           for i, row in enumerate(top)])
            for penalty in PENALTIES[1:]:
                changes[penalty].append(scores[penalty] - scores[0.0])
    print("\nper pair (38 one-language indices), MRR@10 change against no penalty")
    for penalty, deltas in changes.items():
        print(f"penalty {penalty}: mean {np.mean(deltas):+.4f}, worst {min(deltas):+.4f}, "
              f"rows losing > 0.005: {sum(delta < -0.005 for delta in deltas)} of {len(deltas)}")


def shopee_judged(rows: list[dict[str, str]], langs: list[str]) -> list[JudgedQuery]:
    """Every title with a group mate a query for its mates, its own listing excluded."""
    groups: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        groups[row["label_group"]].append(row["posting_id"])
    return [JudgedQuery(row["posting_id"], row["title"], lang,
                        {mate: 1 for mate in groups[row["label_group"]] if mate != row["posting_id"]},
                        frozenset({row["posting_id"]}))
            for row, lang in zip(rows, langs, strict=True) if len(groups[row["label_group"]]) > 1]


class Shopee(NamedTuple):
    ids: list[str]
    titles: list[str]
    docs: np.ndarray  # passage vectors, centred
    queries: np.ndarray  # query vectors, centred
    tuning: list[JudgedQuery]
    held: list[JudgedQuery]
    position: dict[str, int]  # posting id -> row


def centred_shopee(path: Path) -> Shopee:
    """The Shopee rows with a title, their cached passage and query vectors centred per detected language as ingest
    centres them, and every title with a group mate as a judged query, split 70/30 as `tune` splits."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["title"].strip()]
    langs = (CACHE / f"shopee-{len(rows)}.langs").read_text(encoding="utf-8").split("\n")
    docs = np.load(CACHE / f"shopee-passages-{len(rows)}.npy")
    queries = np.load(CACHE / f"shopee-queries-{len(rows)}.npy")
    docs = centre(docs, langs, means_by_language(docs, langs))
    queries = centre(queries, langs, means_by_language(queries, langs))
    tuning, held = split(shopee_judged(rows, langs), 0.3)
    ids = [row["posting_id"] for row in rows]
    return Shopee(ids, [row["title"] for row in rows], docs, queries, tuning, held,
                  {doc_id: row for row, doc_id in enumerate(ids)})


def shopee(path: Path) -> None:
    ids, _, d, queries, _, held, position = centred_shopee(path)
    q = queries[[position[query.id] for query in held]]
    hubness = neighbour_mean(d, d)
    print("\nShopee, held-out queries, nDCG@10")
    for penalty in PENALTIES:
        top, scores = top_k(q, d, DEPTH + 1)
        adjusted = scores - penalty * hubness[top]
        run = {}
        for query, hits, values in zip(held, top, adjusted, strict=True):
            order = np.argsort(-values)
            run[query.id] = ranking(query.without_excluded([(ids[hits[i]], float(values[i])) for i in order])[:DEPTH])
        report = evaluate(held, run, {query.id: query.lang for query in held})
        cells = ", ".join(f"{lang} {report.per_language[lang]['ndcg@10']:.3f}" for lang in ("en", "id", "und"))
        print(f"penalty {penalty}: all {report.overall['ndcg@10']:.4f} ({cells})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tatoeba", type=Path, required=True)
    parser.add_argument("--shopee", type=Path)
    args = parser.parse_args()
    mixed_pool(args.tatoeba)
    per_pair(args.tatoeba)
    if args.shopee:
        shopee(args.shopee)


if __name__ == "__main__":
    main()
