"""A load rides out a data node crashing and coming back, on the 3-node local cluster.

The module starts the cluster of `make opensearch-cluster-up` (ports
9201-9203, all nodes data and cluster-manager) beside the session's single
node and stops it afterwards. The catalog has ``--failover-documents``
records: 5,000 by default to keep CI in its budget; the issue's drill is
`pytest tests/integration/test_cluster_failover.py --failover-documents 50000
--timeout 3600` (figures in BENCHMARKS.md).
"""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from opensearchpy import OpenSearch, helpers

from lingodex.ingest.catalog.readers import read_records
from lingodex.connection import opensearch_client
from lingodex.ingesting import build_ingest_job
from lingodex.settings import Settings
from tests.catalogs import write_catalog
from tests.indices import drop_with_versions
from tests.loads import load_in_background, scratch_settings, wait_for
from lingodex.launcher import running_workers

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "deploy/local/opensearch.sh"
NODES = ["http://127.0.0.1:9201", "http://127.0.0.1:9202", "http://127.0.0.1:9203"]
VICTIM = 3  # node-3: every node holds shard copies, so any one will do


def cluster_script(*args: str, timeout_s: float = 600) -> None:
    subprocess.run(["bash", str(SCRIPT), *args, "--nodes", "3"], check=True, timeout=timeout_s)


@pytest.fixture(scope="module")
def cluster_settings(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The session's settings aimed at all three nodes, for a 3-shard index with one replica."""
    return scratch_settings(settings, tmp_path_factory.mktemp("failover-home"), batch_size=200, shards=3,
                            replicas=1).model_copy(
        update={"opensearch": settings.opensearch.model_copy(update={"url": ",".join(NODES)})})


@pytest.fixture(scope="module")
def cluster(cluster_settings: Settings) -> Iterator[OpenSearch]:
    cluster_script("up")
    try:
        yield opensearch_client(cluster_settings.opensearch)
    finally:
        cluster_script("down", timeout_s=300)


def green(client: OpenSearch, index: str, timeout_s: int) -> dict:
    """Cluster health once ``index`` is green, or the health at the timeout (the server waits, not us)."""
    return client.cluster.health(index=index, params={"wait_for_status": "green", "timeout": f"{timeout_s}s"},
                                 request_timeout=timeout_s + 10)


@pytest.fixture
def alias(cluster: OpenSearch) -> Iterator[str]:
    name = f"failover-{uuid.uuid4().hex[:8]}"
    yield name
    drop_with_versions(cluster, name)


def test_a_load_completes_exactly_while_a_data_node_is_killed_and_restarted(
        cluster_settings: Settings, cluster: OpenSearch, alias: str, tmp_path: Path,
        request: pytest.FixtureRequest) -> None:
    documents = request.config.getoption("--failover-documents")
    path = tmp_path / "catalog.jsonl"
    records = write_catalog(path, documents, seed=23)
    first = tmp_path / "first.jsonl"
    write_catalog(first, 200, seed=23)  # the same seed: the catalog's first 200 products
    with running_workers(cluster_settings):
        # The alias and its version exist with their replica, as for a nightly update (a first full load runs
        # without replicas, so a node lost then takes shards away until it returns: the retries cover that).
        build_ingest_job(cluster_settings).run(read_records(first), str(first), alias)
        assert green(cluster, alias, 120)["status"] == "green"
        _, progress, result = load_in_background(cluster_settings, path, alias, timeout_s=max(900, documents / 10))
        wait_for(lambda: progress.get("counts") and progress["counts"].indexed >= 600, 300, "the first batches")
        cluster_script("kill", "--node", str(VICTIM))
        killed_at = progress["counts"].indexed
        wait_for(lambda: progress["counts"].indexed >= killed_at + 400 or progress["counts"].indexed == documents,
                 300, "the load to go on without the node")
        cluster_script("up")
        back_at = progress["counts"].indexed
        job = result()
    health = green(cluster, alias, 300)
    print(f"failover drill: {documents} documents; node-{VICTIM} killed at {killed_at} indexed, back at {back_at}; "
          f"{job.counts.retried} batch retries; job {job.state} with {job.counts.indexed} indexed; "
          f"{job.started_at} to {job.finished_at}; cluster {health['status']}")
    assert killed_at < documents, "the node was killed after the load had finished"
    assert (health["status"], health["number_of_nodes"]) == ("green", 3)
    assert (job.state, job.counts.read, job.counts.indexed, job.counts.rejected) == ("done", documents, documents, 0)
    cluster.indices.refresh(index=alias)
    assert cluster.count(index=alias)["count"] == documents
    stored = {hit["_id"] for hit in helpers.scan(cluster, index=alias, query={"_source": False})}
    assert stored == {record["id"] for record in records}
