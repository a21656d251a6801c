"""The end-to-end smoke demo: a small multilingual catalog through the whole stack.

The catalog goes through the same ingest job as `lingodex ingest` (a new
version behind the demo alias, real Celery worker processes, embedded broker
unless Redis is configured); then one hybrid query per language runs through
the neural-search normalization pipeline.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml
from opensearchpy import OpenSearch

from encoder import Encoder
from ingest.documents import field_for
from ingest.mappings import PRODUCTS, language_fields
from ingest.readers import SourceRecord
from lingodex.connection import installed_plugins
from search_templates.hybrid import hybrid_request
from search_templates.pipelines import HYBRID_MINMAX, put_pipeline

REQUIRED_PLUGINS = {"opensearch-knn", "opensearch-neural-search"}


@dataclass(frozen=True)
class DemoQuery:
    lang: str
    text: str
    expect: list[str]


@dataclass(frozen=True)
class Hit:
    id: str
    lang: str
    title: str
    score: float


@dataclass(frozen=True)
class QueryResult:
    query: DemoQuery
    hits: list[Hit]


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


def prepare_pipelines(client: OpenSearch) -> None:
    put_pipeline(client, HYBRID_MINMAX)


def search(client: OpenSearch, index: str, encoder: Encoder, query: DemoQuery, size: int = 5) -> QueryResult:
    vector = encoder.encode_queries([query.text])[0]
    body = hybrid_request(query.text, vector, field_for(query.lang, language_fields(PRODUCTS)), size=size)
    response = client.search(index=index, body=body, params={"search_pipeline": HYBRID_MINMAX})
    return QueryResult(query=query, hits=[_hit(raw) for raw in response["hits"]["hits"]])


def _hit(raw: dict[str, Any]) -> Hit:
    source = raw["_source"]
    title = next(iter(source["title"].values()))
    return Hit(id=source["id"], lang=source["lang"], title=title, score=float(raw["_score"]))
