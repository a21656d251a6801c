"""`--format json` on the real node: one JSON document a script can read; and listing and pruning fusion pipelines."""

from __future__ import annotations

import json
from pathlib import Path

from opensearchpy import OpenSearch

from lingodex.settings import Settings
from lingodex.search_templates.pipelines import delete_pipeline, fusion_pipeline, put_pipeline
from lingodex.search_templates.search_params import LanguageParams
from tests.integration.test_cli_errors import lingodex


def test_status_as_json_names_the_cluster_and_its_plugins(settings: Settings, tmp_path: Path) -> None:
    done = lingodex(settings, tmp_path, "status", "--format", "json")
    assert done.returncode == 0, done.stderr
    status = json.loads(done.stdout)
    assert status["status"] in ("green", "yellow") and "opensearch-knn" in status["plugins"]


def test_search_as_json_gives_the_language_and_ranked_hits(settings: Settings, tmp_path: Path,
                                                           fixture_search: tuple) -> None:
    _, index = fixture_search
    done = lingodex(settings, tmp_path, "search", "Wasserkocher", "--index", index, "--k", "3", "--format", "json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["language"]["code"] == "de"
    assert [hit["rank"] for hit in result["hits"]] == [1, 2, 3] and result["hits"][0]["id"] == "kettle-de"


def test_an_unused_pipeline_is_listed_as_such_and_pruned(settings: Settings, client: OpenSearch, tmp_path: Path) -> None:
    name, body = fusion_pipeline(LanguageParams(lexical_weight=0.123, dense_weight=0.877))
    put_pipeline(client, name, body)
    try:
        listed = {row["name"]: row for row in json.loads(lingodex(settings, tmp_path, "pipelines", "list",
                                                                  "--format", "json").stdout)}
        assert listed[name]["used_by"] == [] and "weights [0.123, 0.877]" in listed[name]["fusion"]
        default = fusion_pipeline(LanguageParams())[0]
        dry = lingodex(settings, tmp_path, "pipelines", "prune", "--dry-run")
        assert f"would delete {name}" in dry.stdout and default not in dry.stdout
    finally:
        delete_pipeline(client, name)
