"""Loads run on a thread so that a test can break things while they are in flight."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from lingodex.ingest.catalog.readers import read_records
from lingodex.ingest.job import JobRecord
from lingodex.ingesting import build_ingest_job
from lingodex.settings import Settings
from lingodex.launcher import running_workers


def scratch_settings(settings: Settings, home: Path, **ingest: object) -> Settings:
    """The session's settings with a home of their own (broker files, jobs, worker log) and these ingest values."""
    return settings.model_copy(update={"home": home, "ingest": settings.ingest.model_copy(update=ingest)})


@contextmanager
def live_workers(settings: Settings) -> Iterator[None]:
    """Real worker processes for a module's loads; the module fails with their log if they died meanwhile."""
    with running_workers(settings) as process:
        yield
        assert process.poll() is None, (settings.home / "worker.log").read_text()[-5000:]


def load_in_background(settings: Settings, path: Path, index: str, timeout_s: float = 900,
                       ) -> tuple[threading.Thread, dict, Callable[[], JobRecord]]:
    """Start the load on a thread; returns the thread, live progress, and the final job."""
    progress: dict = {}
    outcome: dict = {}

    def on_progress(job: JobRecord) -> None:
        progress["counts"] = job.counts.model_copy()

    def run() -> None:
        try:
            outcome["job"] = build_ingest_job(settings, on_progress=on_progress).run(read_records(path), str(path), index)
        except BaseException as error:  # noqa: BLE001 - handed to the test thread
            outcome["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()

    def result() -> JobRecord:
        thread.join(timeout=timeout_s)
        assert not thread.is_alive(), f"the load did not finish within {timeout_s:.0f} s"
        if "error" in outcome:
            raise outcome["error"]
        return outcome["job"]

    return thread, progress, result


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str, poll_s: float = 0.2) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(poll_s)
