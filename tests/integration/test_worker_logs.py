"""With logs.format json, worker log lines are JSON objects that name the load, batch and task behind them."""

from __future__ import annotations

import json
from pathlib import Path

from ingest.readers import read_records
from lingodex.ingest_job import build_ingest_job
from lingodex.settings import LogSettings, Settings
from tests.catalogs import write_catalog
from tests.loads import scratch_settings
from workers.launcher import running_workers


def json_lines(path: Path) -> list[dict]:
    """The log's JSON objects; lines printed before logging was set up (banner, warnings) are text."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("{")]


def test_every_indexed_batch_is_logged_as_json_with_its_job_batch_and_task(
        settings: Settings, index_name: str, tmp_path: Path) -> None:
    json_settings = scratch_settings(settings, tmp_path, batch_size=30).model_copy(
        update={"logs": LogSettings(format="json")})
    path = tmp_path / "catalog.jsonl"
    write_catalog(path, 90, seed=3)
    log = tmp_path / "worker.log"
    with running_workers(json_settings, log_file=log):
        job = build_ingest_job(json_settings).run(read_records(path), str(path), index_name)
    indexed = [line for line in json_lines(log) if line.get("message") == "indexed batch"]
    assert sorted(line["batch"] for line in indexed) == [1, 2, 3]
    assert {line["job_id"] for line in indexed} == {job.id}
    assert all(line["task"] == "lingodex.index_batch" and line["task_id"] and line["level"] == "INFO"
               and line["indexed"] == 30 and line["time"] for line in indexed)
