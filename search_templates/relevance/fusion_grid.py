"""nDCG@10 of many fusion candidates over windows fetched once: the grid `tune` searches, as array arithmetic.

Fusing each query in Python and scoring each candidate with trec_eval made
`tune` cost hours on 12,000 judged queries (hundreds of candidates × every query).
Here each query becomes one row over the union of its two windows' hits,
columns in document-id order so that equal scores rank as `fusion.ordered`
ranks them (id ascending). Each list is normalised by `fusion.normalize`
itself, once per window and technique, and every candidate's combination,
ranking and nDCG@10 is computed for all queries at once, with the same
floating-point operations in the same order as `fusion.combine`. A test holds
it equal, query by query, to fusing in Python and scoring with pytrec_eval.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence

import numpy as np

from lingodex.search_templates import fusion
from lingodex.search_templates.relevance.choice import OBJECTIVE
from lingodex.search_templates.relevance.evaluation import JudgedQuery, Report, report_of
from lingodex.search_templates.search_params import LanguageParams

CUTOFF = 10
FusionKey = tuple  # the parameters that change a fused ranking, and nothing else
_DISCOUNT = 1.0 / np.log2(np.arange(2, CUTOFF + 2))


def fusion_key(params: LanguageParams) -> FusionKey:
    if params.fusion == "rrf":
        return ("rrf", params.window, params.rank_constant)
    return ("normalization", params.window, params.normalization, params.combination, *params.weights)


class FusionGrid:
    """Per-query nDCG@10 of a fusion candidate on ``judged`` (those with a relevant document), memoised by candidate.

    ``windows``: query id -> [lexical, dense] hits, as `tuning.fetch_windows` returns them.
    """

    def __init__(self, judged: Sequence[JudgedQuery], windows: dict[str, list[fusion.Ranked]]) -> None:
        scored = [query for query in judged if query.scored]
        self.ids = [query.id for query in scored]
        self.row = {qid: row for row, qid in enumerate(self.ids)}
        self._lists = [windows[qid] for qid in self.ids]
        columns = [sorted({doc for ranked in lists for doc, _ in ranked.hits}) for lists in self._lists]
        self._columns = [{doc: col for col, doc in enumerate(docs)} for docs in columns]
        width = max((len(docs) for docs in columns), default=0)
        shape = (len(self.ids), width)
        self._gains = np.zeros(shape)
        self._ranks = np.full((2, *shape), np.inf)  # 1-based rank in each list, inf where the list lacks the document
        for row, (query, lists, where) in enumerate(zip(scored, self._lists, self._columns, strict=True)):
            for doc, col in where.items():
                self._gains[row, col] = max(query.relevant.get(doc, 0), 0)
            for which, ranked in enumerate(lists):
                for rank, (doc, _) in enumerate(ranked.hits, start=1):
                    self._ranks[which, row, where[doc]] = rank
        self._ideal = np.array([_ideal_dcg(query.relevant.values()) for query in scored])
        self._normalized: OrderedDict[tuple[int, str], np.ndarray] = OrderedDict()
        self._memo: dict[FusionKey, np.ndarray] = {}

    def prime(self, grid: Sequence[LanguageParams]) -> None:
        """Score ``grid`` window by window and technique by technique, so each normalisation is computed once."""
        for params in sorted(grid, key=lambda params: (params.window, params.fusion, params.normalization)):
            self.ndcg(params)

    def ndcg(self, params: LanguageParams) -> np.ndarray:
        """nDCG@10 per query of ``self.ids``, as trec_eval scores the ranking `fusion` gives with ``params``."""
        key = fusion_key(params)
        if key not in self._memo:
            self._memo[key] = self._score(self._fused(params))
        return self._memo[key]

    def _fused(self, params: LanguageParams) -> np.ndarray:
        """Each query's fused scores over its columns; -inf where neither cut window has the document."""
        present = self._ranks <= params.window
        if params.fusion == "rrf":
            terms = np.where(present, 1.0 / (params.rank_constant + self._ranks), 0.0)
            fused = terms[0] + terms[1]
        else:
            fused = _combined(self._normalized_for(params.window, params.normalization), params.weights,
                              params.combination)
        return np.where(present[0] | present[1], fused, -np.inf)

    def _normalized_for(self, window: int, technique: str) -> np.ndarray:
        """Both lists cut at ``window`` and normalised by fusion.normalize; NaN where a list lacks the document."""
        key = (window, technique)
        if key not in self._normalized:
            values = np.full((2, *self._gains.shape), np.nan)
            for row, (lists, where) in enumerate(zip(self._lists, self._columns, strict=True)):
                for which, ranked in enumerate(lists):
                    for doc, value in fusion.normalize(fusion.Ranked(ranked.hits[:window]), technique).items():
                        values[which, row, where[doc]] = value
            self._normalized[key] = values
            while len(self._normalized) > 2:  # prime() needs one at a time; each is two query × column arrays
                self._normalized.popitem(last=False)
        return self._normalized[key]

    def _score(self, fused: np.ndarray) -> np.ndarray:
        order = np.argsort(-fused, axis=1, kind="stable")[:, :CUTOFF]  # ties keep column (= id) order
        top = np.take_along_axis(fused, order, axis=1)
        gains = np.where(np.isfinite(top), np.take_along_axis(self._gains, order, axis=1), 0.0)
        dcg = gains @ _DISCOUNT[:gains.shape[1]]
        return np.divide(dcg, self._ideal, out=np.zeros_like(dcg), where=self._ideal > 0)


def _combined(normalized: np.ndarray, weights: Sequence[float], technique: str) -> np.ndarray:
    """fusion.combine's weighted means, term by term in its order (lexical, then dense) so the floats agree."""
    scores = [np.nan_to_num(normalized[which], nan=0.0) for which in (0, 1)]  # a list that missed it: 0
    lexical_weight, dense_weight = weights
    if technique == "arithmetic_mean":
        weight_sum = 0.0 + lexical_weight + dense_weight
        summed = 0.0 + scores[0] * lexical_weight + scores[1] * dense_weight
        return summed / weight_sum if weight_sum else np.zeros_like(summed)
    positive = [score > 0 for score in scores]  # ln and 1/x skip zeros
    total = 0.0 + np.where(positive[0], lexical_weight, 0.0) + np.where(positive[1], dense_weight, 0.0)
    safe = [np.where(positive[which], scores[which], 1.0) for which in (0, 1)]
    with np.errstate(divide="ignore", invalid="ignore"):
        if technique == "geometric_mean":
            logs = [np.where(positive[which], weight * np.log(safe[which]), 0.0)
                    for which, weight in enumerate((lexical_weight, dense_weight))]
            combined = np.exp((0.0 + logs[0] + logs[1]) / total)
        elif technique == "harmonic_mean":
            inverse = [np.where(positive[which], weight / safe[which], 0.0)
                       for which, weight in enumerate((lexical_weight, dense_weight))]
            combined = total / (0.0 + inverse[0] + inverse[1])
        else:
            raise ValueError(f"unknown combination technique {technique!r}")
    return np.where(total > 0, combined, 0.0)


def _ideal_dcg(grades: Iterable[int]) -> float:
    """trec_eval's ideal: every judged relevant document, best grade first, whether retrieved or not."""
    best = sorted((grade for grade in grades if grade > 0), reverse=True)[:CUTOFF]
    return float(sum(grade * _DISCOUNT[rank] for rank, grade in enumerate(best)))


def grid_report(grid: FusionGrid, queries: Sequence[JudgedQuery], params: LanguageParams,
                languages: dict[str, str]) -> Report:
    """``queries``' nDCG@10 under ``params`` as an evaluation report (the one metric tuning chooses by)."""
    values = grid.ndcg(params)
    per_query = {query.id: {OBJECTIVE: float(values[grid.row[query.id]])} for query in queries if query.id in grid.row}
    return report_of(per_query, languages)
