"""Shared fixtures. Integration tests run against the real services `make test` starts."""

from __future__ import annotations

from pathlib import Path

import pytest

INTEGRATION_DIR = Path(__file__).parent / "integration"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--failover-documents", type=int, default=5000,
                     help="catalog size of the node-failover load (test_cluster_failover.py); the issue's drill is 50000")


@pytest.fixture(scope="session")
def encoder_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One materialised model and export cache for the whole session.

    The model and each of its exports take about 0.5 GB; the encoder and the
    integration tests share them rather than writing them twice (CI disks are small).
    """
    return tmp_path_factory.mktemp("encoder-cache")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if INTEGRATION_DIR in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.integration)
