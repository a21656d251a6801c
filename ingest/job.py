"""An ingest job: stream a catalog, validate, fan batches out to Celery, account for every record.

The submitting process reads and validates (cheap, and it knows each record's
position); workers embed and index. Every record ends as indexed or rejected,
rejections go to the job's dead-letter file, and the job record (JSON in the
jobs directory, <home>/jobs/ by default) keeps the counts. A batch whose task
fails for good is rejected record by record, never dropped.

The job knows the tasks only by their names and queues (ingest/messages.py):
it takes a Celery app that sends, never the workers' code. lingodex/ingesting.py
builds one from settings.
"""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import suppress
from datetime import UTC, datetime
from itertools import chain, islice
from pathlib import Path
from typing import Any

from celery import Celery
from celery.exceptions import TimeoutError as CeleryTimeout
from celery.result import AsyncResult
from opensearchpy import OpenSearch
from pydantic import BaseModel, Field, ValidationError

from lingodex.ingest.centring import LanguageSums, estimate
from lingodex.ingest.catalog.dead_letters import write_dead_letters
from lingodex.ingest.index.documents import PreparedRecord, embedding_text, vector_language
from lingodex.ingest.index.hubness import has_isolation_field, score_unscored
from lingodex.ingest.index.index_versions import (Target, bulk_load_settings, encoder_of, merge_segments, record_centroids,
                                                   resolve_target, swap_alias)
from lingodex.ingest.index.load_lock import LoadLock, mark_cancelled, process_alive
from lingodex.ingest.index.mappings import PRODUCTS, EncoderIdentity, index_body
from lingodex.ingest.config import IngestSettings
from lingodex.ingest.messages import (BATCH_HEADER, EMBED_BATCH, EMBED_QUEUE, INDEX_BATCH, INDEX_QUEUE, INDEXED_BATCH,
                                       JOB_HEADER, LANGUAGE_SUMS, REFERENCE_SUMS)
from lingodex.ingest.index.promotion import PromotionPolicy, refusal
from lingodex.ingest.catalog.readers import SourceRecord
from lingodex.ingest.catalog.validate import RecordValidator, Rejection

log = logging.getLogger(__name__)
PROGRESS_EVERY_S = 5.0  # log lines of a long pass (hubness scores): done, total, rate, ETA
CANCEL_WAIT_S = 30.0  # a stopped load waits this long for batches already running before it deletes its version


class JobCounts(BaseModel):
    read: int = 0
    valid: int = 0
    rejected: int = 0
    embedded: int = 0
    cache_hits: int = 0
    unchanged: int = 0
    indexed: int = 0
    retried: int = 0
    truncated: int = 0


class JobRecord(BaseModel):
    id: str = Field(default_factory=lambda: uuid.uuid4().hex[:12])
    source: str
    index: str = ""
    alias: str | None = None  # set when the load built a new version behind this alias
    previous: str | None = None  # the index the alias served before
    state: str = "running"  # running | done | failed
    error: str | None = None
    started_at: str = Field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    finished_at: str | None = None
    dead_letters: str = ""
    promoted: bool | None = None  # a new version: whether the alias was swapped to it
    refusal: str | None = None  # why it was not (ingest/index/promotion.py)
    pid: int = Field(default_factory=os.getpid, description="the process running the load")
    counts: JobCounts = JobCounts()
    hubness_scored: int | None = None  # documents given an isolation score after the load (ingest/index/hubness.py)

    @property
    def balanced(self) -> bool:
        """Every record read is accounted for."""
        return self.counts.indexed + self.counts.rejected == self.counts.read


def save_job(jobs: Path, job: JobRecord) -> Path:
    """Write the job's record into the ``jobs`` directory (atomically: `lingodex job <id>` may be reading it)."""
    path = jobs / f"{job.id}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(job.model_dump_json(indent=2))
    tmp.replace(path)
    return path


def load_job(jobs: Path, job_id: str) -> JobRecord:
    """The job's record; a 'running' job whose process has gone is reported as failed."""
    path = jobs / f"{job_id}.json"
    if not path.is_file():
        raise FileNotFoundError(f"no job {job_id!r} under {jobs} (an --async job writes it within seconds)")
    job = JobRecord.model_validate_json(path.read_text())
    if job.state == "running" and not process_alive(job.pid):
        job.state, job.error = "failed", f"the process running it (pid {job.pid}) is gone; see {path.with_suffix('.log')}"
    return job


class IngestJob:
    """Runs one load; ``on_progress`` sees the counts after every change worth showing."""

    def __init__(self, options: IngestSettings, jobs: Path, client: OpenSearch, celery: Celery,
                 validator: RecordValidator, encoder: EncoderIdentity,
                 on_progress: Callable[[JobRecord], None] = lambda job: None) -> None:
        self.options = options
        self.jobs = jobs
        self.client = client
        self.celery = celery
        self.validator = validator
        self.encoder = encoder
        self.on_progress = on_progress
        self._pending: list[tuple[AsyncResult, list[PreparedRecord], float]] = []  # (chain, records, sent at)
        self._batches = 0
        self._saved_at = 0.0
        self._lock: LoadLock | None = None

    def run(self, records: Iterable[SourceRecord], source: str, index: str, *, new_version: bool = False,
            dead_letters: Path | None = None, job_id: str | None = None,
            policy: PromotionPolicy | None = None) -> JobRecord:
        """Load ``records``; a new version replaces the alias's only if ``policy`` allows (else it is kept aside)."""
        records = iter(records)
        first = next(records, None)  # a file that cannot be read fails here, before any index exists
        if first is None and (new_version or not self.client.indices.exists(index=index)):
            raise ValueError(f"{source} holds no records; nothing was created")
        records = chain([first], records) if first is not None else records
        job = JobRecord(source=source, **({"id": job_id} if job_id else {}))
        job.dead_letters = str(dead_letters or self.jobs / f"{job.id}.dead-letters.jsonl")
        ingest = self.options
        body = index_body(PRODUCTS, encoder=self.encoder, vectors=ingest.vectors, shards=ingest.shards,
                          replicas=ingest.replicas)
        self._lock = LoadLock(self.client, index, job.id, stale_after_s=ingest.lock_stale_after_s)
        with self._lock:  # a second load into this alias is refused here, before it creates anything
            target = resolve_target(self.client, index, body, self.encoder, new_version=new_version)
            job.index, job.alias, job.previous = target.index, target.alias, target.previous
            save_job(self.jobs, job)
            try:
                self._run(job, records, target, policy or ingest.promotion.policy())
            except BaseException as error:  # Ctrl-C and SIGTERM included: its queued batches must never index
                job.state, job.error = "failed", _stopped_by(error)
                self._cancel(job, target)
                raise
            finally:
                job.finished_at = datetime.now(UTC).isoformat(timespec="seconds")
                save_job(self.jobs, job)
        return job

    def _run(self, job: JobRecord, records: Iterable[SourceRecord], target: Target, policy: PromotionPolicy) -> None:
        if target.alias:  # a fresh version: load fast, then make it visible if it is fit to serve
            with bulk_load_settings(self.client, target.index):
                self._load(job, records, target)
            self._score_hubness(job, target.index)
            self._promote(job, target, policy)
        else:
            self._load(job, records, target)
            self.client.indices.refresh(index=target.index)
            self._score_hubness(job, target.index)
        job.state = "done" if job.balanced else "failed"
        if not job.balanced:
            job.error = f"accounting mismatch: indexed {job.counts.indexed} + rejected {job.counts.rejected} != read {job.counts.read}"

    def _cancel(self, job: JobRecord, target: Target) -> None:
        """A stopped load: its batches still queued are revoked and, if they run anyway, index nothing; a new
        version it was building is deleted (it never served). Best effort: the cluster may be what failed."""
        with suppress(Exception):
            mark_cancelled(self.client, job.id)
        for result, _, _ in self._pending:
            _revoke(result)
        deadline = time.monotonic() + CANCEL_WAIT_S  # a batch already indexing would re-create a deleted index
        while time.monotonic() < deadline and any(_started(result) for result, _, _ in self._pending):
            time.sleep(0.2)
        if target.alias and not job.promoted and target.index != target.previous:
            with suppress(Exception):
                self.client.indices.delete(index=target.index)
                job.error = f"{job.error}; the unfinished version {target.index} was deleted"

    def _promote(self, job: JobRecord, target: Target, policy: PromotionPolicy) -> None:
        serving_count = self.client.count(index=target.previous)["count"] if target.previous else 0
        job.refusal = refusal(policy, read=job.counts.read, indexed=job.counts.indexed,
                              rejected=job.counts.rejected, serving=target.previous, serving_count=serving_count)
        if job.refusal is None and target.alias:
            self._merge_segments(target.index)  # a merge that fails leaves the job unpromoted: the alias never moved
            swap_alias(self.client, target.alias, target.index)
        job.promoted = job.refusal is None

    def _merge_segments(self, index: str) -> None:
        """Force-merge a version about to serve: a k-NN query walks one HNSW graph per segment, and a bulk load
        and the hubness pass's updates leave dozens. (The updates' old copies stay as soft deletes for
        OpenSearch's retention leases; the merge does not purge them.)"""
        if not self.options.merge_segments:
            return
        started = time.perf_counter()
        merge_segments(self.client, index, self.options.merge_segments)
        log.info("segments merged", extra={"index": index, "max_segments": self.options.merge_segments,
                                           "seconds": round(time.perf_counter() - started, 1)})

    def _load(self, job: JobRecord, records: Iterable[SourceRecord], target: Target) -> None:
        cache_indices = [target.previous] if target.previous and self._vectors_reusable_from(target) else []
        valid = self._validated(job, records)
        centring = self.options.centring
        if target.alias and centring.enabled:  # a new version: its centroids come from the catalog's first records
            sample = list(islice(valid, centring.sample))
            if sample:
                self._estimate_centroids(target.index, sample)
            valid = chain(sample, valid)
        while batch := list(islice(valid, self.options.batch_size)):
            self._submit(job, target.index, cache_indices, batch)
        while self._pending:
            self._collect(job, wait=True)
        job.counts.truncated = self.validator.truncated

    def _validated(self, job: JobRecord, records: Iterable[SourceRecord]) -> Iterator[PreparedRecord]:
        """The valid records; every record counted as read, the invalid ones rejected on the way."""
        for source in records:
            job.counts.read += 1
            checked = self.validator.check(source)
            if isinstance(checked, Rejection):
                self._reject(job, [checked])
                continue
            job.counts.valid += 1
            yield checked

    def _estimate_centroids(self, index: str, sample: list[PreparedRecord]) -> None:
        """Embed the sample on the workers (both prefixes), add the reference sentences', freeze them in _meta."""
        size = self.options.batch_size
        chunks = [sample[start:start + size] for start in range(0, len(sample), size)]
        results = [self.celery.send_task(REFERENCE_SUMS, queue=EMBED_QUEUE)]
        results += [self.celery.send_task(LANGUAGE_SUMS, queue=EMBED_QUEUE,
                                          args=([embedding_text(r) for r in chunk], [vector_language(r) for r in chunk]))
                    for chunk in chunks]
        timeout = self.options.batch_timeout_s
        try:
            reference, *parts = [LanguageSums.from_json(result.get(timeout=timeout)) for result in results]
        except CeleryTimeout:
            raise RuntimeError(f"no worker returned the language centroids within ingest.batch_timeout_s ({timeout:.0f} "
                               "s): are workers running and consuming the embed queue?") from None
        for result in results:
            with suppress(OSError):  # read once: results must not pile up (tests/integration/test_ingest_jobs.py)
                result.forget()
        catalog = LanguageSums()
        for part in parts:
            catalog.merge(part)
        centroids = estimate(catalog, reference, self.options.centring.min_documents)
        record_centroids(self.client, index, centroids)
        log.info("language centroids", extra={"index": index, "id": centroids.id, "sample": len(sample),
                                              "catalog": sorted(lang for lang, c in centroids.languages.items()
                                                                if c.source == "catalog")})

    def _score_hubness(self, job: JobRecord, index: str) -> None:
        """Isolation scores for the documents that have none (ingest/index/hubness.py); the index is refreshed."""
        if not self.options.hubness.enabled:
            return
        if not has_isolation_field(self.client, index):
            log.warning("index %s predates hubness scores (mapping schema < 4): dense search cannot discount hubs in "
                        "it until `lingodex reindex`", index)
            return
        started = last = time.monotonic()

        def progress(done: int, total: int) -> None:
            nonlocal last
            if self._lock is not None:
                self._lock.heartbeat()  # a long pass must not look like a dead load
            now = time.monotonic()
            if now - last >= PROGRESS_EVERY_S or done == total:
                last, rate = now, done / max(now - started, 1e-9)
                log.info("hubness scores", extra={"index": index, "done": done, "total": total,
                                                  "per_s": round(rate, 1), "eta_s": round((total - done) / rate)})

        hubness = score_unscored(self.client, index, neighbours=self.options.hubness.neighbours, on_progress=progress)
        job.hubness_scored = hubness.scored

    def _vectors_reusable_from(self, target: Target) -> bool:
        """A previous version's vectors may be reused only if the same model made them."""
        if not target.previous or target.previous == target.index:
            return False
        previous = encoder_of(self.client, target.previous)
        return previous is not None and previous.same_vectors_as(self.encoder)

    def _submit(self, job: JobRecord, index: str, cache_indices: list[str], batch: list[PreparedRecord]) -> None:
        while len(self._pending) >= self.options.max_in_flight:
            self._collect(job, wait=True)
        payload = [record.model_dump(mode="json") for record in batch]
        self._batches += 1
        trace = {JOB_HEADER: job.id, BATCH_HEADER: self._batches}  # in every log line the tasks write (workers/logs.py)
        chain = (self.celery.signature(EMBED_BATCH, args=(index, cache_indices, payload), queue=EMBED_QUEUE, headers=trace)
                 | self.celery.signature(INDEX_BATCH, args=(index,), queue=INDEX_QUEUE, headers=trace))
        self._pending.append((chain.apply_async(), batch, time.monotonic()))
        self._collect(job, wait=False)

    def _collect(self, job: JobRecord, *, wait: bool) -> None:
        """Tally finished batches; with ``wait``, block until at least one finishes or times out."""
        timeout = self.options.batch_timeout_s
        while True:
            now = time.monotonic()
            finished = [(result, batch, now - sent > timeout) for result, batch, sent in self._pending
                        if _settled(result) or now - sent > timeout]
            if finished or not wait:
                break
            time.sleep(0.1)
        for result, batch, timed_out in finished:
            self._pending = [pending for pending in self._pending if pending[0] is not result]
            if timed_out and not _settled(result):
                self._time_out(job, result, batch, timeout)
            else:
                self._tally(job, result, batch)
            with suppress(OSError):  # read once; a nightly load must not pile results up (forget() covers the chain)
                result.forget()
        if finished:
            self.on_progress(job)
            if self._lock is not None:
                self._lock.heartbeat()
            if time.monotonic() - self._saved_at > 1.0:  # `lingodex job <id>` follows a running load
                save_job(self.jobs, job)
                self._saved_at = time.monotonic()

    def _time_out(self, job: JobRecord, result: AsyncResult, batch: list[PreparedRecord], timeout: float) -> None:
        """No worker returned the batch: its records are rejected (replayable) and its tasks revoked."""
        _revoke(result)
        self._reject_batch(job, batch, f"no worker finished this batch within ingest.batch_timeout_s ({timeout:.0f} s): "
                           "are workers running and consuming the embed and index queues? Replay these letters once they are")

    def _tally(self, job: JobRecord, result: AsyncResult, batch: list[PreparedRecord]) -> None:
        failure = _failure(result)
        if failure is not None:  # retries exhausted or a bug: every record of the batch is rejected, with the cause
            self._reject_batch(job, batch, f"batch failed after retries: {type(failure).__name__}: {failure}")
            return
        try:
            outcome = INDEXED_BATCH.validate_python(result.get())
        except ValidationError as error:  # a worker of another release: its batch is replayable, nothing is lost
            self._reject_batch(job, batch, f"the worker's batch result does not match this release's: {_first(error)}")
            return
        counts = job.counts
        counts.embedded += outcome["embedded"]
        counts.cache_hits += outcome["cache_hits"]
        counts.unchanged += outcome["unchanged"]
        counts.indexed += outcome["indexed"]
        counts.retried += outcome["retries"]
        self._reject(job, [Rejection(**rejection) for rejection in outcome["rejected"]])

    def _reject_batch(self, job: JobRecord, batch: list[PreparedRecord], reason: str) -> None:
        """Every record of a batch that never came back, with the cause: nothing is lost, all can be replayed."""
        self._reject(job, [Rejection(r.position, "index", reason, record_id=r.id, record=r.product.model_dump(mode="json"))
                           for r in batch])

    def _reject(self, job: JobRecord, rejections: list[Rejection]) -> None:
        job.counts.rejected += write_dead_letters(Path(job.dead_letters), job.source, job.id, rejections)


def _chain_results(result: AsyncResult) -> list[AsyncResult]:
    """The index task's result and the embed task's before it."""
    chain = [result]
    while chain[-1].parent is not None:
        chain.append(chain[-1].parent)
    return chain


def _revoke(result: AsyncResult) -> None:
    """Revoke every task of a batch's chain; best effort (the embedded broker has no remote control)."""
    for step in _chain_results(result):
        with suppress(Exception):
            step.revoke()


def _stopped_by(error: BaseException) -> str:
    if isinstance(error, KeyboardInterrupt):
        return "stopped (Ctrl-C)"
    if isinstance(error, SystemExit):
        return f"stopped (exit {error.code}: a signal such as SIGTERM)"
    return f"{type(error).__name__}: {error}"


def _started(result: AsyncResult) -> bool:
    """A step of the chain is running on a worker now (task_track_started)."""
    try:
        return any(step.state == "STARTED" for step in _chain_results(result))
    except Exception:  # noqa: BLE001 - an unreadable state is not a running task
        return False


def _first(error: ValidationError) -> str:
    """'rejected.0.reason: Field required' for the first problem of a batch result."""
    problem = error.errors()[0]
    return f"{'.'.join(str(part) for part in problem['loc'])}: {problem['msg']}"


def _settled(result: AsyncResult) -> bool:
    """Done, or never will be: a failed embed task leaves the index task pending for ever."""
    return result.ready() or any(step.failed() for step in _chain_results(result))


def _failure(result: AsyncResult) -> BaseException | None:
    for step in reversed(_chain_results(result)):
        if step.failed():
            return step.result
    return None


def rejection_summary(job: JobRecord, limit: int = 5) -> list[dict[str, Any]]:
    """The first few dead letters, for printing after a run."""
    path = Path(job.dead_letters)
    if not path.is_file():
        return []
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for _, line in zip(range(limit), handle, strict=False)]

