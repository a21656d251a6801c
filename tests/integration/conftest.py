"""One OpenSearch node per test session; each test isolates itself by index name.

Nothing here starts services: `make test` (and so `.ci/run`) brings up the real
node and Redis first. A missing service is a failure, never a skip.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from opensearchpy import OpenSearch
from opensearchpy.exceptions import ConnectionError as OpenSearchConnectionError

from lingodex.connection import opensearch_client
from lingodex.settings import Settings, load_settings
from lingodex.search_templates.searcher import HybridSearcher
from tests.indices import drop_with_versions


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory, encoder_cache: Path) -> Settings:
    """Default settings in a scratch home; the encoder's model/export cache is shared by the session."""
    loaded = load_settings(home=tmp_path_factory.mktemp("lingodex-home"))
    loaded.encoder.cache_dir = encoder_cache
    return loaded


@pytest.fixture(scope="session")
def client(settings: Settings) -> OpenSearch:
    os_client = opensearch_client(settings.opensearch)
    try:
        os_client.cluster.health(wait_for_status="yellow")  # the server waits up to 30 s
    except OpenSearchConnectionError as error:
        pytest.fail(
            f"no OpenSearch at {settings.opensearch.url} ({error}); run the tests with `make test`, "
            "which starts the local node, or set LINGODEX_OPENSEARCH__URL",
            pytrace=False,
        )
    return os_client


@pytest.fixture
def index_name(request: pytest.FixtureRequest, client: OpenSearch) -> Iterator[str]:
    """A fresh index (or alias) name for this test; it and its versions are deleted afterwards."""
    slug = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")[:60]
    name = f"test-{slug}-{uuid.uuid4().hex[:6]}"
    yield name
    drop_with_versions(client, name)


@pytest.fixture(scope="session")
def fixture_search(client: OpenSearch, settings: Settings) -> Iterator[tuple[HybridSearcher, str]]:
    """The shipped multilingual fixture indexed with the real encoder, and a searcher over it (session-wide)."""
    from lingodex.encoder import load_encoder
    from lingodex.searching import build_searcher
    from tests.search_fixture import load_fixture

    encoder = load_encoder(settings.encoder)
    index = "test-search-fixture"
    load_fixture(client, index, encoder)
    yield build_searcher(settings, client, encoder), index
    client.indices.delete(index=index)
