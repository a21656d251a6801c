"""The ingest pipeline's wire contract: what the job sends its Celery tasks and what comes back.

Task names and queues are fixed strings, never derived from module paths: messages an older release queued
must still find their task after an upgrade or a move of the code. Results travel as JSON (Celery's only
serializer here), so they are typed dicts; the job validates each one where it receives it, so a worker of
another version that returns a different shape fails its batch with a message naming the field, instead of a
KeyError in the middle of a tally.
"""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter
from typing_extensions import NotRequired, TypedDict

PING = "lingodex.ping"
EMBED_BATCH = "lingodex.embed_batch"  # (index, cache indices, prepared records) -> EmbeddedBatch
INDEX_BATCH = "lingodex.index_batch"  # (EmbeddedBatch, index) -> IndexedBatch
LANGUAGE_SUMS = "lingodex.language_sums"  # (texts, languages) -> LanguageSums.to_json()
REFERENCE_SUMS = "lingodex.reference_sums"  # () -> LanguageSums.to_json()

JOB_HEADER = "lingodex_job"  # message headers every task of a load carries: its log lines name the job and batch
BATCH_HEADER = "lingodex_batch"

EMBED_QUEUE = "embed"  # the encoder's queue: GPU or CPU workers, one model per process
INDEX_QUEUE = "index"  # bulk requests: any worker near the cluster


class EmbedCounts(TypedDict):
    embedded: int     # texts the encoder embedded
    cache_hits: int   # vectors reused from an index that holds the same text
    unchanged: int    # documents already in the target index as they are: not sent again
    retries: NotRequired[int]


class EmbeddedBatch(TypedDict):
    documents: list[dict[str, Any]]  # index documents, vectors included
    positions: dict[str, int]        # record id -> its position in the source file, for rejections
    counts: EmbedCounts
    embed_seconds: float             # the encoder alone, for the embed-latency metric


class RejectionMessage(TypedDict):
    """ingest.validate.Rejection as JSON."""

    position: int
    stage: str
    reason: str
    field: str | None
    record_id: str | None
    record: dict[str, Any] | None
    raw: str | None


class IndexedBatch(TypedDict):
    embedded: int
    cache_hits: int
    unchanged: int
    retries: int
    indexed: int    # documents now in the index as the records say: written + unchanged
    written: int    # documents the bulk requests wrote
    rejected: list[RejectionMessage]
    worker_pid: NotRequired[int]
    cancelled: NotRequired[bool]  # the load was cancelled: the batch was not indexed and nobody counts it


INDEXED_BATCH: TypeAdapter[IndexedBatch] = TypeAdapter(IndexedBatch)
