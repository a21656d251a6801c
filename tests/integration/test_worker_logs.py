"""With logs.format json, worker log lines are JSON objects that name the load, batch and task behind them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest

from lingodex.ingest.catalog.readers import read_records
from lingodex.ingesting import build_ingest_job
from lingodex.settings import LogSettings, Settings
from lingodex.launcher import environment_with, running_workers
from tests.catalogs import write_catalog
from tests.loads import scratch_settings


@contextmanager
def lingodex_worker(settings: Settings, log_file: Path) -> Iterator[None]:
    """`lingodex worker` as a container runs it: the CLI command, settings from the file $LINGODEX_CONFIG names."""
    env = environment_with(settings, settings.home / "worker-settings.yaml")
    with open(log_file, "ab") as log:
        worker = subprocess.Popen([sys.executable, "-m", "lingodex.cli", "worker"], env=env, stdout=log,
                                  stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield
    finally:
        os.kill(worker.pid, signal.SIGTERM)
        worker.wait(timeout=60)


STARTERS: dict[str, Callable[[Settings, Path], AbstractContextManager[object]]] = {
    "local launcher": lambda settings, log: running_workers(settings, log_file=log),
    "lingodex worker": lingodex_worker,
}


def json_lines(path: Path) -> list[dict]:
    """The log's JSON objects; lines printed before logging was set up (banner, warnings) are text."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("{")]


@pytest.mark.parametrize("started_by", list(STARTERS))
def test_every_indexed_batch_is_logged_as_json_with_its_job_batch_and_task(
        settings: Settings, index_name: str, tmp_path: Path, started_by: str) -> None:
    json_settings = scratch_settings(settings, tmp_path, batch_size=30).model_copy(
        update={"logs": LogSettings(format="json")})
    path = tmp_path / "catalog.jsonl"
    write_catalog(path, 90, seed=3)
    log = tmp_path / "worker.log"
    with STARTERS[started_by](json_settings, log):
        job = build_ingest_job(json_settings).run(read_records(path), str(path), index_name)
    indexed = [line for line in json_lines(log) if line.get("message") == "indexed batch"]
    assert sorted(line["batch"] for line in indexed) == [1, 2, 3]
    assert {line["job_id"] for line in indexed} == {job.id}
    assert all(line["task"] == "lingodex.index_batch" and line["task_id"] and line["level"] == "INFO"
               and line["indexed"] == 30 and line["time"] for line in indexed)
