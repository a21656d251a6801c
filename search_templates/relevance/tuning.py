"""Tune each language's lexical boosts and fusion on judged queries, and report on queries kept out of the tuning.

Lexical boosts first (search_templates/relevance/lexical_tuning.py), since they change
the lexical hits that fusion mixes. Then each query's two sub-query windows
are fetched once (one `_msearch/template`); every fusion candidate is fused
here with the arithmetic neural-search uses (tested equal), as array
arithmetic over all queries at once (search_templates/relevance/fusion_grid.py),
so a grid of hundreds of candidates costs no further queries and seconds, not
hours, on thousands of judged queries. Queries are split by a stable
hash of their id: the candidate chosen on the tuning part is reported on the
held-out part, where a parameter set that only fits the tuning queries shows.

The rule (search_templates/relevance/choice.py) picks the first candidate the best does
not clearly beat, in an order of preference: here the plainest first, leaning
least on the sub-query that is weaker on those queries (a signal keeps its
weight only by earning it), the current parameters first among equals, then
the pooled choice. Held-out queries must confirm it.

Small languages are where noise wins: from five or seven queries a grid always
finds something. So a language with fewer than ``min_queries`` tuning queries
gets no choice of its own: it follows the default, which is chosen by the same
rule on every language's queries pooled. Windows below ``min_window`` are never
candidates, so a tuned file pages as deep as the one it replaces.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import yaml

from lingodex.search_templates import fusion
from lingodex.search_templates.relevance.choice import OBJECTIVE, POOLED, LanguageOutcome, pick, split
from lingodex.search_templates.relevance.evaluation import JudgedQuery, Report, evaluate, ranking
from lingodex.search_templates.relevance.fusion_grid import FusionGrid, grid_report
from lingodex.search_templates.relevance.lexical_tuning import prepare_queries, tune_boosts
from lingodex.search_templates.query_builder import SearchQuery
from lingodex.search_templates.search_params import LanguageParams, SearchParams
from lingodex.search_templates.searcher import HybridSearcher, fuse
from lingodex.search_templates.templates import DENSE, LEXICAL

log = logging.getLogger(__name__)
WINDOWS_PER_REQUEST = 50  # queries per _msearch when fetching fusion windows
WEIGHTS = [round(0.1 * step, 1) for step in range(11)]
NORMALIZATIONS = [("min_max", "arithmetic_mean"), ("min_max", "geometric_mean"), ("min_max", "harmonic_mean"),
                  ("l2", "arithmetic_mean"), ("l2", "geometric_mean"), ("l2", "harmonic_mean"),
                  ("z_score", "arithmetic_mean")]  # neural-search combines z_score only arithmetically
RANK_CONSTANTS = [10, 30, 60, 100]
WINDOWS = [20, 50, 100, 200]
MIN_QUERIES = 30  # fewer tuning queries than this: the language follows the pooled default

Windows = dict[str, list[fusion.Ranked]]  # query id -> [lexical, dense] hits, the widest window


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


def fetch_windows(searcher: HybridSearcher, index: str, judged: Sequence[JudgedQuery], width: int,
                  params: SearchParams | None = None,
                  prepared: dict[str, SearchQuery] | None = None) -> tuple[Windows, dict[str, str]]:
    """Both sub-queries' hits for every query, ``width`` deep, its excluded documents taken out; each query's language.

    ``params``: whose lexical boosts to search with (default the searcher's);
    ``prepared``: the queries already embedded (lexical_tuning.prepare_queries).
    """
    params = params or searcher.params
    if prepared is None:
        prepared, _ = prepare_queries(searcher, index, judged)
    windows: Windows = {}
    for start in range(0, len(judged), WINDOWS_PER_REQUEST):  # one _msearch per sub-query for a chunk of queries
        chunk = judged[start:start + WINDOWS_PER_REQUEST]
        asked = [(prepared[query.id], _widened(params.for_language(prepared[query.id].lang), width + len(query.exclude)))
                 for query in chunk]
        lexical, dense = (searcher.sub_query_many(index, template, asked) for template in (LEXICAL, DENSE))
        for query, *ranked in zip(chunk, lexical, dense, strict=True):
            windows[query.id] = [fusion.Ranked(query.without_excluded(sub_query.hits)[:width]) for sub_query in ranked]
    return windows, {qid: query.lang for qid, query in prepared.items()}


def _widened(params: LanguageParams, depth: int) -> LanguageParams:
    """``params`` fetching ``depth`` hits from each sub-query (k at least as deep)."""
    return params.model_copy(update={"window": depth, "k": max(params.k, depth)})


def score(judged: Sequence[JudgedQuery], windows: Windows, languages: dict[str, str], params: LanguageParams) -> Report:
    """Every metric of one candidate, fused query by query in Python and scored by trec_eval (the grid's reference)."""
    run = {}
    for query in judged:
        cut = [fusion.Ranked(ranked.hits[:params.window]) for ranked in windows[query.id]]
        run[query.id] = ranking(fusion.ordered(fuse(cut, params)))
    return evaluate(judged, run, languages)


def sub_query_run(judged: Sequence[JudgedQuery], windows: Windows, which: int) -> dict[str, dict[str, float]]:
    """One sub-query alone (0 lexical, 1 dense), as an evaluation run."""
    return {query.id: ranking(windows[query.id][which].hits) for query in judged}


def tune(searcher: HybridSearcher, index: str, judged: Sequence[JudgedQuery], *, held_out: float = 0.3,
         min_queries: int = MIN_QUERIES, min_window: int | None = None,
         lexical: bool = True) -> tuple[SearchParams, list[LanguageOutcome]]:
    """New parameters and the evidence: lexical boosts, then fusion; pooled for the default, per language where large enough.

    ``min_window`` defaults to the current default's window: paging that worked before still works.
    """
    floor = min_window if min_window is not None else searcher.params.default.window
    log.info(f"tune: embedding {len(judged)} judged queries")
    prepared, languages = prepare_queries(searcher, index, judged)
    params, outcomes = searcher.params, list[LanguageOutcome]()
    if lexical:
        params, outcomes = tune_boosts(searcher, index, params, judged, prepared, held_out=held_out,
                                       min_queries=min_queries)
    log.info(f"tune fusion: fetching both sub-queries' windows for {len(judged)} queries")
    windows, _ = fetch_windows(searcher, index, judged, max(max(WINDOWS), floor), params, prepared)
    tuned, fusion_outcomes = tune_windows(params, judged, windows, languages, held_out=held_out, min_queries=min_queries,
                                          min_window=floor)
    return tuned, outcomes + fusion_outcomes


def tune_windows(params: SearchParams, judged: Sequence[JudgedQuery], windows: Windows, languages: dict[str, str], *,
                 held_out: float, min_queries: int, min_window: int) -> tuple[SearchParams, list[LanguageOutcome]]:
    """The fusion stage of `tune`, over windows already fetched."""
    tuning_all, kept_out_all = split(judged, held_out)
    grid = FusionGrid(judged, windows)
    grid.prime(candidates(params.default, min_window))
    pooled = choose(POOLED, tuning_all, kept_out_all, windows, languages, params.default, min_window=min_window,
                    grid=grid)
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
                         min_window=min_window, pooled=default, grid=grid)
        outcomes.append(outcome)
        overrides[lang] = _differences(outcome.chosen, default)
    return SearchParams(default=default, languages={lang: diff for lang, diff in overrides.items() if diff}), outcomes


def choose(lang: str, tuning: Sequence[JudgedQuery], kept_out: Sequence[JudgedQuery], windows: Windows,
           languages: dict[str, str], before: LanguageParams, *, min_window: int = 1,
           pooled: LanguageParams | None = None, grid: FusionGrid | None = None) -> LanguageOutcome:
    """The plainest fusion the tuning queries cannot tell from the grid's best, if held-out queries confirm it.

    Among equally plain candidates the current parameters come first, then the pooled choice. ``grid``: the
    windows as arrays, when the caller shares them between languages.
    """
    grid = grid or FusionGrid([*tuning, *kept_out], windows)
    weaker = _weaker_sub_query(tuning, windows, languages)
    ordered = sorted([before, *candidates(before, min_window)],
                     key=lambda params: (_lean(params, weaker), params != before, params != pooled))
    return pick(lang, ordered, before, tuning, kept_out,
                lambda queries, params: grid_report(grid, queries, params, languages))


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
