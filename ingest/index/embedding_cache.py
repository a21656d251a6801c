"""Skip work a previous load already did, using the index itself as the cache.

The index's _meta pins the encoder (ingest/index/index_versions.py), so a stored
document's ``embed_hash`` (hash of the text that was embedded) identifies its
vector exactly: model + text. A document whose ``content_hash`` is unchanged
needs neither embedding nor indexing.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from dataclasses import dataclass
from typing import Any

from opensearchpy import OpenSearch

from lingodex.ingest.index.indexer import cluster_call


@dataclass(frozen=True)
class Stored:
    index: str
    content_hash: str | None
    embed_hash: str | None
    embedding: list[float] | None
    centring: dict[str, Any] | None = None  # {id, lang, scale} when the stored vector was centred


def stored_documents(client: OpenSearch, indices: Sequence[str], ids: Sequence[str]) -> dict[str, Stored]:
    """What ``indices`` already hold for ``ids`` (first index wins); missing indices are skipped."""
    found: dict[str, Stored] = {}
    for index in indices:
        wanted = [doc_id for doc_id in ids if doc_id not in found]
        if not wanted or not cluster_call(partial(client.indices.exists, index=index)):
            continue
        response = cluster_call(partial(client.mget, index=index, body={"ids": wanted},
                                        params={"_source_includes": "content_hash,embed_hash,embedding,centring"}))
        for doc in response["docs"]:
            if doc.get("found"):
                source = doc["_source"]
                found[doc["_id"]] = Stored(index, source.get("content_hash"), source.get("embed_hash"),
                                           source.get("embedding"), source.get("centring"))
    return found
