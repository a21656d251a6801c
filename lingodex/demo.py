"""The end-to-end smoke demo: a small multilingual catalog through the whole stack.

The catalog goes through the same ingest job as `lingodex ingest` (a new
version behind the demo alias, real Celery worker processes, embedded broker
unless Redis is configured); then one hybrid query per language runs through
the same search path as `lingodex search`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml
from opensearchpy import OpenSearch

from lingodex.ingest.catalog.readers import SourceRecord
from lingodex.connection import installed_plugins

REQUIRED_PLUGINS = {"opensearch-knn", "opensearch-neural-search"}


@dataclass(frozen=True)
class DemoQuery:
    lang: str
    text: str
    expect: list[str]  # one of these in the hybrid top 3
    relevant: list[str]  # every product of the query's kind in the demo catalog, any language


def demo_catalog() -> list[dict[str, Any]]:
    text = resources.files("lingodex.data").joinpath("demo_catalog.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def demo_records() -> list[SourceRecord]:
    return [SourceRecord(position, fields) for position, fields in enumerate(demo_catalog(), start=1)]


def demo_queries() -> list[DemoQuery]:
    text = resources.files("lingodex.data").joinpath("demo_queries.yaml").read_text(encoding="utf-8")
    return [DemoQuery(**item) for item in yaml.safe_load(text)]


def check_cluster(client: OpenSearch) -> None:
    missing = REQUIRED_PLUGINS - installed_plugins(client)
    if missing:
        raise RuntimeError(
            f"the cluster lacks plugin(s) {sorted(missing)}; the demo needs k-NN and neural-search "
            "(`make opensearch-up` provides a local node that has them)"
        )
