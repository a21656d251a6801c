"""Tune the lexical sub-query's field boosts on judged queries, one boost at a time (coordinate ascent).

Each boost in ``STEPS`` has a short list of values; in turn, each value is
tried with the other boosts as chosen so far. Unlike fusion, every candidate
needs its own lexical queries: one `_msearch/template` per 100 judged queries,
its hits cached, so a candidate costs one pass over the queries. ``title_all``
stays at 1 as the anchor (BM25 boosts only matter relative to each other).
The choice rule is fusion's (search_templates/relevance/choice.py) with the current
boosts preferred: a boost moves only when the tuning queries clearly prefer
another value and the held-out queries confirm it. As for fusion, the choice
on every language's queries pooled becomes the default, and only languages
with enough queries get their own.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from lingodex.search_templates.relevance.choice import POOLED, LanguageOutcome, pick, split
from lingodex.search_templates.relevance.evaluation import JudgedQuery, Report, Run, evaluate, ranking
from lingodex.search_templates.query_builder import SearchQuery
from lingodex.search_templates.search_params import Boosts, LanguageParams, SearchParams
from lingodex.search_templates.searcher import HybridSearcher
from lingodex.search_templates.templates import LEXICAL

STEPS: dict[str, list[float]] = {"title": [0.0, 0.1, 0.3, 1.0], "title_trigrams": [0.0, 0.1, 0.3, 1.0],
                                 "exact": [0.0, 0.2, 0.5, 1.0], "translation": [0.0, 0.3, 1.0, 3.0]}
DEPTH = 100  # lexical hits scored per query


def prepare_queries(searcher: HybridSearcher, index: str,
                    judged: Sequence[JudgedQuery]) -> tuple[dict[str, SearchQuery], dict[str, str]]:
    """Every judged query as the templates get it (text cut, language, vector: embedded in batches); and its language."""
    prepared = searcher.prepare_many([(query.text, query.lang) for query in judged], index)
    queries = {query.id: search_query for query, search_query in zip(judged, prepared, strict=True)}
    return queries, {qid: query.lang for qid, query in queries.items()}


def tune_boosts(searcher: HybridSearcher, index: str, params: SearchParams, judged: Sequence[JudgedQuery],
                prepared: dict[str, SearchQuery], *, held_out: float,
                min_queries: int) -> tuple[SearchParams, list[LanguageOutcome]]:
    """``params`` with tuned boosts: the pooled choice as the default's, languages with enough queries their own."""
    languages = {qid: query.lang for qid, query in prepared.items()}
    score = _LexicalScore(searcher, index, params, prepared, languages)
    translated = any(query.translations for query in prepared.values())
    steps = {name: values for name, values in STEPS.items() if name != "translation" or translated}
    pooled = _ascend(POOLED, params.default, *split(judged, held_out), steps, score)
    default = params.default.model_copy(update={"boosts": pooled.chosen.boosts})
    overrides: dict[str, dict[str, Any]] = {lang: dict(entry) for lang, entry in params.languages.items()}
    staged = SearchParams(default=default, languages=overrides)
    by_language: dict[str, list[JudgedQuery]] = defaultdict(list)
    for query in judged:
        by_language[languages[query.id]].append(query)
    outcomes = [pooled]
    for lang, queries in sorted(by_language.items()):
        tuning, kept_out = split(queries, held_out)
        if len(tuning) < min_queries:
            continue
        outcome = _ascend(lang, staged.for_language(lang), tuning, kept_out, steps, score)
        outcomes.append(outcome)
        difference = {key: value for key, value in outcome.chosen.boosts.model_dump().items()
                      if value != getattr(default.boosts, key)}
        overrides.setdefault(lang, {}).pop("boosts", None)
        if difference:
            overrides[lang]["boosts"] = difference
    return SearchParams(default=default, languages={lang: entry for lang, entry in overrides.items() if entry}), outcomes


def _ascend(lang: str, before: LanguageParams, tuning: Sequence[JudgedQuery], kept_out: Sequence[JudgedQuery],
            steps: dict[str, list[float]],
            score: Callable[[Sequence[JudgedQuery], LanguageParams], Report]) -> LanguageOutcome:
    """One boost at a time, each step by the choice rule; the outcome compares the end with ``before``."""
    current = before
    for name, values in steps.items():
        others = [_with_boost(current, name, value) for value in values if value != getattr(current.boosts, name)]
        grid = [current, *(candidate for candidate in others if candidate is not None)]
        current = pick(lang, grid, current, tuning, kept_out, score, stage="lexical").chosen
    return pick(lang, [current, before] if current != before else [before], before, tuning, kept_out, score,
                stage="lexical")


def _with_boost(params: LanguageParams, name: str, value: float) -> LanguageParams | None:
    """``params`` with one boost changed; None where that would search no title."""
    try:
        boosts = Boosts.model_validate({**params.boosts.model_dump(), name: value})
    except ValueError:
        return None
    return params.model_copy(update={"boosts": boosts})


class _LexicalScore:
    """Scores boost candidates by their lexical hits, fetching each (query, boosts) once."""

    def __init__(self, searcher: HybridSearcher, index: str, params: SearchParams, prepared: dict[str, SearchQuery],
                 languages: dict[str, str]) -> None:
        self.searcher, self.index, self.params, self.prepared, self.languages = searcher, index, params, prepared, languages
        self.runs: dict[tuple[str, str], dict[str, float]] = {}

    def __call__(self, queries: Sequence[JudgedQuery], candidate: LanguageParams) -> Report:
        key = candidate.boosts.model_dump_json()
        missing = [query for query in queries if (query.id, key) not in self.runs]
        for start in range(0, len(missing), 100):
            self._fetch(missing[start:start + 100], candidate.boosts, key)
        run: Run = {query.id: self.runs[(query.id, key)] for query in queries}
        return evaluate(queries, run, self.languages)

    def _fetch(self, queries: Sequence[JudgedQuery], boosts: Boosts, key: str) -> None:
        pairs = []
        for query in queries:
            own = self.params.for_language(self.languages[query.id])
            deep = DEPTH + len(query.exclude)
            pairs.append((self.prepared[query.id], own.model_copy(update={"boosts": boosts, "window": deep,
                                                                          "k": max(own.k, deep)})))
        for query, ranked in zip(queries, self.searcher.sub_query_many(self.index, LEXICAL, pairs), strict=True):
            self.runs[(query.id, key)] = ranking(query.without_excluded(ranked.hits)[:DEPTH])
