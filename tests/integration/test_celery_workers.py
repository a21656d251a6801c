"""Tasks run in real Celery worker processes, through Redis and through the embedded broker."""

from __future__ import annotations

from pathlib import Path

import pytest

from lingodex.settings import Settings
from lingodex.workers.app import client_app
from lingodex.workers.celery_config import celery_config
from lingodex.launcher import running_workers

REDIS_URL = "redis://127.0.0.1:6379/15"  # a database of its own, so tests never meet real queues


def parent_pid(pid: int) -> int:
    """From /proc: the pool process that ran the task is a child of the worker we started."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[1])


@pytest.mark.parametrize("broker", [REDIS_URL, "embedded"], ids=["redis", "embedded"])
def test_a_task_runs_in_the_worker_process_we_started(settings: Settings, tmp_path: Path, broker: str) -> None:
    worker_settings = settings.model_copy(update={
        "home": tmp_path,
        "broker": settings.broker.model_copy(update={"url": broker}),
    })
    log = tmp_path / "worker.log"
    with running_workers(worker_settings, log_file=log) as worker:
        result = client_app(celery_config(worker_settings.broker, worker_settings.home)).send_task("lingodex.ping").get(timeout=120)
        assert worker.poll() is None, log.read_text()
        assert parent_pid(result["pid"]) == worker.pid
