"""Create indices and bulk-load documents."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from opensearchpy import OpenSearch, helpers


@dataclass
class BulkResult:
    indexed: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)


def recreate_index(client: OpenSearch, index: str, body: dict[str, Any]) -> None:
    """Drop ``index`` if present and create it from ``body``."""
    client.indices.delete(index=index, ignore_unavailable=True)
    client.indices.create(index=index, body=body)


def bulk_index(client: OpenSearch, index: str, documents: Iterable[dict[str, Any]], *, refresh: bool = False) -> BulkResult:
    """Index documents by their product id so a re-run overwrites instead of duplicating."""
    actions = ({"_index": index, "_id": doc["id"], "_source": doc} for doc in documents)
    indexed, errors = helpers.bulk(client, actions, raise_on_error=False, refresh=refresh)
    return BulkResult(indexed=indexed, errors=list(errors))
