"""One batch of prepared records through the two worker stages: embed, then index.

Stage results are JSON-able typed dicts (ingest/messages.py) because they travel
between Celery tasks (JSON only). Rejections keep the record's source position.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any, cast

import numpy as np
from opensearchpy import OpenSearch

from lingodex.encoder import Encoder
from lingodex.ingest.centring import Centroids
from lingodex.ingest.index.documents import PreparedRecord, embedding_text, text_hash, to_document, vector_language
from lingodex.ingest.index.embedding_cache import Stored
from lingodex.ingest.index.indexer import bulk_index
from lingodex.ingest.messages import EmbedCounts, EmbeddedBatch, IndexedBatch, RejectionMessage
from lingodex.ingest.catalog.validate import Rejection


def embed_records(records: Sequence[PreparedRecord], encoder: Encoder, stored: dict[str, Stored],
                  target_index: str, analyzed: Sequence[str], centroids: Centroids | None = None,
                  stored_centroids: Mapping[str, Centroids | None] | None = None) -> EmbeddedBatch:
    """Documents with vectors: reused when the same text was embedded before, skipped when unchanged.

    ``centroids``: the target index's (None: not centred); ``stored_centroids``: those of the indices the stored
    vectors come from, so that a vector centred for another version is restored to the encoder's and centred anew.
    """
    unchanged, cache_hits, to_embed = 0, 0, []
    reused: list[tuple[PreparedRecord, np.ndarray]] = []
    for record in records:
        previous = stored.get(record.id)
        if previous and previous.index == target_index and previous.content_hash == record.content_hash:
            unchanged += 1
            continue
        text = embedding_text(record)
        raw = None
        if previous and previous.embedding and previous.embed_hash == text_hash(text):
            raw = encoder_vector(previous, (stored_centroids or {}).get(previous.index))
        if raw is None:
            to_embed.append((record, text))
        else:
            cache_hits += 1
            reused.append((record, raw))
    embed_seconds = 0.0
    embedded: list[tuple[PreparedRecord, np.ndarray]] = []
    if to_embed:
        started = time.perf_counter()
        vectors = encoder.encode_passages([text for _, text in to_embed])
        embed_seconds = time.perf_counter() - started
        embedded = [(record, vector) for (record, _), vector in zip(to_embed, vectors, strict=True)]
    return {
        "documents": documents(reused + embedded, analyzed, centroids),
        "positions": {record.id: record.position for record in records},
        "counts": {"embedded": len(to_embed), "cache_hits": cache_hits, "unchanged": unchanged},
        "embed_seconds": embed_seconds,
    }


def encoder_vector(stored: Stored, centroids: Centroids | None) -> np.ndarray | None:
    """The encoder's vector for a stored document; None when it cannot be recovered (then embed again)."""
    if stored.embedding is None:
        return None
    if centroids is None:
        return np.asarray(stored.embedding, dtype=np.float32)
    centring = stored.centring
    if not centring or centring.get("id") != centroids.id:
        return None
    return centroids.restore(stored.embedding, centring["lang"], centring["scale"])


def documents(vectors: Sequence[tuple[PreparedRecord, np.ndarray]], analyzed: Sequence[str],
              centroids: Centroids | None) -> list[dict[str, Any]]:
    """Each record's document, its encoder vector centred when the index is."""
    if not vectors:
        return []
    records = [record for record, _ in vectors]
    raw = np.stack([vector for _, vector in vectors])
    if centroids is None:
        return [to_document(record, vector.tolist(), analyzed) for record, vector in zip(records, raw, strict=True)]
    langs = [vector_language(record) for record in records]
    centred, scales = centroids.centre_passages(raw, langs)
    centring_id = centroids.id
    return [to_document(record, vector.tolist(), analyzed, {"id": centring_id, "lang": lang, "scale": scale})
            for record, vector, lang, scale in zip(records, centred, langs, scales, strict=True)]


def index_embedded(client: OpenSearch, index: str, embedded: EmbeddedBatch, *, refresh: bool = False,
                   centroids: Centroids | None = None) -> IndexedBatch:
    """Bulk-index the embed stage's documents; refused documents become rejections.

    A document whose vector was not centred with the index's ``centroids`` is refused before it is sent:
    one index never mixes vectors centred differently (or not at all), like it never mixes models.
    """
    expected = centroids.id if centroids else None
    fitting, misfits = [], []
    for doc in embedded["documents"]:
        centred_with = (doc.get("centring") or {}).get("id")
        if centred_with == expected:
            fitting.append(doc)
        else:
            misfits.append((doc["id"], f"vector centred with {centred_with or 'no centroids'} but index {index} was "
                                       f"centred with {expected or 'no centroids'}; reload it into this index"))
    outcome = bulk_index(client, index, fitting, refresh=refresh)
    positions = embedded["positions"]
    sources = {document["id"]: document["record"]["product"] for document in embedded["documents"]}
    rejected = [cast(RejectionMessage, asdict(Rejection(positions[doc_id], "index", reason, record_id=doc_id,
                                                        record=sources.get(doc_id))))
                for doc_id, reason in [*misfits, *outcome.rejected]]
    return indexed_batch(embedded["counts"], indexed=outcome.indexed + embedded["counts"]["unchanged"],
                         written=outcome.indexed, rejected=rejected)


def indexed_batch(counts: EmbedCounts, *, indexed: int, written: int, rejected: list[RejectionMessage]) -> IndexedBatch:
    """The index stage's result: the embed stage's counts carried on, with what this stage did."""
    return {"embedded": counts["embedded"], "cache_hits": counts["cache_hits"], "unchanged": counts["unchanged"],
            "retries": counts.get("retries", 0), "indexed": indexed, "written": written, "rejected": rejected}
