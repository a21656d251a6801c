"""Prometheus metrics for worker processes: documents, batch and embed latency, bulk errors, retries, failures,
queue depth.

The prefork pool runs tasks in child processes, so counters use
prometheus_client's multi-process mode (one file per process under
<home>/metrics/<worker>); the main worker process serves their sum on
``worker.metrics_port``. Queue depth is read from the broker at scrape time.
Rates (documents per second) are PromQL's job: rate(lingodex_documents_total[1m]).
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from celery import Task, signals

from lingodex.ingest.messages import EMBED_BATCH, INDEX_BATCH
from lingodex.workers.celery_config import QUEUES, embedded_broker_dir
from lingodex.workers.config import BrokerSettings, WorkerSettings

if TYPE_CHECKING:  # prometheus_client is imported only after prepare() has set its directory
    from prometheus_client.metrics_core import Metric

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"  # read by prometheus_client when it is imported
BATCH_TASKS = (EMBED_BATCH, INDEX_BATCH)
DOCUMENT_OUTCOMES = (("embed", "embedded"), ("embed", "cache_hits"), ("embed", "unchanged"),
                     ("index", "written"), ("index", "rejected"))  # index/rejected: what becomes dead letters


def prepare(worker: WorkerSettings, broker: BrokerSettings, home: Path, worker_name: str) -> None:
    """Before prometheus_client is imported: give this worker its own, empty multi-process directory."""
    if worker.metrics_port is None:
        return
    directory = home / "metrics" / worker_name
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    os.environ[MULTIPROC_ENV] = str(directory)
    _connect_signals(worker.metrics_port, QueueDepth(broker, home))


def _connect_signals(port: int, queue_depth: QueueDepth) -> None:
    from prometheus_client import Counter, Histogram

    documents = Counter("lingodex_documents", "Documents by stage and outcome", ["stage", "outcome"])
    batch_seconds = Histogram("lingodex_batch_seconds", "Wall time of one batch task", ["task"],
                              buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300))
    embed_seconds = Histogram("lingodex_embed_seconds", "Encoder time for one batch's new texts, by their number "
                              "(rounded up to a power of two)", ["texts_up_to"],
                              buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60))
    bulk_errors = Counter("lingodex_bulk_errors", "Documents OpenSearch refused in a bulk request, by error type", ["type"])
    retries = Counter("lingodex_task_retries", "Task retries (cluster unavailable, 429, 5xx)", ["task"])
    failures = Counter("lingodex_task_failures", "Tasks that failed for good", ["task", "error"])
    for task in BATCH_TASKS:  # present from the start at 0, so rate() and alerts see a series before the first event
        batch_seconds.labels(task)
        retries.labels(task)
    for stage, outcome in DOCUMENT_OUTCOMES:
        documents.labels(stage, outcome)
    started: dict[str, float] = {}

    @signals.task_prerun.connect(weak=False)
    def _start(task_id: str, **_: object) -> None:
        started[task_id] = time.perf_counter()

    @signals.task_postrun.connect(weak=False)
    def _finish(task_id: str, task: Task, retval: Any, state: str, **_: object) -> None:
        began = started.pop(task_id, None)
        if began is not None:
            batch_seconds.labels(task.name).observe(time.perf_counter() - began)
        if state != "SUCCESS" or not isinstance(retval, dict):
            return
        if task.name == EMBED_BATCH:
            for outcome in (outcome for stage, outcome in DOCUMENT_OUTCOMES if stage == "embed"):
                documents.labels("embed", outcome).inc(retval["counts"][outcome])
            if retval["counts"]["embedded"]:
                embed_seconds.labels(texts_up_to(retval["counts"]["embedded"])).observe(retval["embed_seconds"])
        elif task.name == INDEX_BATCH:
            documents.labels("index", "written").inc(retval["written"])
            documents.labels("index", "rejected").inc(len(retval["rejected"]))
            for rejection in retval["rejected"]:
                bulk_errors.labels(error_type(rejection["reason"])).inc()

    @signals.task_retry.connect(weak=False)
    def _retry(sender: Task, **_: object) -> None:
        retries.labels(sender.name).inc()

    @signals.task_failure.connect(weak=False)
    def _failure(sender: Task, exception: BaseException, **_: object) -> None:
        failures.labels(sender.name, type(exception).__name__).inc()

    @signals.worker_ready.connect(weak=False)
    def _serve(**_: object) -> None:
        from prometheus_client import CollectorRegistry, start_http_server
        from prometheus_client.multiprocess import MultiProcessCollector

        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        registry.register(queue_depth)
        start_http_server(port, registry=registry)


def texts_up_to(count: int) -> str:
    """A batch size as a low-cardinality label: the power of two at or above it."""
    return str(1 << max(count - 1, 0).bit_length())


def error_type(reason: str) -> str:
    """OpenSearch's error type from a rejection reason ("mapper_parsing_exception: failed to parse ...")."""
    return reason.split(":", 1)[0].strip() or "unknown"


class QueueDepth:
    """lingodex_queue_depth{queue}: messages waiting in the broker, read when Prometheus scrapes."""

    def __init__(self, broker: BrokerSettings, home: Path) -> None:
        self.broker, self.home = broker, home

    def collect(self) -> Iterator[Metric]:  # prometheus_client's collector protocol
        from prometheus_client.core import GaugeMetricFamily

        family = GaugeMetricFamily("lingodex_queue_depth", "Messages waiting in the broker", labels=["queue"])
        for queue, depth in self._depths().items():
            family.add_metric([queue], depth)
        yield family

    def _depths(self) -> dict[str, int]:
        if self.broker.is_embedded:  # kombu's filesystem transport: <ms>_<uuid>.<queue>.msg files
            folder = embedded_broker_dir(self.broker, self.home) / "queue"
            names = [path.name for path in Path(folder).iterdir()] if folder.exists() else []
            return {queue: sum(name.endswith(f".{queue}.msg") for name in names) for queue in QUEUES}
        import redis

        connection = redis.Redis.from_url(self.broker.url)
        try:
            return {queue: int(connection.llen(queue)) for queue in QUEUES}
        finally:
            connection.close()
