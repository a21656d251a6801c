"""Run a hybrid query: fused by a neural-search pipeline on the cluster, or here over `_msearch` without it."""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, TypeVar

import numpy as np
from opensearchpy import OpenSearch
from opensearchpy.exceptions import NotFoundError, RequestError

from lingodex.encoder import Encoder
from lingodex.ingest.centring import Centroids
from lingodex.ingest.index.hubness import Hubness, hubness_of
from lingodex.ingest.index.index_versions import centroids_of
from lingodex.ingest.catalog.language import UNDETERMINED, LanguageDetector, LanguageGuess
from lingodex.ingest.index.mappings import PRODUCTS, schema_version
from lingodex.search_templates import fusion
from lingodex.search_templates.relevance.evaluation import JudgedQuery, Retrieve
from lingodex.search_templates.filters import Filters
from lingodex.search_templates.pipelines import ensure_pipeline, fusion_pipeline, pipeline_missing
from lingodex.search_templates.query_language import DEFAULT_LOCALE_PRIOR, QueryLanguage
from lingodex.search_templates.query_builder import SearchQuery, check_page, searchable_text, template_params, window_params
from lingodex.search_templates.search_params import LanguageParams, SearchParams
from lingodex.search_templates.templates import DENSE, HYBRID, LEXICAL, push_templates
from lingodex.search_templates.translation import Translators

log = logging.getLogger(__name__)

FusionMode = Literal["auto", "server", "client"]
Strategy = Literal["hybrid", "lexical", "dense"]
NEURAL_SEARCH = "opensearch-neural-search"
CENTROIDS_TTL_S = 10.0  # after an alias swap, queries follow the new version's centroids within this
SUB_QUERIES = ("lexical", "dense")
T = TypeVar("T")


@dataclass(frozen=True)
class Hit:
    id: str
    score: float
    source: dict[str, Any]
    # with explain: per sub-query (raw score, normalised score); absent when that sub-query missed it
    sub_scores: dict[str, tuple[float, float]] = field(default_factory=dict)
    # with explain, fused on the cluster: neural-search's own account (hybrid_score_explanation processor)
    explanation: dict[str, Any] | None = None

    @property
    def title(self) -> str:
        titles = self.source.get("title", {})
        return titles.get(self.source.get("lang", ""), next(iter(titles.values()), ""))


@dataclass(frozen=True)
class SearchResult:
    hits: list[Hit]
    searched_text: str  # the query text, cut to max_query_chars
    language: LanguageGuess
    fusion: Literal["server", "client", "none"]  # none: a lexical or dense strategy, nothing to fuse
    pipeline: str | None
    params: LanguageParams
    translations: tuple[tuple[str, str], ...] = ()  # (language, text): the extra lexical clauses searched


class HybridSearcher:
    """Language detection, query embedding (same encoder as ingest, query prefix) and fusion, for one index."""

    def __init__(self, client: OpenSearch, encoder: Encoder, params: SearchParams, detector: LanguageDetector,
                 analyzed: list[str], fusion_mode: FusionMode = "auto", max_query_chars: int = 256,
                 translators: Translators | None = None, locale: str | None = None,
                 locale_prior: float = DEFAULT_LOCALE_PRIOR) -> None:
        """``locale``: the shop's default locale, for queries that give none (search_templates/query_language.py)."""
        self.client, self.encoder, self.params, self.detector, self.analyzed = client, encoder, params, detector, analyzed
        self.fusion_mode, self.max_query_chars = fusion_mode, max_query_chars
        self.translators = translators or Translators([])
        self.languages, self.locale = QueryLanguage(detector, locale_prior), locale
        self._catalog_languages: dict[str, tuple[float, list[str] | None]] = {}
        self._pipelines: set[str] = set()
        self._templates_pushed = False
        self._schema_checked: set[str] = set()
        self._centroids: dict[str, tuple[float, Centroids | None]] = {}
        self._hubness: dict[str, tuple[float, Hubness | None]] = {}

    def with_params(self, params: SearchParams) -> HybridSearcher:
        """The same searcher (encoder, client, caches) under other search parameters: configurations side by side."""
        other = copy.copy(self)
        other.params = params
        return other

    def search(self, index: str, text: str, *, lang: str | None = None, locale: str | None = None,
               filters: Filters | None = None, size: int = 10, offset: int = 0, explain: bool = False,
               strategy: Strategy = "hybrid") -> SearchResult:
        """``lang``: the query's language, if known; else ``locale`` (or the searcher's) weighs the detection."""
        self._warn_if_older_schema(index)
        query, language, params = self.prepare(text, index=index, lang=lang, locale=locale, filters=filters, size=size,
                                               offset=offset, embed=strategy != "lexical")
        if strategy != "hybrid":
            hits = self.one_sub_query(index, query, params, LEXICAL if strategy == "lexical" else DENSE)
            return SearchResult(hits, query.text, language, "none", None, params, query.translations)
        check_page(query, params)
        mode = self._mode()
        if mode == "server":
            hits = self.fused_on_cluster(index, query, params, explain=explain)
            if explain:  # the cluster's explanation does not say which sub-query a score came from
                hits = with_sub_scores(hits, self.sub_query_hits(index, query, params)[0], params)
        else:
            hits = self.fused_here(index, query, params, explain=explain)
        pipeline = fusion_pipeline(params)[0] if mode == "server" else None
        return SearchResult(hits, query.text, language, mode, pipeline, params, query.translations)

    def one_sub_query(self, index: str, query: SearchQuery, params: LanguageParams, template: str) -> list[Hit]:
        """Lexical or dense alone, with its own scores: the baselines hybrid is measured against."""
        self._ensure_templates()
        body = {"id": template, "params": template_params(query, params, self.analyzed)}
        return _hits(self.client.search_template(index=index, body=body))

    def prepare(self, text: str, *, index: str | None, lang: str | None = None, locale: str | None = None,
                filters: Filters | None = None, size: int = 10, offset: int = 0,
                embed: bool = True) -> tuple[SearchQuery, LanguageGuess, LanguageParams]:
        """The query as the templates get it: text cut to max_query_chars, its language and parameters, its vector.

        The vector is centred with ``index``'s language centroids when its documents were (None: as encoded).
        ``embed=False`` leaves it empty: a lexical search must not pay for the encoder.
        """
        (prepared, language), = self._prepare_many([(text, lang)], index, locale, embed=embed)
        query = replace(prepared, filters=filters or Filters(), size=size, offset=offset)
        return query, language, self.params.for_language(language.code)

    def prepare_many(self, queries: Sequence[tuple[str, str | None]], index: str | None) -> list[SearchQuery]:
        """(text, language or None) pairs as `prepare` makes them, embedded in batches: for evaluation and tuning."""
        return [query for query, _ in self._prepare_many(queries, index)]

    def _prepare_many(self, queries: Sequence[tuple[str, str | None]], index: str | None,
                      locale: str | None = None, embed: bool = True) -> list[tuple[SearchQuery, LanguageGuess]]:
        texts = [searchable_text(text, self.max_query_chars) for text, _ in queries]
        languages = [self.query_language(text, index, lang=lang, locale=locale)
                     for text, (_, lang) in zip(texts, queries, strict=True)]
        if not embed:
            return [(SearchQuery(text, language.code, (), translations=self.translations(text, language.code)),
                     language) for text, language in zip(texts, languages, strict=True)]
        vectors = [vector for start in range(0, len(texts), 256)
                   for vector in self.encoder.encode_queries(texts[start:start + 256])]
        centroids = self.centroids(index) if index and vectors else None
        if centroids is not None:
            vectors = list(centroids.centre_queries(np.stack(vectors), [language.code for language in languages]))
        hubness = self.hubness(index) if index and vectors else None
        missing = hubness.median_isolation if hubness else None
        return [(SearchQuery(text, language.code, vector, translations=self.translations(text, language.code),
                             isolation_missing=missing), language)
                for text, language, vector in zip(texts, languages, vectors, strict=True)]

    def centred(self, index: str, texts: Sequence[str], vectors: np.ndarray, role: Literal["query", "passage"],
                lang: str | None = None) -> np.ndarray:
        """Vectors as ``index`` holds them: queries as its dense search sends them, passages as `lingodex ingest`
        stores them — minus that role's centroid of each text's language (given, or detected as `search` detects
        it; ingest may also have had a declared one); as encoded when the index is not centred."""
        centroids = self.centroids(index)
        if centroids is None:
            return vectors
        langs = [self.query_language(text, index, lang=lang).code for text in texts]
        if role == "query":
            return centroids.centre_queries(vectors, langs)
        return centroids.centre_passages(vectors, langs)[0]

    def query_language(self, text: str, index: str | None, *, lang: str | None = None,
                       locale: str | None = None) -> LanguageGuess:
        """Declared, else detected among ``index``'s languages, weighed by the locale (query_language.py)."""
        if lang:
            return self.languages.resolve(text, lang=lang)
        catalog = self.catalog_languages(index) if index else None
        return self.languages.resolve(text, locale=locale or self.locale, catalog=catalog)

    def catalog_languages(self, index: str) -> list[str] | None:
        """The languages ``index``'s documents are in (at least 0.1 % of them), re-read every CENTROIDS_TTL_S.

        None when the index is empty or missing: then detection chooses among all the languages it knows.
        """
        def read() -> list[str] | None:
            response = self.client.search(index=index, body={
                "size": 0, "track_total_hits": True, "aggs": {"languages": {"terms": {"field": "lang", "size": 200}}}})
            total = response["hits"]["total"]["value"]
            return [bucket["key"] for bucket in response["aggregations"]["languages"]["buckets"]
                    if bucket["key"] != UNDETERMINED and bucket["doc_count"] >= 0.001 * total] or None

        return _fresh(self._catalog_languages, index, read)

    def translations(self, text: str, lang: str) -> tuple[tuple[str, str], ...]:
        """``text`` in each of its language's ``translate_to`` languages that a translator has (failures skipped)."""
        found = []
        for target in self.params.for_language(lang).translate_to:
            translated = self.translators.translate(text, lang, target)  # None for lang itself, or no translator
            if translated:
                found.append((target, translated))
        return tuple(found)

    def centroids(self, index: str) -> Centroids | None:
        """``index``'s language centroids, re-read at most every CENTROIDS_TTL_S (an alias may move to a new version)."""
        return _fresh(self._centroids, index, lambda: centroids_of(self.client, index))

    def hubness(self, index: str) -> Hubness | None:
        """``index``'s isolation-score record (None: no scores, dense search as the k-NN scores alone), re-read at
        most every CENTROIDS_TTL_S."""
        return _fresh(self._hubness, index, lambda: hubness_of(self.client, index))

    def template_params_for(self, text: str, *, index: str | None, lang: str | None = None,
                            filters: Filters | None = None, size: int = 10, offset: int = 0) -> dict[str, Any]:
        """What a template gets for this query (for `_rank_eval`, `lingodex templates render`)."""
        query, _, params = self.prepare(text, index=index, lang=lang, filters=filters, size=size, offset=offset)
        return template_params(query, params, self.analyzed)

    def _mode(self) -> Literal["server", "client"]:
        if self.fusion_mode != "auto":
            return self.fusion_mode
        plugins = {row["component"] for row in self.client.cat.plugins(format="json")}
        self.fusion_mode = "server" if NEURAL_SEARCH in plugins else "client"
        return self.fusion_mode

    def fused_on_cluster(self, index: str, query: SearchQuery, params: LanguageParams, *,
                         explain: bool = False) -> list[Hit]:
        """The lingodex-hybrid template through the neural-search pipeline for these parameters."""
        pipeline = ensure_pipeline(self.client, params, self._pipelines)
        body = {"id": HYBRID, "params": template_params(query, params, self.analyzed), "explain": explain}
        self._ensure_templates()
        try:
            response = self.client.search_template(index=index, body=body, params={"search_pipeline": pipeline})
        except RequestError as error:
            if not pipeline_missing(error, pipeline):
                raise
            # another client deleted it (names are content hashes, shared by every index with these parameters)
            self._pipelines.discard(pipeline)
            ensure_pipeline(self.client, params, self._pipelines)
            response = self.client.search_template(index=index, body=body, params={"search_pipeline": pipeline})
        return _hits(response)

    def fused_here(self, index: str, query: SearchQuery, params: LanguageParams, *,
                   explain: bool = False) -> list[Hit]:
        """Both sub-query templates in one `_msearch/template`, fused by the same arithmetic in this process."""
        ranked, sources = self.sub_query_hits(index, query, params)
        fused = fuse(ranked, params)
        page = fusion.ordered(fused)[query.offset:query.offset + query.size]
        hits = [Hit(doc, score, sources[doc]) for doc, score in page]
        return with_sub_scores(hits, ranked, params) if explain else hits

    def sub_query_hits(self, index: str, query: SearchQuery,
                       params: LanguageParams) -> tuple[list[fusion.Ranked], dict[str, dict[str, Any]]]:
        """Each sub-query's window of hits, from one `_msearch/template`."""
        self._ensure_templates()
        window = window_params(query, params, self.analyzed)
        lines: list[dict[str, Any]] = []
        for template in (LEXICAL, DENSE):
            lines += [{"index": index}, {"id": template, "params": window}]
        responses = self.client.msearch_template(body=lines)["responses"]
        ranked, sources = [], {}
        for name, response in zip(SUB_QUERIES, responses, strict=True):
            ranked.append(_ranked(response, f"the {name} sub-query"))
            sources.update({hit["_id"]: hit["_source"] for hit in response["hits"]["hits"]})
        return ranked, sources

    def sub_query_many(self, index: str, template: str,
                       queries: Sequence[tuple[SearchQuery, LanguageParams]]) -> list[fusion.Ranked]:
        """One sub-query template for many queries, each with its parameters, its whole window: one `_msearch/template`."""
        self._ensure_templates()
        lines: list[dict[str, Any]] = []
        for query, params in queries:
            lines += [{"index": index}, {"id": template, "params": window_params(query, params, self.analyzed)}]
        responses = self.client.msearch_template(body=lines)["responses"] if lines else []
        return [_ranked(response, f"the {template} template") for response in responses]

    def _warn_if_older_schema(self, index: str) -> None:
        """Once per index: an index built before title_all existed finds little lexically until it is reindexed."""
        if index in self._schema_checked:
            return
        self._schema_checked.add(index)
        for name, mapping in self.client.indices.get_mapping(index=index).items():
            schema = mapping["mappings"].get("_meta", {}).get("lingodex_schema", 0)
            if schema < schema_version(PRODUCTS):
                log.warning("index %s has mapping schema %s, older than the queries (%s): it lacks what later schemas "
                            "added (3: language-agnostic lexical fields; 4: hubness scores for dense search) until "
                            "`lingodex reindex --alias %s`", name, schema,
                            schema_version(PRODUCTS), index)

    def _ensure_templates(self) -> None:
        """Store the templates once per searcher, so a fresh cluster needs no separate push."""
        if not self._templates_pushed:
            push_templates(self.client)
            self._templates_pushed = True


def _fresh(cache: dict[str, tuple[float, T | None]], index: str, read: Callable[[], T | None]) -> T | None:
    """``read()`` for ``index``, kept CENTROIDS_TTL_S (an alias may move to a new version); None if it is missing
    (the search itself then reports the missing index)."""
    cached = cache.get(index)
    if cached is None or time.monotonic() - cached[0] > CENTROIDS_TTL_S:
        try:
            cached = (time.monotonic(), read())
        except NotFoundError:
            cached = (time.monotonic(), None)
        cache[index] = cached
    return cached[1]


def fuse(ranked: list[fusion.Ranked], params: LanguageParams) -> dict[str, float]:
    """Client-side fusion with the same parameters the server-side pipeline would get."""
    if params.fusion == "rrf":
        return fusion.reciprocal_rank(ranked, params.rank_constant)
    normalized = [fusion.normalize(sub_query, params.normalization) for sub_query in ranked]
    return fusion.combine(normalized, params.weights, params.combination)


def with_sub_scores(hits: list[Hit], ranked: list[fusion.Ranked], params: LanguageParams) -> list[Hit]:
    """Each hit with its (raw, normalised) score from every sub-query that found it."""
    normalized = [fusion.normalize(sub_query, params.normalization) for sub_query in ranked]
    raw = [dict(sub_query.hits) for sub_query in ranked]
    return [replace(hit, sub_scores={name: (raw[i][hit.id], normalized[i][hit.id])
                                     for i, name in enumerate(SUB_QUERIES) if hit.id in raw[i]})
            for hit in hits]


def _ranked(response: dict[str, Any], what: str) -> fusion.Ranked:
    """One `_msearch` response's (id, score) hits; its error raised, naming ``what`` failed."""
    if "error" in response:
        raise RuntimeError(f"{what} failed: {response['error']}")
    return fusion.Ranked([(hit["_id"], float(hit["_score"])) for hit in response["hits"]["hits"]])


def _hits(response: dict[str, Any]) -> list[Hit]:
    return [Hit(raw["_id"], float(raw["_score"]), raw["_source"], explanation=raw.get("_explanation"))
            for raw in response["hits"]["hits"]]


def retriever(searcher: HybridSearcher, index: str, strategy: Strategy, depth: int = 100) -> Retrieve:
    """Judged queries through a strategy, ``depth`` hits each (at most the language's fusion window for hybrid)."""
    def retrieve(query: JudgedQuery) -> tuple[list[tuple[str, float]], str]:
        lang = query.lang or searcher.query_language(query.text, index).code
        wanted = depth + len(query.exclude)  # run_queries removes the excluded hits after
        size = wanted if strategy != "hybrid" else min(wanted, searcher.params.for_language(lang).window)
        result = searcher.search(index, query.text, lang=lang, size=size, strategy=strategy)
        return [(hit.id, hit.score) for hit in result.hits], result.language.code
    return retrieve
