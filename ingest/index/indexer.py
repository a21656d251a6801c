"""Bulk-load documents, item by item, and tell retryable failures from bad documents.

A document OpenSearch refuses (400: mapping conflict, too large...) is a
rejection with its reason. When one document makes OpenSearch refuse the whole
request (an _id over 512 bytes, a body it cannot parse, too large a request),
the batch is halved until that document stands alone: it is rejected and its
batch mates are indexed. Cluster trouble (429, 5xx, no connection) raises
ClusterUnavailable for the caller (a Celery task) to retry the whole batch with
backoff: every document has a fixed _id, so a retry can never duplicate one.

Requests are cut by opensearch-py's ``helpers.streaming_bulk``: a batch of large
documents goes in several requests under ``max_chunk_bytes`` rather than one
that passes the cluster's ``http.max_content_length``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from opensearchpy import OpenSearch, helpers
from opensearchpy.exceptions import ConnectionError as OpenSearchConnectionError
from opensearchpy.exceptions import SerializationError, TransportError

from lingodex.ingest.errors import IngestError

T = TypeVar("T")
RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
WHOLE_REQUEST_REFUSED = frozenset({400, 413})  # one bad document can cause these; auth errors (401/403) cannot
MAX_CHUNK_BYTES = 10 * 1024 * 1024  # per bulk request; the cluster's http.max_content_length defaults to 100 MB


class ClusterUnavailable(IngestError, RuntimeError):
    """OpenSearch is overloaded or unreachable; the same request may succeed later."""


@dataclass
class BulkOutcome:
    indexed: int = 0
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (_id, reason)


def recreate_index(client: OpenSearch, index: str, body: dict[str, Any]) -> None:
    """Drop ``index`` if present and create it from ``body``."""
    client.indices.delete(index=index, ignore_unavailable=True)
    client.indices.create(index=index, body=body)


def bulk_index(client: OpenSearch, index: str, documents: Sequence[dict[str, Any]], *, refresh: bool = False,
               max_chunk_bytes: int = MAX_CHUNK_BYTES) -> BulkOutcome:
    """Index ``documents`` by their ``id``; per-item outcome, ClusterUnavailable for the retryable."""
    if not documents:
        return BulkOutcome()
    actions = ({"_index": index, "_id": document["id"], "_source": document} for document in documents)
    try:
        results = cluster_call(lambda: list(helpers.streaming_bulk(
            client, actions, chunk_size=len(documents), max_chunk_bytes=max_chunk_bytes, raise_on_error=False,
            refresh="true" if refresh else "false")))
    except (TransportError, SerializationError) as error:
        if isinstance(error, TransportError) and error.status_code not in WHOLE_REQUEST_REFUSED:
            raise
        if len(documents) == 1:
            return BulkOutcome(rejected=[(documents[0]["id"], f"OpenSearch refused the document: {_request_error(error)}")])
        half = len(documents) // 2  # the chunks indexed before the refusal are indexed again: same _ids, no duplicates
        first = bulk_index(client, index, documents[:half], refresh=refresh, max_chunk_bytes=max_chunk_bytes)
        second = bulk_index(client, index, documents[half:], refresh=refresh, max_chunk_bytes=max_chunk_bytes)
        return BulkOutcome(first.indexed + second.indexed, first.rejected + second.rejected)
    outcome = BulkOutcome()
    retryable = []
    for ok, item in results:
        result = item["index"]
        status = result.get("status", 0)
        if ok and status < 300:
            outcome.indexed += 1
        elif status in RETRYABLE_STATUS:
            retryable.append(result["_id"])
        else:
            outcome.rejected.append((result["_id"], _reason(result.get("error"))))
    if retryable:
        raise ClusterUnavailable(f"{len(retryable)} of {len(documents)} documents met a retryable error (e.g. {retryable[0]})")
    return outcome


def cluster_call(call: Callable[[], T]) -> T:
    """Run ``call``, turning connection trouble and 429/5xx into ClusterUnavailable."""
    try:
        return call()
    except OpenSearchConnectionError as error:
        raise ClusterUnavailable(f"cannot reach OpenSearch: {error}") from error
    except TransportError as error:
        if isinstance(error.status_code, int) and error.status_code in RETRYABLE_STATUS:
            raise ClusterUnavailable(f"OpenSearch answered {error.status_code}: {error.error}") from error
        raise


def _request_error(error: TransportError | SerializationError) -> str:
    if isinstance(error, TransportError):
        return _reason(error.info.get("error") if isinstance(error.info, dict) else error.error)
    return str(error)


def _reason(error: Any) -> str:
    if isinstance(error, dict):
        reason = f"{error.get('type')}: {error.get('reason')}"
        if isinstance(error.get("caused_by"), dict):
            reason += f" (caused by {error['caused_by'].get('type')}: {error['caused_by'].get('reason')})"
        return reason
    return str(error)
