"""Client-side fusion of ranked lists, for clusters without neural-search.

The arithmetic reproduces neural-search's processors (3.x) so that both paths
rank the same documents the same way, ties aside:
- min_max: (score - min) / (max - min) over each sub-query's hits; a hit that
  normalises to 0 gets 0.001, and a list whose max equals min gives 1.0;
- l2: score / sqrt(sum of squares) of its list; z_score: (score - mean) / std
  with the sample standard deviation, a result <= 0 raised to 0.001;
- weighted means where a sub-query that missed the document scores 0: the
  arithmetic mean counts that 0 with its weight, the geometric and harmonic
  means skip it (as they skip any score <= 0);
- rrf: sum over sub-queries of 1 / (rank_constant + rank), ranks from 1.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

MIN_SCORE = 0.001


@dataclass(frozen=True)
class Ranked:
    """One sub-query's hits, best first: (document id, raw score)."""

    hits: Sequence[tuple[str, float]]


def normalize(ranked: Ranked, technique: str) -> dict[str, float]:
    scores = [score for _, score in ranked.hits]
    if not scores:
        return {}
    if technique == "min_max":
        low, high = min(scores), max(scores)
        return {doc: _min_max(score, low, high) for doc, score in ranked.hits}
    if technique == "l2":
        norm = math.sqrt(sum(score * score for score in scores)) or 1.0
        return {doc: score / norm for doc, score in ranked.hits}
    if technique == "z_score":
        mean = sum(scores) / len(scores)
        std = math.sqrt(sum((value - mean) ** 2 for value in scores) / (len(scores) - 1)) if len(scores) > 1 else 0.0
        return {doc: _z_score(score, mean, std, scores) for doc, score in ranked.hits}
    raise ValueError(f"unknown normalization technique {technique!r}")


def _min_max(score: float, low: float, high: float) -> float:
    if high == low:
        return 1.0
    normalized = (score - low) / (high - low)
    return normalized if normalized != 0.0 else MIN_SCORE


def _z_score(score: float, mean: float, std: float, scores: list[float]) -> float:
    if score == mean:  # neural-search's edge cases, kept as it has them
        return max(scores)
    if std == 0:
        return min(scores)
    normalized = (score - mean) / std
    return normalized if normalized > 0 else MIN_SCORE


def combine(per_query: Sequence[dict[str, float]], weights: Sequence[float], technique: str) -> dict[str, float]:
    """Weighted mean of each document's normalised scores; a sub-query that missed it scores 0 there."""
    combined: dict[str, float] = {}
    for doc in {doc for scores in per_query for doc in scores}:
        scored = [(scores.get(doc, 0.0), weight) for scores, weight in zip(per_query, weights, strict=True)]
        combined[doc] = _mean(scored, technique)
    return combined


def _mean(scored: list[tuple[float, float]], technique: str) -> float:
    if technique == "arithmetic_mean":  # a zero counts, with its weight
        total = sum(weight for _, weight in scored)
        return sum(score * weight for score, weight in scored) / total if total else 0.0
    positive = [(score, weight) for score, weight in scored if score > 0]  # ln and 1/x skip zeros
    total = sum(weight for _, weight in positive)
    if total == 0:  # nothing positive, or only sub-queries weighted 0
        return 0.0
    if technique == "geometric_mean":
        return math.exp(sum(weight * math.log(score) for score, weight in positive) / total)
    if technique == "harmonic_mean":
        return total / sum(weight / score for score, weight in positive)
    raise ValueError(f"unknown combination technique {technique!r}")


def reciprocal_rank(ranked: Sequence[Ranked], rank_constant: int) -> dict[str, float]:
    fused: dict[str, float] = {}
    for sub_query in ranked:
        for rank, (doc, _) in enumerate(sub_query.hits, start=1):
            fused[doc] = fused.get(doc, 0.0) + 1.0 / (rank_constant + rank)
    return fused


def ordered(scores: dict[str, float]) -> list[tuple[str, float]]:
    """Best first; equal scores in id order so that a page boundary is stable across calls."""
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))
