"""The parameters of one query for the search templates: fields for its language, boosts, filters, vector, page.

The templates (search_templates/templates/) hold the request's shape; this
module decides what goes into it. Sub-query order is always [lexical, dense];
fusion weights follow that order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from lingodex.ingest.index.documents import field_for
from lingodex.search_templates.filters import Filters
from lingodex.search_templates.search_params import LanguageParams


@dataclass(frozen=True)
class SearchQuery:
    text: str
    lang: str
    vector: Sequence[float]
    filters: Filters = field(default_factory=Filters)
    size: int = 10
    offset: int = 0
    translations: tuple[tuple[str, str], ...] = ()  # (language, the query's text in it)
    # the index's median isolation (ingest/index/hubness.py), for documents without one; None: the index has no
    # isolation scores, so dense search cannot discount hubs in it
    isolation_missing: float | None = None


def check_page(query: SearchQuery, params: LanguageParams) -> None:
    """Fusion only ranks the window's candidates, so a page must end inside it."""
    if query.offset + query.size > params.window:
        raise ValueError(f"from {query.offset} + size {query.size} goes past the fusion window ({params.window}); "
                         "raise `window` (and `k`) for this language in search_params.yaml")


def template_params(query: SearchQuery, params: LanguageParams, analyzed: Sequence[str]) -> dict[str, Any]:
    """Parameters for lingodex-hybrid (and, paged to the window, for lingodex-lexical and lingodex-dense).

    Lexical: the language-agnostic title/description fields (every product,
    whatever language detection filed it under) and the titles' character
    trigrams, the query language's own
    analysed fields, the exact-token field, brand, and the fallback languages'
    titles, each at its boost; a field list whose boosts are all 0 is left out;
    the query's translations on the language-agnostic field and their
    language's title field.
    Dense: k-NN with the filters inside it (efficient filtering, not a
    post-filter that could leave fewer than k); where the index stored
    isolation scores, each candidate's score plus hubness_penalty times its
    isolation (ingest/index/hubness.py).
    """
    boosts = params.boosts
    own = field_for(query.lang, analyzed)
    filters = query.filters.clauses()
    own_fields = _boosted({f"title.{own}": boosts.title, f"description.{own}": boosts.description})
    any_fields = _boosted({"title_all": boosts.title_all, "description_all": boosts.description_all})
    return {
        "query_text": query.text,
        "any_fields": any_fields,
        "has_any": bool(any_fields),
        "own_fields": own_fields,
        "has_own": bool(own_fields),
        "other_fields": [f"title.{lang}^{boosts.other_languages}" for lang in params.fallback_languages if lang != own],
        "cross_lingual": boosts.other_languages > 0 and any(lang != own for lang in params.fallback_languages),
        "trigram_boost": boosts.title_trigrams,
        "trigram_match": params.trigram_match,
        "has_trigrams": boosts.title_trigrams > 0,
        "translations": [{"text": text, "field": f"title.{field_for(lang, analyzed)}", "boost": boosts.translation}
                         for lang, text in query.translations] if boosts.translation > 0 else [],
        "exact_boost": boosts.exact,
        "brand_boost": boosts.brand,
        "vector": [float(x) for x in query.vector],
        "penalise_hubs": params.hubness_penalty > 0 and query.isolation_missing is not None,
        "hubness_penalty": params.hubness_penalty,
        "isolation_missing": query.isolation_missing if query.isolation_missing is not None else 0.0,
        "k": params.k,
        "ef_search": params.ef_search,
        "window": params.window,
        "filters": filters,
        "has_filters": bool(filters),
        "from": query.offset,
        "size": query.size,
    }


def _boosted(fields: dict[str, float]) -> list[str]:
    """``field^boost`` for the fields whose boost is above 0."""
    return [f"{name}^{boost}" for name, boost in fields.items() if boost > 0]


def window_params(query: SearchQuery, params: LanguageParams, analyzed: Sequence[str]) -> dict[str, Any]:
    """The same parameters for one sub-query's whole window (client-side fusion ranks it, then pages)."""
    return {**template_params(query, params, analyzed), "from": 0, "size": params.window}


def searchable_text(text: str, max_chars: int) -> str:
    """At most ``max_chars``, cut at a space where one is near the end.

    Every token becomes a clause in every field searched, and OpenSearch
    refuses a query over `indices.query.bool.max_clause_count` (1024 by
    default): a pasted page of text must not turn into an error.
    """
    if len(text) <= max_chars:
        return text
    cut = text[:max_chars]
    space = cut.rfind(" ")
    return cut[:space] if space > max_chars * 0.8 else cut
