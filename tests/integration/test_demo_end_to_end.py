"""`lingodex demo`, the README's first command, run as a user would run it."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from opensearchpy import OpenSearch

from lingodex import demo
from lingodex.searching import build_searcher
from lingodex.settings import Settings
from lingodex.search_templates.searcher import HybridSearcher
from tests.indices import drop_with_versions


@pytest.fixture(scope="module")
def demo_run(client: OpenSearch, settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """Run the CLI once (embedded broker, its own worker processes) into a fresh index."""
    index = f"test-demo-{uuid.uuid4().hex[:6]}"
    home = tmp_path_factory.mktemp("demo-home")
    env = {**os.environ, "LINGODEX_HOME": str(home), "COLUMNS": "200",
           "LINGODEX_ENCODER__CACHE_DIR": str(settings.encoder.cache_dir), "HF_HUB_OFFLINE": "1"}
    completed = subprocess.run(
        [sys.executable, "-m", "lingodex.cli", "demo", "--index", index],
        env=env, capture_output=True, text=True, timeout=600,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr + _worker_log(home)
    yield index, completed.stdout
    drop_with_versions(client, index)


def _worker_log(home: Path) -> str:
    log = home / "worker.log"
    return log.read_text() if log.exists() else ""


def test_demo_indexes_every_catalog_record(client: OpenSearch, demo_run: tuple[str, str]) -> None:
    index, output = demo_run
    catalog = demo.demo_catalog()
    assert client.count(index=index)["count"] == len(catalog)
    assert f"read {len(catalog)} = indexed {len(catalog)} + rejected 0" in output


def test_demo_prints_hits_for_queries_in_at_least_three_languages(demo_run: tuple[str, str]) -> None:
    _, output = demo_run
    printed = [query for query in demo.demo_queries() if f"[{query.lang}] {query.text}" in output]
    assert len({query.lang for query in printed}) >= 3
    for query in printed:
        assert any(expected in output for expected in query.expect)


@pytest.fixture(scope="module")
def demo_searcher(client: OpenSearch, settings: Settings) -> HybridSearcher:
    """One searcher (one encoder load) for the tests that query the demo's index."""
    return build_searcher(settings, client)


def test_each_demo_query_ranks_an_expected_product_in_the_top_three(
    demo_searcher: HybridSearcher, demo_run: tuple[str, str]
) -> None:
    index, _ = demo_run
    searcher = demo_searcher
    for query in demo.demo_queries():
        top3 = [hit.id for hit in searcher.search(index, query.text, lang=query.lang, size=3).hits]
        assert set(top3) & set(query.expect), (query, top3)


def test_no_demo_query_is_pulled_toward_unrelated_products_in_its_own_language(
    demo_searcher: HybridSearcher, demo_run: tuple[str, str]
) -> None:
    """Language centroids: `[zh] 机械键盘` once ranked the Chinese headphones above the German keyboard.

    Within the first five hits, or as many as the catalog has relevant products (the rest must be unrelated
    products of some language), no unrelated product of the query's own language.
    """
    index, _ = demo_run
    searcher = demo_searcher
    for query in demo.demo_queries():
        hits = searcher.search(index, query.text, lang=query.lang, size=min(5, len(query.relevant))).hits
        own_language = [hit.id for hit in hits if hit.source["lang"] == query.lang]
        assert set(own_language) <= set(query.relevant), (query, [hit.id for hit in hits])


def test_an_async_ingest_returns_a_job_id_that_lingodex_job_follows_to_the_end(
        client: OpenSearch, settings: Settings, tmp_path: Path) -> None:
    from tests.catalogs import write_catalog

    catalog = tmp_path / "catalog.jsonl"
    write_catalog(catalog, 80)
    index = f"test-async-{uuid.uuid4().hex[:6]}"
    env = {**os.environ, "LINGODEX_HOME": str(tmp_path / "home"), "COLUMNS": "200", "HF_HUB_OFFLINE": "1",
           "LINGODEX_ENCODER__CACHE_DIR": str(settings.encoder.cache_dir)}
    started = subprocess.run([sys.executable, "-m", "lingodex.cli", "ingest", str(catalog), "--index", index, "--async"],
                             env=env, capture_output=True, text=True, timeout=120)
    assert started.returncode == 0, started.stdout + started.stderr
    job_id = started.stdout.split()[1]
    try:
        followed = subprocess.run([sys.executable, "-m", "lingodex.cli", "job", job_id, "--wait"],
                                  env=env, capture_output=True, text=True, timeout=600)
        assert followed.returncode == 0, followed.stdout + followed.stderr
        assert f"job {job_id}: done; read 80 = indexed 80 + rejected 0" in followed.stdout
        assert client.count(index=index)["count"] == 80
    finally:
        drop_with_versions(client, index)
