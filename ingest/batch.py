"""One batch of prepared records through the two worker stages: embed, then index.

Stage results are plain JSON-able dicts because they travel between Celery
tasks (JSON only). Rejections keep the record's source position.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from opensearchpy import OpenSearch

from encoder import Encoder
from ingest.documents import PreparedRecord, embedding_text, text_hash, to_document
from ingest.embedding_cache import Stored
from ingest.indexer import bulk_index
from ingest.validate import Rejection


def embed_records(records: Sequence[PreparedRecord], encoder: Encoder, stored: dict[str, Stored],
                  target_index: str, analyzed: Sequence[str]) -> dict[str, Any]:
    """Documents with vectors: reused when the same text was embedded before, skipped when unchanged."""
    documents, unchanged, cache_hits, to_embed = [], 0, 0, []
    for record in records:
        previous = stored.get(record.id)
        if previous and previous.index == target_index and previous.content_hash == record.content_hash:
            unchanged += 1
            continue
        text = embedding_text(record)
        if previous and previous.embedding and previous.embed_hash == text_hash(text):
            cache_hits += 1
            documents.append(to_document(record, previous.embedding, analyzed))
        else:
            to_embed.append((record, text))
    embed_seconds = 0.0
    if to_embed:
        started = time.perf_counter()
        vectors = encoder.encode_passages([text for _, text in to_embed])
        embed_seconds = time.perf_counter() - started
        documents += [to_document(record, vector.tolist(), analyzed)
                      for (record, _), vector in zip(to_embed, vectors, strict=True)]
    return {
        "documents": documents,
        "positions": {record.id: record.position for record in records},
        "counts": {"embedded": len(to_embed), "cache_hits": cache_hits, "unchanged": unchanged},
        "embed_seconds": embed_seconds,  # the encoder alone, for the embed-latency metric
    }


def index_embedded(client: OpenSearch, index: str, embedded: dict[str, Any], *, refresh: bool = False) -> dict[str, Any]:
    """Bulk-index the embed stage's documents; refused documents become rejections."""
    outcome = bulk_index(client, index, embedded["documents"], refresh=refresh)
    positions = embedded["positions"]
    sources = {document["id"]: document["record"]["product"] for document in embedded["documents"]}
    rejected = [asdict(Rejection(positions[doc_id], "index", reason, record_id=doc_id, record=sources.get(doc_id)))
                for doc_id, reason in outcome.rejected]
    counts = embedded["counts"]
    return {**counts, "indexed": outcome.indexed + counts["unchanged"], "written": outcome.indexed, "rejected": rejected}
