"""Build one hybrid (lexical + k-NN) request for a query in a known language."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def lexical_query(text: str, lang_field: str) -> dict[str, Any]:
    """BM25 over the query language's title field, other languages' fields at a lower weight."""
    return {
        "multi_match": {
            "query": text,
            "fields": [f"title.{lang_field}^3", "title.*"],
            "type": "best_fields",
        }
    }


def knn_query(vector: Sequence[float], k: int) -> dict[str, Any]:
    return {"knn": {"embedding": {"vector": [float(x) for x in vector], "k": k}}}


def hybrid_request(text: str, vector: Sequence[float], lang_field: str, *, size: int = 10, window: int = 50) -> dict[str, Any]:
    """A ``hybrid`` query body; fusion happens in the search pipeline it is sent with.

    Sub-query order is [lexical, dense]; pipeline weights follow that order.
    """
    return {
        "size": size,
        "_source": {"excludes": ["embedding"]},
        "query": {
            "hybrid": {
                "pagination_depth": window,
                "queries": [lexical_query(text, lang_field), knn_query(vector, window)],
            }
        },
    }
