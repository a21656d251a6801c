"""What the CLI prints: `--format json` one JSON document and nothing else; a failure one line."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from lingodex.cli import app
from lingodex.ingest.job import JobCounts, JobRecord, save_job
from lingodex.ingesting import jobs_dir
from lingodex.settings import load_settings


def test_job_with_format_json_prints_the_record_as_one_json_document(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("LINGODEX_HOME", str(tmp_path))
    record = JobRecord(id="abc123", source="catalog.jsonl", index="products-v1", state="done",
                       counts=JobCounts(read=3, valid=2, rejected=1, indexed=2))
    save_job(jobs_dir(load_settings(home=tmp_path)), record)
    result = CliRunner().invoke(app, ["job", "abc123", "--format", "json"])
    assert result.exit_code == 3, result.output  # done with rejections
    printed = json.loads(result.stdout)
    assert (printed["id"], printed["state"], printed["counts"]["rejected"]) == ("abc123", "done", 1)


def test_an_unknown_output_format_is_refused(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("LINGODEX_HOME", str(tmp_path))
    result = CliRunner().invoke(app, ["job", "abc123", "--format", "yaml"])
    assert result.exit_code != 0 and "is not one of table, json" in result.output


def test_serve_on_a_port_in_use_fails_in_one_line_before_loading_the_encoder() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([sys.executable, "-c", "from lingodex.cli import run; run()", "serve", "--host",
                                 "127.0.0.1", "--port", str(port)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"error: cannot listen on 127.0.0.1:{port} (Address already in use): stop what uses that port, "
        "or choose another with --port or serve.port"]
