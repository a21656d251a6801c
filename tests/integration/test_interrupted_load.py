"""A load's own worker processes stop with it: at once when it is done, and when it is killed, without leftovers."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

from lingodex.settings import Settings
from tests.catalogs import write_catalog
from tests.loads import wait_for


def processes_with(home: Path) -> list[int]:
    """Processes whose environment names ``home``: the CLI and the workers it started."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit() and int(proc.name) != os.getpid():
            try:
                if str(home).encode() in (proc / "environ").read_bytes() + (proc / "cmdline").read_bytes():
                    found.append(int(proc.name))
            except OSError:
                continue
    return found


def indexed_so_far(home: Path) -> int:
    jobs = list((home / "jobs").glob("*.json")) if (home / "jobs").is_dir() else []
    return max((json.loads(job.read_text() or "{}").get("counts", {}).get("indexed", 0) for job in jobs), default=0)


def test_sigterm_stops_the_loads_workers_and_removes_its_settings_file(
        settings: Settings, index_name: str, tmp_path: Path) -> None:
    write_catalog(tmp_path / "catalog.jsonl", 3000)
    home = tmp_path / "home"
    env = {**os.environ, "LINGODEX_HOME": str(home), "COLUMNS": "200", "HF_HUB_OFFLINE": "1",
           "LINGODEX_ENCODER__CACHE_DIR": str(settings.encoder.cache_dir), "LINGODEX_INGEST__BATCH_SIZE": "50"}
    load = subprocess.Popen([sys.executable, "-m", "lingodex.cli", "ingest", str(tmp_path / "catalog.jsonl"),
                             "--index", index_name], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    wait_for(lambda: indexed_so_far(home) > 0 or load.poll() is not None, 300, "the load to index its first batch")
    assert load.poll() is None, "the load ended before it could be interrupted"
    assert len(processes_with(home)) > 1, "the CLI and its workers"

    load.send_signal(signal.SIGTERM)
    assert load.wait(timeout=120) == 128 + signal.SIGTERM
    wait_for(lambda: not processes_with(home), 60, "the load's worker processes to stop")
    assert not list(home.glob("*.yaml")), "the workers' temporary settings file"


def test_a_small_local_load_returns_within_seconds_of_its_last_batch(settings: Settings, index_name: str,
                                                                     tmp_path: Path) -> None:
    write_catalog(tmp_path / "catalog.jsonl", 4)
    home = tmp_path / "home"
    env = {**os.environ, "LINGODEX_HOME": str(home), "COLUMNS": "200", "HF_HUB_OFFLINE": "1",
           "LINGODEX_ENCODER__CACHE_DIR": str(settings.encoder.cache_dir)}
    done = subprocess.run([sys.executable, "-m", "lingodex.cli", "ingest", str(tmp_path / "catalog.jsonl"),
                           "--index", index_name], env=env, capture_output=True, text=True, timeout=300)
    returned = time.time()
    assert done.returncode == 0, done.stdout + done.stderr
    finished = re.findall(r"^\[(\S+ \S+): INFO/\S+\] Task lingodex\.index_batch\[\S+\] succeeded",
                          (home / "worker.log").read_text(), re.MULTILINE)
    last_batch = datetime.strptime(finished[-1], "%Y-%m-%d %H:%M:%S,%f").timestamp()  # the worker's local time
    assert returned - last_batch < 10, "the workers stop as soon as the work is done (they once waited out 30 s)"
