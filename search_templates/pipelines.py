"""Search pipelines: the JSON files in search_templates/pipelines/, filled with a language's fusion parameters."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from opensearchpy import OpenSearch
from opensearchpy.exceptions import RequestError

from lingodex.search_templates.search_params import LanguageParams, SearchParams

PIPELINES_DIR = Path(__file__).parent / "pipelines"
HYBRID_MINMAX = "lingodex-hybrid-minmax"
HYBRID_RRF = "lingodex-hybrid-rrf"


def pipeline_body(name: str) -> dict[str, Any]:
    return json.loads((PIPELINES_DIR / f"{name}.json").read_text(encoding="utf-8"))


def put_pipeline(client: OpenSearch, name: str, body: dict[str, Any] | None = None) -> None:
    """Create or replace the search pipeline ``name`` (idempotent: PUT overwrites)."""
    client.transport.perform_request("PUT", f"/_search/pipeline/{name}", body=body or pipeline_body(name))


def push_for_languages(client: OpenSearch, params: SearchParams) -> dict[str, str]:
    """Create the pipeline every language's parameters need; returns language ("default" too) -> pipeline name."""
    known: set[str] = set()
    return {lang: ensure_pipeline(client, language, known) for lang, language in params.by_language().items()}


def fusion_pipeline(params: LanguageParams) -> tuple[str, dict[str, Any]]:
    """The search pipeline for these parameters: the shipped body with technique, weights or rank constant set.

    Its name carries a hash of the body, so a tuned language gets a new
    pipeline instead of changing one that running queries use.
    """
    if params.fusion == "rrf":
        body = pipeline_body(HYBRID_RRF)
        body["phase_results_processors"][0]["score-ranker-processor"]["combination"]["rank_constant"] = params.rank_constant
    else:
        body = pipeline_body(HYBRID_MINMAX)
        processor = body["phase_results_processors"][0]["normalization-processor"]
        processor["normalization"]["technique"] = params.normalization
        processor["combination"]["technique"] = params.combination
        processor["combination"]["parameters"]["weights"] = params.weights
        body["description"] = f"lingodex hybrid fusion: {params.normalization} normalisation, weighted {params.combination}; weights = [lexical, dense]"
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:10]
    return f"lingodex-{params.fusion}-{digest}", body


def ensure_pipeline(client: OpenSearch, params: LanguageParams, known: set[str]) -> str:
    """Create the pipeline for ``params`` once per process (a PUT of the same body is harmless but not free)."""
    name, body = fusion_pipeline(params)
    if name not in known:
        put_pipeline(client, name, body)
        known.add(name)
    return name


def pipeline_missing(error: RequestError, name: str) -> bool:
    """Whether the cluster refused a search because the pipeline ``name`` does not exist (any more)."""
    return f"Pipeline {name} is not defined" in str(error.info or error.error)


def lingodex_pipelines(client: OpenSearch) -> dict[str, dict[str, Any]]:
    """Every fusion pipeline lingodex created on the cluster (names ``lingodex-<fusion>-<hash>``), by name."""
    try:
        found = client.transport.perform_request("GET", "/_search/pipeline")
    except Exception as error:  # noqa: BLE001 - 404 when the cluster has no search pipeline at all
        if getattr(error, "status_code", None) == 404:
            return {}
        raise
    return {name: body for name, body in (found or {}).items()
            if name.startswith("lingodex-") and name not in (HYBRID_MINMAX, HYBRID_RRF)}


def unused_pipelines(client: OpenSearch, params: SearchParams) -> list[str]:
    """lingodex's pipelines that no language of ``params`` uses: left by earlier tunings, safe to delete
    once no client searches with the old parameters any more."""
    used = {fusion_pipeline(language)[0] for language in params.by_language().values()}
    return sorted(set(lingodex_pipelines(client)) - used)


def delete_pipeline(client: OpenSearch, name: str) -> None:
    client.transport.perform_request("DELETE", f"/_search/pipeline/{name}")


def pipeline_summary(body: dict[str, Any]) -> str:
    """A fusion pipeline in a few words: 'min_max, arithmetic_mean, weights [0.3, 0.7]' or 'rrf, rank_constant 60'."""
    for processor in body.get("phase_results_processors", []):
        if "normalization-processor" in processor:
            spec = processor["normalization-processor"]
            combination = spec.get("combination", {})
            return (f"{spec.get('normalization', {}).get('technique')}, {combination.get('technique')}, "
                    f"weights {combination.get('parameters', {}).get('weights')}")
        if "score-ranker-processor" in processor:
            return f"rrf, rank_constant {processor['score-ranker-processor']['combination'].get('rank_constant')}"
    return body.get("description", "")
