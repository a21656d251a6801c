"""`lingodex ingest` exit codes: a nightly job gates on them."""

from __future__ import annotations

from lingodex.cli import EXIT_FAILED, EXIT_NOT_PROMOTED, EXIT_OK, EXIT_REJECTIONS, exit_code
from lingodex.ingest.job import JobCounts, JobRecord


def job(state: str = "done", rejected: int = 0, promoted: bool | None = None) -> JobRecord:
    return JobRecord(source="catalog.jsonl", state=state, promoted=promoted,
                     counts=JobCounts(read=10, indexed=10 - rejected, rejected=rejected))


def test_a_clean_load_exits_0() -> None:
    assert exit_code(job(promoted=True)) == EXIT_OK == 0


def test_a_load_with_rejections_exits_3() -> None:
    assert exit_code(job(rejected=2)) == EXIT_REJECTIONS == 3


def test_a_new_version_that_was_not_promoted_exits_4() -> None:
    assert exit_code(job(rejected=10, promoted=False)) == EXIT_NOT_PROMOTED == 4


def test_a_failed_load_exits_1() -> None:
    assert exit_code(job(state="failed")) == EXIT_FAILED == 1
