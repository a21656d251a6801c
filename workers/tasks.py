"""Celery tasks. Each is a few lines that call the package that owns the work."""

from __future__ import annotations

import os
import socket
from functools import cache
from typing import Any

from celery.utils.log import get_task_logger

from encoder import Encoder, load_encoder
from ingest.documents import Product, to_document
from ingest.indexer import bulk_index
from ingest.mappings import language_fields
from lingodex.connection import opensearch_client
from workers.app import app, current_settings

log = get_task_logger(__name__)


@cache
def _encoder() -> Encoder:
    """One encoder per worker process, loaded on first use."""
    return load_encoder(current_settings().encoder)


@app.task(name="lingodex.ping")
def ping() -> dict[str, Any]:
    """Proves a worker process answered: returns where it runs."""
    return {"pid": os.getpid(), "host": socket.gethostname()}


@app.task(name="lingodex.index_products", bind=True, max_retries=5)
def index_products(self, index: str, mapping: str, records: list[dict[str, Any]], refresh: bool = False) -> dict[str, Any]:
    """Embed a batch of product records and bulk-index them into ``index``."""
    products = [Product.model_validate(record) for record in records]
    vectors = _encoder().encode_passages([product.title for product in products])
    languages = language_fields(mapping)
    documents = [to_document(p, v, languages) for p, v in zip(products, vectors, strict=True)]
    result = bulk_index(opensearch_client(current_settings().opensearch), index, documents, refresh=refresh)
    log.info("indexed batch", extra={"index": index, "indexed": result.indexed, "errors": len(result.errors)})
    return {"indexed": result.indexed, "errors": result.errors, "worker_pid": os.getpid()}
