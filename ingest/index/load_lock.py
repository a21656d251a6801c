"""One load at a time per alias, and a cancelled load's late batches never indexed: both kept in the cluster.

Two loads into one alias would race to create its new version and to swap the alias, and each would report
counts the other undid. The lock is a document in ``LOCKS``, created with ``op_type=create``: the cluster
lets exactly one creator win, whichever machine the loads run on. The holder refreshes a heartbeat while it
works; a lock whose holder's process is gone (same host) or whose heartbeat is older than ``stale_after_s``
is stale and taken over, so a killed load never blocks the alias for good.

A load that is cancelled or fails leaves a ``cancelled`` document for its job id. Batches of that job still
queued in a shared broker check it before indexing (workers/tasks.py) and index nothing.
"""

from __future__ import annotations

import os
import socket
import time
from datetime import UTC, datetime
from typing import Any

from opensearchpy import OpenSearch
from opensearchpy.exceptions import ConflictError, NotFoundError

from lingodex.ingest.errors import IngestError

LOCKS = ".lingodex-locks"
_LOCKS_BODY = {"settings": {"index": {"number_of_shards": 1, "auto_expand_replicas": "0-1", "hidden": True}},
               "mappings": {"dynamic": False, "properties": {"kind": {"type": "keyword"}}}}
HEARTBEAT_S = 30.0


class LoadInProgress(IngestError, RuntimeError):
    """Another live load holds the alias."""


class LoadLock:
    """The lock on ``name`` for ``job``; use as a context manager or call acquire/release."""

    def __init__(self, client: OpenSearch, name: str, job: str, *, stale_after_s: float = 300.0) -> None:
        self.client = client
        self.name = name
        self.job = job
        self.stale_after_s = stale_after_s
        self._beat_at = 0.0

    def __enter__(self) -> LoadLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def acquire(self) -> None:
        """Take the lock, or raise LoadInProgress naming who holds it."""
        _ensure_locks_index(self.client)
        for _ in range(2):  # once more after removing a stale holder
            try:
                self.client.create(index=LOCKS, id=self._id, body=self._body(), refresh="false")
                self._beat_at = time.monotonic()
                return
            except ConflictError:
                holder = self._holder()
                if holder is None:
                    continue
                source = holder["_source"]
                if not self._stale(source):
                    raise LoadInProgress(
                        f"{self.name} is being loaded by job {source.get('job')} (pid {source.get('pid')} on "
                        f"{source.get('host')}, since {source.get('started_at')}); wait for it to finish (a lock "
                        f"without a heartbeat for {self.stale_after_s:.0f} s is taken over)") from None
                self._remove(holder)
        raise LoadInProgress(f"{self.name}: could not take the load lock; another load took it first")

    def heartbeat(self) -> None:
        """Refresh the lock's heartbeat, at most every HEARTBEAT_S seconds; never someone else's lock."""
        if time.monotonic() - self._beat_at < HEARTBEAT_S:
            return
        self._beat_at = time.monotonic()
        script = {"source": "if (ctx._source.job != params.job) { ctx.op = 'noop' } "
                            "else { ctx._source.heartbeat_at = params.now }",
                  "params": {"job": self.job, "now": time.time()}}
        try:
            self.client.update(index=LOCKS, id=self._id, body={"script": script})
        except NotFoundError:
            pass

    def release(self) -> None:
        """Remove the lock if it is still this job's."""
        holder = self._holder()
        if holder is not None and holder["_source"].get("job") == self.job:
            self._remove(holder)

    @property
    def _id(self) -> str:
        return f"lock:{self.name}"

    def _body(self) -> dict[str, Any]:
        now = time.time()
        return {"kind": "lock", "alias": self.name, "job": self.job, "pid": os.getpid(), "host": socket.gethostname(),
                "started_at": datetime.fromtimestamp(now, UTC).isoformat(timespec="seconds"), "heartbeat_at": now}

    def _holder(self) -> dict[str, Any] | None:
        try:
            return self.client.get(index=LOCKS, id=self._id)
        except NotFoundError:
            return None

    def _stale(self, source: dict[str, Any]) -> bool:
        if source.get("host") == socket.gethostname() and not process_alive(int(source.get("pid") or 0)):
            return True
        return time.time() - float(source.get("heartbeat_at") or 0) > self.stale_after_s

    def _remove(self, holder: dict[str, Any]) -> None:
        """Delete exactly the lock that was read: if someone replaced it meanwhile, theirs stays."""
        try:
            self.client.delete(index=LOCKS, id=self._id, if_seq_no=holder["_seq_no"],
                               if_primary_term=holder["_primary_term"])
        except (ConflictError, NotFoundError):
            pass


def mark_cancelled(client: OpenSearch, job: str) -> None:
    """Record that ``job`` stopped: its batches still queued anywhere must not index."""
    _ensure_locks_index(client)
    client.index(index=LOCKS, id=f"cancelled:{job}", body={"kind": "cancelled", "job": job, "at": time.time()})


def is_cancelled(client: OpenSearch, job: str) -> bool:
    """A realtime get by id: no refresh needed, a few milliseconds per batch."""
    try:
        return bool(client.exists(index=LOCKS, id=f"cancelled:{job}"))
    except NotFoundError:
        return False


def _ensure_locks_index(client: OpenSearch) -> None:
    if not client.indices.exists(index=LOCKS):
        try:
            client.indices.create(index=LOCKS, body=_LOCKS_BODY)
        except Exception as error:  # noqa: BLE001 - two loads may create it at once
            if "resource_already_exists_exception" not in str(error):
                raise


def process_alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine (one we may not signal counts as running)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
