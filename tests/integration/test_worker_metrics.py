"""Workers serve Prometheus metrics that agree with what the load reports."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from pathlib import Path

from opensearchpy import OpenSearch
from prometheus_client.parser import text_string_to_metric_families

from lingodex.ingest.catalog.readers import read_records
from lingodex.ingesting import build_ingest_job
from lingodex.settings import Settings
from tests.catalogs import write_catalog
from tests.loads import load_in_background, scratch_settings
from tests.ports import free_port
from lingodex.launcher import running_workers


def scrape(port: int) -> dict[tuple[str, tuple], float]:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def metered_settings(settings: Settings, home: Path, batch_size: int) -> Settings:
    return scratch_settings(settings, home, batch_size=batch_size).model_copy(
        update={"worker": settings.worker.model_copy(update={"metrics_port": free_port()})})


EMBEDDED = ("lingodex_documents_total", (("outcome", "embedded"), ("stage", "embed")))
EMBED_QUEUE = ("lingodex_queue_depth", (("queue", "embed"),))


def test_worker_metrics_follow_a_load_while_it_runs(settings: Settings, index_name: str, tmp_path: Path) -> None:
    metered = metered_settings(settings, tmp_path, batch_size=25)
    path = tmp_path / "catalog.jsonl"
    write_catalog(path, 600, seed=5)
    during: list[dict] = []
    with running_workers(metered):
        thread, _, result = load_in_background(metered, path, index_name)
        while thread.is_alive():
            time.sleep(0.2)
            try:
                samples = scrape(metered.worker.metrics_port)
            except urllib.error.URLError:  # the worker has not started its metrics server yet
                continue
            if thread.is_alive():  # the load was still running when the scrape returned
                during.append(samples)
        job = result()
    assert job.counts.indexed == 600
    embedded = [samples.get(EMBEDDED, 0) for samples in during]
    assert any(0 < count < 600 for count in embedded), f"no scrape caught the load part-way: {embedded}"
    assert embedded == sorted(embedded), "a counter went backwards"
    assert any(samples[EMBED_QUEUE] > 0 for samples in during), "no scrape saw batches waiting in the broker"
    assert any(samples.get(("lingodex_batch_seconds_count", (("task", "lingodex.index_batch"),)), 0) > 0
               for samples in during)
    assert any(samples.get(("lingodex_embed_seconds_count", (("texts_up_to", "32"),)), 0) > 0 for samples in during)
    for series in (("lingodex_task_retries_total", (("task", "lingodex.embed_batch"),)),
                   ("lingodex_documents_total", (("outcome", "rejected"), ("stage", "index")))):
        assert during[0].get(series) == 0, f"{series} is not exported at 0 before its first event"


def test_worker_metrics_count_documents_batches_bulk_errors_and_queue_depth(
        settings: Settings, client: OpenSearch, index_name: str, tmp_path: Path) -> None:
    metered = metered_settings(settings, tmp_path, batch_size=40)
    path = tmp_path / "catalog.jsonl"
    write_catalog(path, 199)
    with path.open("a", encoding="utf-8") as catalog:  # valid, but Lucene refuses a keyword term over 32 KB
        catalog.write(json.dumps({"id": "immense", "title": "Immense category", "category": ["x" * 40_000]}) + "\n")
    with running_workers(metered):
        job = build_ingest_job(metered).run(read_records(path), str(path), index_name)
        samples = scrape(metered.worker.metrics_port)
    assert (job.counts.indexed, job.counts.rejected) == (199, 1)
    assert samples[("lingodex_documents_total", (("outcome", "embedded"), ("stage", "embed")))] == 200
    assert samples[("lingodex_documents_total", (("outcome", "written"), ("stage", "index")))] == 199
    assert samples[("lingodex_documents_total", (("outcome", "rejected"), ("stage", "index")))] == 1
    assert samples[("lingodex_bulk_errors_total", (("type", "illegal_argument_exception"),))] == 1
    assert samples[("lingodex_batch_seconds_count", (("task", "lingodex.embed_batch"),))] == 5
    assert samples[("lingodex_embed_seconds_count", (("texts_up_to", "64"),))] == 5  # five batches of 40
    assert samples[("lingodex_queue_depth", (("queue", "embed"),))] == 0
