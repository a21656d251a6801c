"""Tune each language's fusion parameters on judged queries, and report on queries kept out of the tuning.

Each query's two sub-query windows are fetched once (one `_msearch/template`);
every candidate is then fused here with the arithmetic neural-search uses
(tested equal), so a grid of hundreds of candidates costs no further queries.
Queries are split per language by a stable hash of their id: the candidate
chosen on the tuning part is reported on the held-out part, where a parameter
set that only fits the tuning queries shows.

Hundreds of candidates on a few hundred queries tie or nearly tie, and which
of them comes first is noise that held-out queries punish. So the best score on
the tuning part is a bar, not the choice: the choice is the plainest candidate
the best does not beat by more than ``LEAD`` standard errors of their
per-query difference (paired), where plainest leans least on the sub-query
that is weaker on those queries (a signal keeps its weight only by earning it)
and the current parameters come first among equals (re-tuning does not churn).
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from statistics import fmean, stdev

import yaml

from search_templates import fusion
from search_templates.evaluation import JudgedQuery, Report, evaluate, ranking
from search_templates.search_params import LanguageParams, SearchParams
from search_templates.searcher import HybridSearcher, fuse

WEIGHTS = [round(0.1 * step, 1) for step in range(11)]
NORMALIZATIONS = [("min_max", "arithmetic_mean"), ("min_max", "geometric_mean"), ("min_max", "harmonic_mean"),
                  ("l2", "arithmetic_mean"), ("l2", "geometric_mean"), ("l2", "harmonic_mean"),
                  ("z_score", "arithmetic_mean")]  # neural-search combines z_score only arithmetically
RANK_CONSTANTS = [10, 30, 60, 100]
WINDOWS = [20, 50, 100]
OBJECTIVE = "ndcg@10"
LEAD = 2.0  # standard errors by which the best must lead a plainer candidate to be chosen over it (about 95 %)

Windows = dict[str, list[fusion.Ranked]]  # query id -> [lexical, dense] hits, the widest window


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


def candidates(base: LanguageParams) -> list[LanguageParams]:
    """Every fusion and window in the grid, other parameters (boosts, fallbacks) as ``base`` has them."""
    found = []
    for window in WINDOWS:
        common = {**base.model_dump(), "window": window, "k": max(base.k, window)}
        for normalization, combination in NORMALIZATIONS:
            for weight in WEIGHTS:
                found.append(LanguageParams.model_validate({
                    **common, "fusion": "normalization", "normalization": normalization, "combination": combination,
                    "lexical_weight": weight, "dense_weight": round(1 - weight, 1)}))
        found += [LanguageParams.model_validate({**common, "fusion": "rrf", "rank_constant": constant})
                  for constant in RANK_CONSTANTS]
    return found


def split(judged: Sequence[JudgedQuery], held_out: float) -> tuple[list[JudgedQuery], list[JudgedQuery]]:
    """(tuning, held-out) by a stable hash of the query id, so reruns split the same way."""
    def bucket(query: JudgedQuery) -> float:
        return int(hashlib.sha256(query.id.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return [q for q in judged if bucket(q) >= held_out], [q for q in judged if bucket(q) < held_out]


def fetch_windows(searcher: HybridSearcher, index: str, judged: Sequence[JudgedQuery],
                  width: int) -> tuple[Windows, dict[str, str]]:
    """Both sub-queries' hits for every query, ``width`` deep; and each query's language."""
    windows, languages = {}, {}
    for query in judged:
        prepared, language, params = searcher.prepare(query.text, lang=query.lang, size=1)
        wide = params.model_copy(update={"window": width, "k": max(params.k, width)})
        windows[query.id], _ = searcher.sub_query_hits(index, prepared, wide)
        languages[query.id] = language.code
    return windows, languages


def score(judged: Sequence[JudgedQuery], windows: Windows, languages: dict[str, str], params: LanguageParams) -> Report:
    run = {}
    for query in judged:
        cut = [fusion.Ranked(ranked.hits[:params.window]) for ranked in windows[query.id]]
        run[query.id] = ranking(fusion.ordered(fuse(cut, params)))
    return evaluate(judged, run, languages)


def sub_query_run(judged: Sequence[JudgedQuery], windows: Windows, which: int) -> dict[str, dict[str, float]]:
    """One sub-query alone (0 lexical, 1 dense), as an evaluation run."""
    return {query.id: ranking(windows[query.id][which].hits) for query in judged}


def tune(searcher: HybridSearcher, index: str, judged: Sequence[JudgedQuery], *, held_out: float = 0.3,
         min_queries: int = 5) -> tuple[SearchParams, list[LanguageOutcome]]:
    """New parameters (a language with fewer than ``min_queries`` tuning queries keeps its own) and the evidence."""
    windows, languages = fetch_windows(searcher, index, judged, max(WINDOWS))
    by_language: dict[str, list[JudgedQuery]] = defaultdict(list)
    for query in judged:
        by_language[languages[query.id]].append(query)
    overrides = dict(searcher.params.languages)
    outcomes = []
    for lang, queries in sorted(by_language.items()):
        tuning, kept_out = split(queries, held_out)
        if len(tuning) < min_queries:
            continue
        outcome = choose(lang, tuning, kept_out, windows, languages, searcher.params.for_language(lang))
        outcomes.append(outcome)
        difference = _differences(outcome.chosen, searcher.params.default)
        if difference:
            overrides[lang] = difference
        else:
            overrides.pop(lang, None)
    return SearchParams(default=searcher.params.default, languages=overrides), outcomes


def choose(lang: str, tuning: Sequence[JudgedQuery], kept_out: Sequence[JudgedQuery], windows: Windows,
           languages: dict[str, str], before: LanguageParams) -> LanguageOutcome:
    """The plainest candidate the tuning queries cannot tell from the grid's best (module docstring), scored on both parts."""
    weaker = _weaker_sub_query(tuning, windows, languages)
    grid = sorted([before, *candidates(before)], key=lambda params: (_lean(params, weaker), params != before))
    reports = [score(tuning, windows, languages, params) for params in grid]
    best = max(reports, key=lambda report: report.overall[OBJECTIVE])
    chosen, report = next((params, report) for params, report in zip(grid, reports, strict=True)
                          if not _clearly_behind(report, best))
    held_before = held_after = float("nan")
    if kept_out:
        held_before = score(kept_out, windows, languages, before).overall[OBJECTIVE]
        held_after = held_before if chosen == before else score(kept_out, windows, languages, chosen).overall[OBJECTIVE]
    return LanguageOutcome(lang, chosen, before, len(tuning), len(kept_out), reports[grid.index(before)].overall[OBJECTIVE],
                           report.overall[OBJECTIVE], best.overall[OBJECTIVE], held_before, held_after)


def _weaker_sub_query(judged: Sequence[JudgedQuery], windows: Windows, languages: dict[str, str]) -> int | None:
    """0 (lexical) or 1 (dense), whichever scores lower alone on ``judged``; None when they score the same."""
    lexical, dense = (evaluate(judged, sub_query_run(judged, windows, which), languages).overall[OBJECTIVE]
                      for which in (0, 1))
    return None if lexical == dense else (0 if lexical < dense else 1)


def _lean(params: LanguageParams, weaker: int | None) -> float:
    """The weight on the weaker sub-query: RRF weighs both alike."""
    if weaker is None:
        return 0.0
    return 0.5 if params.fusion == "rrf" else params.weights[weaker]


def _clearly_behind(report: Report, best: Report) -> bool:
    """Whether ``best`` leads by more than LEAD standard errors of the per-query difference."""
    differences = [best.per_query[qid][OBJECTIVE] - report.per_query[qid][OBJECTIVE] for qid in best.per_query]
    if len(differences) < 2:
        return sum(differences) > 0
    return fmean(differences) > LEAD * stdev(differences) / math.sqrt(len(differences))


def _differences(params: LanguageParams, default: LanguageParams) -> dict:
    """Only what differs from the defaults, so the YAML stays readable."""
    ours, theirs = params.model_dump(), default.model_dump()
    return {key: value for key, value in ours.items() if value != theirs[key]}


def write_params(params: SearchParams, path: Path, header_from: Path) -> None:
    """The YAML with the original file's comment header kept (the parameters' documentation)."""
    header = []
    for line in header_from.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        header.append(line)
    body = yaml.safe_dump({"default": params.default.model_dump(), "languages": params.languages},
                          sort_keys=False, allow_unicode=True)
    path.write_text("\n".join(header) + "\n" + body, encoding="utf-8")
