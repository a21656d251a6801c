"""Tune each language's fusion parameters on judged queries, and report on queries kept out of the tuning.

Each query's two sub-query windows are fetched once (one `_msearch/template`);
every candidate is then fused here with the arithmetic neural-search uses
(tested equal), so a grid of hundreds of candidates costs no further queries.
Queries are split per language by a stable hash of their id: the best
candidate on the tuning part is reported on the held-out part, where a
parameter set that only fits the tuning queries shows.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

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
    """The grid's best candidate on ``tuning`` (``before`` unless one beats it), scored on both parts."""
    grid = candidates(before)
    scores = [score(tuning, windows, languages, params).overall[OBJECTIVE] for params in grid]
    best = max(range(len(grid)), key=scores.__getitem__)
    current = score(tuning, windows, languages, before).overall[OBJECTIVE]
    chosen, tuned = (grid[best], scores[best]) if scores[best] > current else (before, current)
    held = (score(kept_out, windows, languages, before).overall[OBJECTIVE],
            score(kept_out, windows, languages, chosen).overall[OBJECTIVE]) if kept_out else (float("nan"),) * 2
    return LanguageOutcome(lang, chosen, before, len(tuning), len(kept_out), current, tuned, *held)


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
