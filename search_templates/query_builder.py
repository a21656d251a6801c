"""One search request per query: a lexical sub-query in the query's language, a k-NN sub-query, shared filters.

Sub-query order is always [lexical, dense]; fusion weights follow that order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ingest.documents import field_for
from search_templates.filters import Filters
from search_templates.search_params import LanguageParams

EXCLUDED_SOURCE = ["embedding", "record"]  # vectors and the stored record are large and not for display


@dataclass(frozen=True)
class SearchQuery:
    text: str
    lang: str
    vector: Sequence[float]
    filters: Filters = field(default_factory=Filters)
    size: int = 10
    offset: int = 0


def check_page(query: SearchQuery, params: LanguageParams) -> None:
    """Fusion only ranks the window's candidates, so a page must end inside it."""
    if query.offset + query.size > params.window:
        raise ValueError(f"from {query.offset} + size {query.size} goes past the fusion window ({params.window}); "
                         "raise `window` (and `k`) for this language in search_params.yaml")


def lexical_query(query: SearchQuery, params: LanguageParams, analyzed: Sequence[str]) -> dict[str, Any]:
    """BM25 on the query language's fields, exact tokens and brand; other languages' titles at a lower weight."""
    own = field_for(query.lang, analyzed)
    others = [f"title.{lang}^{params.boosts.other_languages}" for lang in [*analyzed, "other"] if lang != own]
    should: list[dict[str, Any]] = [
        {"multi_match": {"query": query.text, "type": "best_fields",
                         "fields": [f"title.{own}^{params.boosts.title}", f"description.{own}^{params.boosts.description}"]}},
        {"match": {"exact": {"query": query.text, "boost": params.boosts.exact}}},
        {"match": {"brand.text": {"query": query.text, "boost": params.boosts.brand}}},
    ]
    if params.boosts.other_languages > 0:
        should.append({"multi_match": {"query": query.text, "type": "best_fields", "fields": others}})
    return {"bool": {"should": should, "minimum_should_match": 1, "filter": query.filters.clauses()}}


def knn_query(query: SearchQuery, params: LanguageParams) -> dict[str, Any]:
    """k-NN with the filters inside it (efficient filtering), not a post-filter that could leave fewer than k."""
    knn: dict[str, Any] = {"vector": [float(x) for x in query.vector], "k": params.k}
    if query.filters:
        knn["filter"] = {"bool": {"filter": query.filters.clauses()}}
    return {"knn": {"embedding": knn}}


def hybrid_body(query: SearchQuery, params: LanguageParams, analyzed: Sequence[str]) -> dict[str, Any]:
    """A `hybrid` query; the search pipeline it is sent with does the fusion."""
    check_page(query, params)
    return {
        "from": query.offset,
        "size": query.size,
        "_source": {"excludes": EXCLUDED_SOURCE},
        "query": {"hybrid": {"pagination_depth": params.window,
                             "queries": [lexical_query(query, params, analyzed), knn_query(query, params)]}},
    }


def sub_query_bodies(query: SearchQuery, params: LanguageParams, analyzed: Sequence[str]) -> list[dict[str, Any]]:
    """The two sub-queries as plain searches of one fusion window each, for client-side fusion."""
    check_page(query, params)
    return [{"size": params.window, "_source": {"excludes": EXCLUDED_SOURCE}, "query": sub_query}
            for sub_query in (lexical_query(query, params, analyzed), knn_query(query, params))]
