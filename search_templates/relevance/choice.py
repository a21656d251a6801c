"""How tuning picks among candidate parameters: one rule for fusion and for lexical boosts.

Hundreds of candidates on a few hundred queries tie or nearly tie, and which
of them comes first is noise that held-out queries punish. So the best score on
the tuning queries is a bar, not the choice: the choice is the first candidate,
in the caller's order of preference, that the best does not beat by more than
``LEAD`` standard errors of their per-query difference (a paired comparison:
one query's difference is never enough; four going the same way are). Then the
held-out queries must score it higher than the current parameters, or the
current parameters stay: a tie never rewrites a language, and re-tuning on the
same judgments does not churn the file.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from statistics import fmean, stdev

from lingodex.search_templates.relevance.evaluation import JudgedQuery, Report
from lingodex.search_templates.search_params import LanguageParams

OBJECTIVE = "ndcg@10"
LEAD = 2.0  # standard errors by which the best must lead a preferred candidate to be chosen over it (about 95 %)
POOLED = "(all)"  # the outcome chosen on every language's queries together, which becomes the default

Score = Callable[[Sequence[JudgedQuery], LanguageParams], Report]


@dataclass(frozen=True)
class LanguageOutcome:
    lang: str
    chosen: LanguageParams
    before: LanguageParams
    tuning_queries: int
    held_out_queries: int
    tuned_before: float   # objective on the tuning queries, current parameters
    tuned_after: float
    tuned_best: float     # the grid's best there: the bar the choice had to come close to
    held_out_before: float  # the same on the held-out queries: what to believe
    held_out_after: float
    note: str = ""        # why the current parameters stayed, when they did
    stage: str = "fusion"  # or "lexical": which parameters were tuned


log = logging.getLogger(__name__)


def split(judged: Sequence[JudgedQuery], held_out: float) -> tuple[list[JudgedQuery], list[JudgedQuery]]:
    """(tuning, held-out) by a stable hash of the query id, so reruns split the same way."""
    def bucket(query: JudgedQuery) -> float:
        return int(hashlib.sha256(query.id.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return [q for q in judged if bucket(q) >= held_out], [q for q in judged if bucket(q) < held_out]


def pick(lang: str, grid: Sequence[LanguageParams], before: LanguageParams, tuning: Sequence[JudgedQuery],
         kept_out: Sequence[JudgedQuery], score: Score, stage: str = "fusion") -> LanguageOutcome:
    """The first of ``grid`` (``before`` among them) the tuning queries cannot tell from the best, if held-out agrees."""
    started = time.perf_counter()
    reports = [score(tuning, params) for params in grid]
    log.info(f"tune {stage} [{lang}]: {len(grid)} candidates on {len(tuning)} tuning queries in "
             f"{time.perf_counter() - started:.1f} s")
    best = max(reports, key=lambda report: report.overall[OBJECTIVE])
    chosen, report = next((params, report) for params, report in zip(grid, reports, strict=True)
                          if not _clearly_behind(report, best))
    current = reports[list(grid).index(before)]
    held_before = held_after = float("nan")
    note = ""
    if kept_out:
        held_before = score(kept_out, before).overall[OBJECTIVE]
        held_after = held_before if chosen == before else score(kept_out, chosen).overall[OBJECTIVE]
        if held_after <= held_before and chosen != before:
            chosen, report, held_after = before, current, held_before
            note = "kept: held-out queries did not improve"
    return LanguageOutcome(lang, chosen, before, len(tuning), len(kept_out), current.overall[OBJECTIVE],
                           report.overall[OBJECTIVE], best.overall[OBJECTIVE], held_before, held_after, note, stage)


def _clearly_behind(report: Report, best: Report) -> bool:
    """Whether ``best`` leads by more than LEAD standard errors of the per-query difference."""
    differences = [best.per_query[qid][OBJECTIVE] - report.per_query[qid][OBJECTIVE] for qid in best.per_query]
    if len(differences) < 2:
        return sum(differences) > 0
    return fmean(differences) > LEAD * stdev(differences) / math.sqrt(len(differences))
