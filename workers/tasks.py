"""Celery tasks. Each is a few lines that call the package that owns the work.

Ingestion is a chain per batch: ``embed_batch`` (queue ``embed``: GPU or CPU
workers, prefetch 1, one ONNX session per process) then ``index_batch`` (queue
``index``). Both retry with exponential backoff and jitter while OpenSearch is
unreachable, overloaded (429) or failing (5xx); with late acks and reject-on-
worker-lost, a batch in a killed worker is redelivered. Document ids are fixed,
so a repeated batch overwrites and never duplicates.

Known gap (Celery 5.7 prefork): a pool process killed in the instant between
receiving a job and starting it loses that job without WorkerLostError; the
unacked message then holds the prefetch slot until the worker restarts, when
it is restored. Killed while running a batch, it is redelivered as promised
(tests/integration/test_ingest_failures.py).
"""

from __future__ import annotations

import os
import socket
from functools import cache, partial
from typing import Any

from celery import Task
from celery.utils.log import get_task_logger
from opensearchpy import OpenSearch

from lingodex.encoder import Encoder
from lingodex.ingest.batch import embed_records, index_embedded, indexed_batch
from lingodex.ingest.index.documents import PreparedRecord
from lingodex.ingest.index.embedding_cache import stored_documents
from lingodex.ingest.centring import language_sums, reference_sums
from lingodex.ingest.index.index_versions import centroids_of
from lingodex.ingest.index.indexer import ClusterUnavailable, cluster_call
from lingodex.ingest.index.load_lock import is_cancelled
from lingodex.ingest.index.mappings import PRODUCTS, language_fields
from lingodex.ingest.messages import (EMBED_BATCH, INDEX_BATCH, JOB_HEADER, LANGUAGE_SUMS, PING, REFERENCE_SUMS,
                                       EmbeddedBatch, IndexedBatch)
from lingodex.workers.app import app, context
from lingodex.workers.logs import header

log = get_task_logger(__name__)
RETRY_POLICY: dict[str, Any] = {
    "autoretry_for": (ClusterUnavailable,),
    "retry_backoff": 2,  # 2, 4, 8 ... seconds
    "retry_backoff_max": 60,
    "retry_jitter": True,
    "max_retries": 15,  # about ten minutes of a cluster being away
}


@cache
def _encoder() -> Encoder:
    """One encoder per worker process, loaded on first use."""
    return context().encoder()


@cache
def _client() -> OpenSearch:
    """One OpenSearch client (and connection pool) per worker process, made on first use: never across a fork."""
    return context().opensearch()


@app.task(name=PING)
def ping() -> dict[str, Any]:
    """Proves a worker process answered: returns where it runs."""
    return {"pid": os.getpid(), "host": socket.gethostname()}


@app.task(name=EMBED_BATCH, bind=True, **RETRY_POLICY)
def embed_batch(self: Task, index: str, cache_indices: list[str], records: list[dict[str, Any]]) -> EmbeddedBatch:
    """Vectors for a batch, reusing those the index already holds for the same text."""
    prepared = [PreparedRecord.model_validate(record) for record in records]
    client = _client()
    stored = stored_documents(client, [index, *cache_indices], [record.id for record in prepared])
    centroids = {name: cluster_call(partial(centroids_of, client, name))  # each index's _meta read once
                 for name in {index, *(found.index for found in stored.values())}}
    embedded = embed_records(prepared, _encoder(), stored, index, language_fields(PRODUCTS),
                             centroids=centroids[index], stored_centroids=centroids)
    embedded["counts"]["retries"] = self.request.retries
    return embedded


@app.task(name=INDEX_BATCH, bind=True, **RETRY_POLICY)
def index_batch(self: Task, embedded: EmbeddedBatch, index: str, refresh: bool = False) -> IndexedBatch:
    """Bulk-index one embedded batch; per-document refusals come back as rejections."""
    client = _client()
    job = header(self.request, JOB_HEADER)
    if job and cluster_call(lambda: is_cancelled(client, job)):  # its load stopped: nobody counts this batch any more
        log.warning("batch of a cancelled load not indexed", extra={"index": index, "job": job})
        cancelled = indexed_batch(embedded["counts"], indexed=0, written=0, rejected=[])
        cancelled["retries"] += self.request.retries
        cancelled["cancelled"] = True
        return cancelled
    result = index_embedded(client, index, embedded, refresh=refresh,
                            centroids=cluster_call(lambda: centroids_of(client, index)))
    result["retries"] += self.request.retries
    result["worker_pid"] = os.getpid()
    log.info("indexed batch", extra={"index": index, "indexed": result["indexed"], "rejected": len(result["rejected"])})
    return result


@app.task(name=LANGUAGE_SUMS, bind=True, **RETRY_POLICY)
def language_sums_task(self: Task, texts: list[str], langs: list[str]) -> dict[str, Any]:
    """Per-language sums of a sample's passage and query vectors: the catalog side of a new version's centroids."""
    return language_sums(_encoder(), texts, langs).to_json()


@app.task(name=REFERENCE_SUMS, bind=True, **RETRY_POLICY)
def reference_sums_task(self: Task) -> dict[str, Any]:
    """The shipped reference sentences' sums for this worker's model (embedded once per model, then cached)."""
    return reference_sums(_encoder(), context().model_cache).to_json()
