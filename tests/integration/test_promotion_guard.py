"""A bad feed never replaces a good live index: the promotion guard, rollback, and refused loads that create nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from opensearchpy import OpenSearch

from lingodex.ingest.index.index_versions import alias_indices, list_versions, previous_version, promote_version
from lingodex.ingest.index.promotion import PromotionPolicy
from lingodex.ingest.catalog.readers import read_records
from lingodex.cli import EXIT_NOT_PROMOTED
from lingodex.ingest.job import JobRecord
from lingodex.ingesting import build_ingest_job
from lingodex.settings import Settings
from tests.catalogs import write_catalog
from tests.loads import live_workers, scratch_settings

GOOD = 20


@pytest.fixture(scope="module")
def guard_settings(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return scratch_settings(settings, tmp_path_factory.mktemp("promotion-home"), batch_size=10)


@pytest.fixture(scope="module")
def workers(guard_settings: Settings) -> Iterator[None]:
    with live_workers(guard_settings):
        yield


@pytest.fixture
def serving(workers: None, guard_settings: Settings, client: OpenSearch, index_name: str, tmp_path: Path) -> str:
    """An alias serving a good first version of GOOD products."""
    write_catalog(tmp_path / "good.jsonl", GOOD)
    job = load(guard_settings, tmp_path / "good.jsonl", index_name)
    assert job.promoted and client.count(index=index_name)["count"] == GOOD
    return index_name


def load(settings: Settings, path: Path, alias: str, policy: PromotionPolicy | None = None) -> JobRecord:
    return build_ingest_job(settings).run(read_records(path), str(path), alias, new_version=True, policy=policy)


def bad_catalog(path: Path, good: int, bad: int) -> None:
    write_catalog(path, good)
    with path.open("a", encoding="utf-8") as handle:
        for i in range(bad):
            handle.write(json.dumps({"id": f"bad-{i}", "title": "   "}) + "\n")  # an empty title is rejected


def test_an_all_rejected_feed_leaves_the_alias_on_the_version_it_served(
        serving: str, guard_settings: Settings, client: OpenSearch, tmp_path: Path) -> None:
    before = alias_indices(client, serving)
    bad_catalog(tmp_path / "allbad.jsonl", 0, 2)
    job = load(guard_settings, tmp_path / "allbad.jsonl", serving)
    assert (job.state, job.promoted, job.counts.indexed) == ("done", False, 0)
    assert "no documents" in (job.refusal or "")
    assert alias_indices(client, serving) == before and client.count(index=serving)["count"] == GOOD


def test_a_mostly_rejected_feed_is_kept_aside_and_the_alias_stays(
        serving: str, guard_settings: Settings, client: OpenSearch, tmp_path: Path) -> None:
    before = alias_indices(client, serving)
    bad_catalog(tmp_path / "mostlybad.jsonl", GOOD - 5, 5)
    job = load(guard_settings, tmp_path / "mostlybad.jsonl", serving)
    assert job.promoted is False and "5 of 20 records were rejected" in (job.refusal or "")
    assert alias_indices(client, serving) == before
    assert job.index in [version.index for version in list_versions(client, serving)], "kept for inspection"


def test_force_promotes_a_feed_the_guard_would_refuse(
        serving: str, guard_settings: Settings, client: OpenSearch, tmp_path: Path) -> None:
    bad_catalog(tmp_path / "mostlybad.jsonl", GOOD - 5, 5)
    job = load(guard_settings, tmp_path / "mostlybad.jsonl", serving, PromotionPolicy(force=True))
    assert job.promoted and alias_indices(client, serving) == [job.index]


def test_rollback_serves_the_version_before_the_current_one_again(
        serving: str, guard_settings: Settings, client: OpenSearch, tmp_path: Path) -> None:
    first = alias_indices(client, serving)[0]
    write_catalog(tmp_path / "next.jsonl", GOOD, seed=11)
    assert load(guard_settings, tmp_path / "next.jsonl", serving).promoted
    assert previous_version(client, serving) == first
    promote_version(client, serving, first)
    assert alias_indices(client, serving) == [first]
    assert [version.serving for version in list_versions(client, serving)] == [False, True]


@pytest.mark.parametrize("name", ["catalog.parquet", "catalog.txt", "empty.jsonl"])
def test_a_load_refused_for_its_file_creates_no_index(
        workers: None, guard_settings: Settings, client: OpenSearch, index_name: str, tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"PAR1 truncated" if name.endswith(".parquet") else b"" if name.startswith("empty") else b"x\n")
    with pytest.raises(Exception):  # noqa: B017, PT011 - each reader's own error; what matters is what is left
        load(guard_settings, path, index_name)
    assert not client.indices.get(index=f"{index_name}*", expand_wildcards="all")


def test_the_cli_exits_4_and_says_how_to_promote_when_a_feed_is_not_promoted(
        serving: str, settings: Settings, tmp_path: Path) -> None:
    bad_catalog(tmp_path / "allbad.jsonl", 0, 2)
    env = {**os.environ, "LINGODEX_HOME": str(tmp_path / "home"), "COLUMNS": "200", "HF_HUB_OFFLINE": "1",
           "LINGODEX_ENCODER__CACHE_DIR": str(settings.encoder.cache_dir)}
    done = subprocess.run([sys.executable, "-m", "lingodex.cli", "ingest", str(tmp_path / "allbad.jsonl"),
                           "--index", serving, "--new-version"], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == EXIT_NOT_PROMOTED, done.stdout + done.stderr
    assert "not promoted" in done.stdout and f"lingodex promote {serving}-v" in done.stdout
