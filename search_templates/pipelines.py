"""Search pipelines live as JSON files in search_templates/pipelines/; this pushes them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from opensearchpy import OpenSearch

PIPELINES_DIR = Path(__file__).parent / "pipelines"
HYBRID_MINMAX = "lingodex-hybrid-minmax"
HYBRID_RRF = "lingodex-hybrid-rrf"


def pipeline_body(name: str) -> dict[str, Any]:
    return json.loads((PIPELINES_DIR / f"{name}.json").read_text(encoding="utf-8"))


def available_pipelines() -> list[str]:
    return sorted(path.stem for path in PIPELINES_DIR.glob("*.json"))


def put_pipeline(client: OpenSearch, name: str, body: dict[str, Any] | None = None) -> None:
    """Create or replace the search pipeline ``name`` (idempotent: PUT overwrites)."""
    client.transport.perform_request("PUT", f"/_search/pipeline/{name}", body=body or pipeline_body(name))


def push_all(client: OpenSearch) -> list[str]:
    names = available_pipelines()
    for name in names:
        put_pipeline(client, name)
    return names
