"""Fusing words, character trigrams and dense as three sub-queries, and weights by query length.

    python bench/experiments/three_way_fusion.py --shopee ../shared/data/shopee/dev.csv

Research, not product code (issue #19: tuned hybrid at least 0.01 above plain BM25 + dense at the oracle
weight). lingodex's lexical sub-query adds the trigram field's BM25 to the words' BM25 in one score, and only
then is the sum min-max normalised against dense. Two ways the fusion itself could carry more than a plain
BM25 + dense mix can:

- three sub-queries (neural-search's hybrid query takes up to five), each normalised on its own, so a title
  that shares many trigrams but few whole words is not drowned by a high word score elsewhere;
- the lexical weight chosen per query-length band: a long seller title carries many words that BM25 can
  match, a short one leans on meaning.

Exact search in numpy over the vectors `bench/experiments/language_centring.py` cached (centred per detected
language as ingest does, no hubness penalty: the same dense list for every arm). BM25 (k1 1.2, b 0.75) on
lowercased word tokens and, separately, on the character trigrams of each letter/digit run, a title needing
30 % of the query's distinct trigrams, rounded up (`trigram_match: "-70%"`). Every Shopee title with a group
mate is a query, its own title out of every list; min-max (neural-search's, 0.001 floor) and weighted
arithmetic mean; weights chosen on the tuning 70 % of the stable split, reported on the held-out 30 %, next to
plain BM25 + dense at the weight best *on the held-out part* (the issue's oracle row), with min-max and z-score.
Outcome (BENCHMARKS.md, "Shopee, every title a query"): three sub-queries +0.001 to +0.002 over two with the
trigram boost tuned (which `tune` already does), length bands +0.000 to +0.001: not built.
"""

from __future__ import annotations

import argparse
import itertools
import re
import sys
from pathlib import Path

import numpy as np
from scipy import sparse

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from bench.experiments.dense_feedback import bm25_weights  # noqa: E402
from bench.experiments.hubness import centred_shopee  # noqa: E402
from lingodex.search_templates.relevance.evaluation import JudgedQuery, evaluate, ranking  # noqa: E402

DEPTH = 100
WORD = re.compile(r"\w+", re.UNICODE)
RUN = re.compile(r"[^\W_]+", re.UNICODE)
TRIGRAM_SHARE = 0.3
TRIGRAM_BOOSTS = (0.1, 0.3, 1.0)
BANDS = ((0, 6), (7, 12), (13, 1000))


def words(text: str) -> list[str]:
    return WORD.findall(text.lower())


def trigrams(text: str) -> list[str]:
    return [run[i:i + 3] for run in RUN.findall(text.lower()) for i in range(len(run) - 2)]


def indicator(token_lists: list[list[str]], vocabulary: dict[str, int]) -> sparse.csr_matrix:
    rows, cols = [], []
    for row, tokens in enumerate(token_lists):
        known = {vocabulary[token] for token in tokens if token in vocabulary}
        rows.extend([row] * len(known))
        cols.extend(known)
    return sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(token_lists), len(vocabulary)))


def top(scores: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The DEPTH best documents of each query, its own document out; a score of 0 or less is no match."""
    scores[np.arange(len(rows)), rows] = -np.inf
    best = np.argpartition(-scores, DEPTH, axis=1)[:, :DEPTH]
    values = np.take_along_axis(scores, best, axis=1)
    order = np.argsort(-values, axis=1)
    return np.take_along_axis(best, order, axis=1), np.take_along_axis(values, order, axis=1)


def min_max(values: np.ndarray, present: np.ndarray) -> np.ndarray:
    """neural-search's min-max per query over the hits a sub-query returned (0.001 floor), 0 where absent."""
    masked_low = np.where(present, values, np.inf).min(axis=1, keepdims=True)
    masked_high = np.where(present, values, -np.inf).max(axis=1, keepdims=True)
    span = masked_high - masked_low
    out = np.where(span > 0, (values - masked_low) / np.where(span > 0, span, 1), 1.0)
    out = np.where(out == 0, 0.001, out)
    return np.where(present, out, 0.0)


def z_score(values: np.ndarray, present: np.ndarray) -> np.ndarray:
    """neural-search's z-score per query (sample standard deviation), a result <= 0 raised to 0.001, 0 where absent."""
    count = present.sum(axis=1, keepdims=True)
    mean = np.where(present, values, 0).sum(axis=1, keepdims=True) / np.maximum(count, 1)
    var = np.where(present, (values - mean) ** 2, 0).sum(axis=1, keepdims=True) / np.maximum(count - 1, 1)
    std = np.sqrt(var)
    out = np.where(std > 0, (values - mean) / np.where(std > 0, std, 1), 0.0)
    return np.where(present, np.where(out > 0, out, 0.001), 0.0)


NORMALISERS = {"min_max": min_max, "z_score": z_score}


class Candidates:
    """The union of the signals' top lists per query, with each signal's normalised score (0 where it missed)."""

    def __init__(self, lists: dict[str, tuple[np.ndarray, np.ndarray]], relevant: list[set[int]]) -> None:
        names = list(lists)
        n = len(relevant)
        width = DEPTH * len(names)
        self.docs = np.full((n, width), -1)
        raw = {name: np.zeros((n, width)) for name in names}
        present = {name: np.zeros((n, width), dtype=bool) for name in names}
        for q in range(n):
            slot: dict[int, int] = {}
            for name in names:
                docs, values = lists[name]
                for doc, value in zip(docs[q], values[q], strict=True):
                    if value <= 0 or not np.isfinite(value):
                        continue
                    column = slot.setdefault(int(doc), len(slot))
                    self.docs[q, column] = doc
                    raw[name][q, column] = value
                    present[name][q, column] = True
        self.normalised = {technique: {name: normalise(raw[name], present[name]) for name in names}
                           for technique, normalise in NORMALISERS.items()}
        self.gain = np.array([[doc in rel for doc in row] for row, rel in zip(self.docs, relevant, strict=True)], float)
        ideal = np.array([min(len(rel), 10) for rel in relevant])
        discounts = 1 / np.log2(np.arange(2, 12))
        self.ideal = np.array([discounts[:count].sum() for count in ideal])

    def ndcg(self, score: np.ndarray) -> np.ndarray:
        """nDCG@10 per query, binary gains: trec_eval's ndcg_cut_10 for these judgments."""
        score = np.where(self.docs >= 0, score, -np.inf)
        order = np.argsort(-score, axis=1, kind="stable")[:, :10]
        gains = np.take_along_axis(self.gain, order, axis=1) * np.isfinite(np.take_along_axis(score, order, axis=1))
        return (gains / np.log2(np.arange(2, 12))).sum(axis=1) / np.maximum(self.ideal, 1e-9)


def grid(step: float, parts: int) -> list[tuple[float, ...]]:
    ticks = np.round(np.arange(0, 1 + 1e-9, step), 2)
    return [w for w in itertools.product(ticks, repeat=parts) if abs(sum(w) - 1) < 1e-6]


def check_against_evaluate(part: list[JudgedQuery], cands: Candidates, score: np.ndarray, ids: list[str]) -> None:
    """The vectorised nDCG must equal the project's trec_eval-style evaluation on the same fused lists."""
    score = np.where(cands.docs >= 0, score, -np.inf)
    run = {}
    for query, docs, values in zip(part, cands.docs, score, strict=True):
        hits = [(ids[doc], float(value)) for doc, value in zip(docs, values, strict=True) if doc >= 0]
        run[query.id] = ranking(sorted(hits, key=lambda hit: -hit[1]))
    reference = evaluate(part, run, {query.id: query.lang for query in part}).overall["ndcg@10"]
    mine = float(cands.ndcg(score).mean())
    assert abs(reference - mine) < 2e-3, (reference, mine)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shopee", type=Path, required=True)
    args = parser.parse_args()
    ids, titles, docs, queries, tuning, held, position = centred_shopee(args.shopee)
    word_lists = [words(title) for title in titles]
    trigram_lists = [trigrams(title) for title in titles]
    word_weights, word_vocabulary = bm25_weights(word_lists)
    trigram_weights, trigram_vocabulary = bm25_weights(trigram_lists)
    trigram_presence = trigram_weights.copy()
    trigram_presence.data[:] = 1.0

    parts = {}
    for name, part in (("tuning", tuning), ("held-out", held)):
        part_rows = np.array([position[query.id] for query in part])
        lists: dict[str, list] = {}
        for start in range(0, len(part_rows), 1000):
            block = part_rows[start:start + 1000]
            w = (indicator([word_lists[r] for r in block], word_vocabulary) @ word_weights.T).toarray()
            q_tri = indicator([trigram_lists[r] for r in block], trigram_vocabulary)
            t = (q_tri @ trigram_weights.T).toarray()
            shared = (q_tri @ trigram_presence.T).toarray()
            distinct = np.asarray(q_tri.sum(axis=1))
            needed = distinct - np.floor((1 - TRIGRAM_SHARE) * distinct)
            t = np.where(shared >= needed, t, 0.0)
            signals = {"words": w, "trigrams": t, "dense": queries[block] @ docs.T}
            signals.update({f"lexical {boost}": w + boost * t for boost in TRIGRAM_BOOSTS})
            for key, scores in signals.items():
                lists.setdefault(key, []).append(top(scores.copy(), block))
        merged = {key: (np.vstack([d for d, _ in value]), np.vstack([v for _, v in value])) for key, value in lists.items()}
        relevant = [{position[doc] for doc in query.relevant} for query in part]
        parts[name] = (part, part_rows, merged, Candidates(merged, relevant))
        print(f"{name}: {len(part)} queries", flush=True)

    def scores_of(cands: Candidates, weights: dict[str, float], technique: str = "min_max") -> np.ndarray:
        return sum(weight * cands.normalised[technique][key] for key, weight in weights.items())

    two = [round(w, 2) for w in np.arange(0, 1.0001, 0.05)]
    arms = {"plain words + dense": [{"words": w, "dense": 1 - w} for w in two]}
    arms.update({f"words + {boost} trigrams, + dense": [{f"lexical {boost}": w, "dense": 1 - w} for w in two]
                 for boost in TRIGRAM_BOOSTS})
    arms["words, trigrams, dense: three sub-queries"] = [dict(zip(("words", "trigrams", "dense"), w, strict=True))
                                                         for w in grid(0.05, 3)]
    tune_part, _, _, tune_c = parts["tuning"]
    held_part, held_rows, _, held_c = parts["held-out"]
    check_against_evaluate(held_part, held_c, scores_of(held_c, {"lexical 0.3": 0.6, "dense": 0.4}), ids)
    held_langs = np.array([query.lang for query in held_part])
    report_langs = [lang for lang in ("und", "id", "en") if (held_langs == lang).sum() >= 100]

    def line(label: str, per_query: np.ndarray, note: str) -> None:
        by_lang = "  ".join(f"{lang} {per_query[held_langs == lang].mean():.4f}" for lang in report_langs)
        print(f"{label:<62} {per_query.mean():.4f}  {by_lang}  {note}", flush=True)

    print(f"\nheld-out nDCG@10 ({len(held_part)} queries): all  {'  '.join(report_langs)}")
    for technique in NORMALISERS:
        for label, candidates in arms.items():
            on_tuning = [tune_c.ndcg(scores_of(tune_c, weights, technique)).mean() for weights in candidates]
            chosen = candidates[int(np.argmax(on_tuning))]
            on_held = [held_c.ndcg(scores_of(held_c, weights, technique)).mean() for weights in candidates]
            oracle = candidates[int(np.argmax(on_held))]
            weights_text = ", ".join(f"{key} {value:g}" for key, value in chosen.items())
            line(f"{technique}: {label}, tuned", held_c.ndcg(scores_of(held_c, chosen, technique)), weights_text)
            line(f"{technique}: {label}, oracle", held_c.ndcg(scores_of(held_c, oracle, technique)), "")

    tune_lengths = np.array([len(words(query.text)) for query in tune_part])
    held_lengths = np.array([len(words(query.text)) for query in held_part])
    for label, keys in (("plain words + dense, weight per length band", ("words", "dense")),
                        ("as shipped, weight per length band", ("lexical 0.3", "dense"))):
        total = np.zeros(len(held_part))
        chosen_by_band = []
        for low, high in BANDS:
            in_tune = (tune_lengths >= low) & (tune_lengths <= high)
            in_held = (held_lengths >= low) & (held_lengths <= high)
            best = max(two, key=lambda w: tune_c.ndcg(scores_of(tune_c, {keys[0]: w, keys[1]: 1 - w}))[in_tune].mean())
            chosen_by_band.append(f"{low}-{high} words ({in_held.sum()} q): {best}")
            total[in_held] = held_c.ndcg(scores_of(held_c, {keys[0]: best, keys[1]: 1 - best}))[in_held]
        line(label + ", tuned", total, "; ".join(chosen_by_band))


if __name__ == "__main__":
    main()
