"""Loads that overlap, are interrupted, or wait on batches nobody takes: each ends cleanly and hurts no other.

The CLI loads run as real `lingodex ingest` processes with their own local workers and embedded broker,
sharing one home directory, as two cron jobs on one machine would.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from opensearchpy import OpenSearch

from lingodex.ingest.index.index_versions import alias_indices
from lingodex.ingest.index.load_lock import LoadInProgress
from lingodex.ingest.catalog.readers import read_records
from lingodex.ingest.job import JobRecord
from lingodex.ingesting import build_ingest_job
from lingodex.settings import Settings
from tests.catalogs import write_catalog
from tests.indices import drop_with_versions
from tests.loads import live_workers, scratch_settings, wait_for


def cli_env(settings: Settings, home: Path) -> dict[str, str]:
    return {**os.environ, "LINGODEX_HOME": str(home), "COLUMNS": "200", "HF_HUB_OFFLINE": "1",
            "LINGODEX_ENCODER__CACHE_DIR": str(settings.encoder.cache_dir), "LINGODEX_INGEST__BATCH_SIZE": "50"}


def load_under_way(path: Path, alias: str, env: dict[str, str], home: Path) -> subprocess.Popen[str]:
    """`lingodex ingest` started, and past its first indexed batch."""
    load = subprocess.Popen([sys.executable, "-m", "lingodex.cli", "ingest", str(path), "--index", alias],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    wait_for(lambda: indexed_so_far(home, path) > 0 or load.poll() is not None, 300, f"{path.name} to index a batch")
    assert load.poll() is None, f"{path.name} was loaded before the test could act during the load"
    return load


def load_to_the_end(path: Path, alias: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lingodex.cli", "ingest", str(path), "--index", alias],
                          env=env, capture_output=True, text=True, timeout=300)


def jobs_of(home: Path, source: Path) -> list[dict]:
    folder = home / "jobs"
    found = [json.loads(path.read_text() or "{}") for path in folder.glob("*.json")] if folder.is_dir() else []
    return [job for job in found if job.get("source") == str(source)]


def indexed_so_far(home: Path, source: Path) -> int:
    return max((job.get("counts", {}).get("indexed", 0) for job in jobs_of(home, source)), default=0)


def write_other_catalog(path: Path, count: int) -> None:
    path.write_text("".join(json.dumps({"id": f"other-{n}", "title": f"Steel water bottle {n}", "lang": "en"}) + "\n"
                            for n in range(count)))


@pytest.fixture
def second_alias(client: OpenSearch, index_name: str) -> Iterator[str]:
    name = f"{index_name}-second"
    yield name
    drop_with_versions(client, name)


def test_a_small_load_during_a_big_one_from_the_same_home_leaves_the_big_one_complete(
        settings: Settings, client: OpenSearch, index_name: str, second_alias: str, tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = cli_env(settings, home)
    write_catalog(tmp_path / "big.jsonl", 1500)
    write_other_catalog(tmp_path / "small.jsonl", 4)
    big = load_under_way(tmp_path / "big.jsonl", index_name, env, home)

    small = load_to_the_end(tmp_path / "small.jsonl", second_alias, env)
    assert small.returncode == 0, small.stdout + small.stderr
    assert big.poll() is None, "the small load finished while the big one still runs"

    output, _ = big.communicate(timeout=900)
    assert big.returncode == 0, output
    assert client.count(index=index_name)["count"] == 1500
    assert client.count(index=second_alias)["count"] == 4
    assert not list((home / "broker" / "loads").iterdir()), "each load removes its own broker folder"


def test_ctrl_c_mid_load_then_an_unrelated_load_indexes_nothing_of_the_cancelled_one(
        settings: Settings, client: OpenSearch, index_name: str, second_alias: str, tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = cli_env(settings, home)
    write_catalog(tmp_path / "cancelled.jsonl", 1500)
    write_other_catalog(tmp_path / "next.jsonl", 4)
    load = load_under_way(tmp_path / "cancelled.jsonl", index_name, env, home)

    load.send_signal(signal.SIGINT)
    output, _ = load.communicate(timeout=120)
    assert load.returncode != 0 and "Traceback" not in output, output
    cancelled = jobs_of(home, tmp_path / "cancelled.jsonl")[0]
    assert cancelled["state"] == "failed"
    assert "stopped (Ctrl-C)" in cancelled["error"]
    assert not client.indices.get(index=f"{index_name}-v*"), "the unfinished first version is deleted"

    after = load_to_the_end(tmp_path / "next.jsonl", second_alias, env)
    assert after.returncode == 0, after.stdout + after.stderr
    time.sleep(2)  # let anything still in flight land, if it could
    client.indices.refresh(index=f"{second_alias}*")
    ids = {hit["_id"] for hit in client.search(index=second_alias, body={"size": 100, "_source": False})["hits"]["hits"]}
    assert ids == {f"other-{n}" for n in range(4)}
    assert not client.indices.get(index=f"{index_name}-v*")


@pytest.fixture(scope="module")
def lock_settings(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return scratch_settings(settings, tmp_path_factory.mktemp("lock-home"), batch_size=50)


def test_two_simultaneous_loads_into_one_new_alias_one_is_refused_and_the_other_complete(
        lock_settings: Settings, client: OpenSearch, index_name: str, tmp_path: Path) -> None:
    write_catalog(tmp_path / "catalog.jsonl", 300)
    start = threading.Barrier(2)
    outcomes: list[JobRecord | BaseException] = []

    def load() -> None:
        job = build_ingest_job(lock_settings)
        start.wait()
        try:
            outcomes.append(job.run(read_records(tmp_path / "catalog.jsonl"), "catalog.jsonl", index_name))
        except BaseException as error:  # noqa: BLE001 - compared below
            outcomes.append(error)

    with live_workers(lock_settings):
        threads = [threading.Thread(target=load) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=600)
    refused = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
    done = [outcome for outcome in outcomes if isinstance(outcome, JobRecord)]
    assert len(refused) == 1 and isinstance(refused[0], LoadInProgress), outcomes
    assert "is being loaded by job" in str(refused[0])
    assert len(done) == 1 and done[0].state == "done" and done[0].counts.indexed == 300
    assert len(alias_indices(client, index_name)) == 1
    assert client.count(index=index_name)["count"] == 300
    assert len(client.indices.get(index=f"{index_name}-v*")) == 1, "the refused load created no index"


def test_a_batch_no_worker_takes_is_rejected_after_the_batch_timeout_instead_of_hanging(
        settings: Settings, client: OpenSearch, index_name: str, tmp_path: Path) -> None:
    no_workers = scratch_settings(settings, tmp_path / "home", batch_size=2, batch_timeout_s=3,
                                  centring=settings.ingest.centring.model_copy(update={"enabled": False}))
    write_catalog(tmp_path / "catalog.jsonl", 4)
    started = time.monotonic()
    job = build_ingest_job(no_workers).run(read_records(tmp_path / "catalog.jsonl"), "catalog.jsonl", index_name)
    assert time.monotonic() - started < 60
    assert (job.counts.read, job.counts.rejected, job.promoted) == (4, 4, False)
    letters = [json.loads(line) for line in Path(job.dead_letters).read_text().splitlines()]
    assert all("ingest.batch_timeout_s (3 s)" in letter["reason"] for letter in letters)
