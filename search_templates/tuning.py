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

Small languages are where noise wins: from five or seven queries a grid always
finds something. So a language with fewer than ``min_queries`` tuning queries
gets no choice of its own: it follows the default, which is chosen by the same
rule on every language's queries pooled. And a choice is kept only where the
held-out queries confirm it: when they score it no higher than the current
parameters, the current parameters stay. Windows below ``min_window`` are never
candidates, so a tuned file pages as deep as the one it replaces.
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
WINDOWS = [20, 50, 100, 200]
MIN_QUERIES = 30  # fewer tuning queries than this: the language follows the pooled default
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
    note: str = ""        # why the current parameters stayed, when they did


def candidates(base: LanguageParams, min_window: int = 1) -> list[LanguageParams]:
    """Every fusion and window (none below ``min_window``) in the grid, other parameters as ``base`` has them."""
    found = []
    for window in [window for window in WINDOWS if window >= min_window] or [min_window]:
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
    """Both sub-queries' hits for every query, ``width`` deep, its excluded documents taken out; each query's language."""
    windows, languages = {}, {}
    for query in judged:
        prepared, language, params = searcher.prepare(query.text, lang=query.lang, size=1)
        deep = width + len(query.exclude)
        wide = params.model_copy(update={"window": deep, "k": max(params.k, deep)})
        ranked, _ = searcher.sub_query_hits(index, prepared, wide)
        windows[query.id] = [fusion.Ranked(query.without_excluded(sub_query.hits)[:width]) for sub_query in ranked]
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
         min_queries: int = MIN_QUERIES, min_window: int | None = None) -> tuple[SearchParams, list[LanguageOutcome]]:
    """New parameters and the evidence: the pooled choice as the default, and each language large enough its own.

    ``min_window`` defaults to the current default's window: paging that worked before still works.
    """
    floor = min_window if min_window is not None else searcher.params.default.window
    windows, languages = fetch_windows(searcher, index, judged, max(max(WINDOWS), floor))
    return tune_windows(searcher.params, judged, windows, languages, held_out=held_out, min_queries=min_queries,
                        min_window=floor)


def tune_windows(params: SearchParams, judged: Sequence[JudgedQuery], windows: Windows, languages: dict[str, str], *,
                 held_out: float, min_queries: int, min_window: int) -> tuple[SearchParams, list[LanguageOutcome]]:
    """`tune` over windows already fetched."""
    tuning_all, kept_out_all = split(judged, held_out)
    pooled = choose(POOLED, tuning_all, kept_out_all, windows, languages, params.default, min_window=min_window)
    default = pooled.chosen
    by_language: dict[str, list[JudgedQuery]] = defaultdict(list)
    for query in judged:
        by_language[languages[query.id]].append(query)
    overrides = {lang: _differences(params.for_language(lang), default) for lang in params.languages}
    outcomes = [pooled]
    for lang, queries in sorted(by_language.items()):
        tuning, kept_out = split(queries, held_out)
        if len(tuning) < min_queries:
            continue  # too few to tell a choice from noise: the language keeps its entry, or follows the pooled default
        outcome = choose(lang, tuning, kept_out, windows, languages, params.for_language(lang),
                         min_window=min_window, pooled=default)
        outcomes.append(outcome)
        overrides[lang] = _differences(outcome.chosen, default)
    return SearchParams(default=default, languages={lang: diff for lang, diff in overrides.items() if diff}), outcomes


POOLED = "(all)"  # the outcome of the pooled choice, which becomes the default


def choose(lang: str, tuning: Sequence[JudgedQuery], kept_out: Sequence[JudgedQuery], windows: Windows,
           languages: dict[str, str], before: LanguageParams, *, min_window: int = 1,
           pooled: LanguageParams | None = None) -> LanguageOutcome:
    """The current parameters unless the tuning queries tell them from the grid's best (module docstring).

    Order of preference: the current parameters, then the pooled choice, then
    the plainest candidates; the first the best does not clearly lead wins.
    The held-out queries must then score it higher than the current
    parameters, or the current parameters stay.
    """
    weaker = _weaker_sub_query(tuning, windows, languages)
    plainest = sorted(candidates(before, min_window), key=lambda params: _lean(params, weaker))
    preferred = [before] + ([pooled] if pooled is not None and pooled != before else [])
    grid = preferred + [params for params in plainest if params not in preferred]
    reports = [score(tuning, windows, languages, params) for params in grid]
    best = max(reports, key=lambda report: report.overall[OBJECTIVE])
    chosen, report = next((params, report) for params, report in zip(grid, reports, strict=True)
                          if not _clearly_behind(report, best))
    held_before = held_after = float("nan")
    note = ""
    if kept_out:
        held_before = score(kept_out, windows, languages, before).overall[OBJECTIVE]
        held_after = held_before if chosen == before else score(kept_out, windows, languages, chosen).overall[OBJECTIVE]
        if held_after <= held_before and chosen != before:
            chosen, report, held_after = before, reports[0], held_before
            note = "kept: held-out queries did not improve"
    return LanguageOutcome(lang, chosen, before, len(tuning), len(kept_out), reports[0].overall[OBJECTIVE],
                           report.overall[OBJECTIVE], best.overall[OBJECTIVE], held_before, held_after, note)


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
