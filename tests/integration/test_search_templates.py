"""The shipped search templates on the real node: stored idempotently, one query shape, safe for any query text."""

from __future__ import annotations

import pytest
from opensearchpy import OpenSearch

from lingodex.ingest.index.mappings import EncoderIdentity, index_body, language_fields
from lingodex.search_templates.filters import parse_filters
from lingodex.settings import Settings
from lingodex.search_templates.query_builder import SearchQuery, searchable_text, template_params
from lingodex.search_templates.search_params import LanguageParams
from lingodex.search_templates.templates import DENSE, HYBRID, LEXICAL, push_templates, render, template_ids

ANALYZED = language_fields("products")
HOSTILE_TEXTS = {
    "quotes": 'the "best" kettle\'s lid',
    "backslashes": "C:\\temp\\ \\u0041 \\\\",
    "mustache tags": "{{query_text}} {{#toJson}}vector{{/toJson}} {{{raw}}}",
    "closing a tag inside a string": 'kettle }}" , "size": 10000, "x": "',
    "a JSON fragment": '{"query": {"match_all": {}}}, "size": 10000',
    "control characters": "tab\there\nnewline\rreturn\x00nul\x1bescape\x7f",
    "10,000 characters": "ケトル kettle " * 1000,
    "mixed scripts": "Wasserkocher ケトル 电热水壶 غلاية чайник केतली กาต้มน้ำ 🫖",
}


def params(text: str, **filters: str) -> dict:
    query = SearchQuery(text, "en", [0.5, -0.25], parse_filters([f"{k}={v}" for k, v in filters.items()]), size=5)
    return template_params(query, LanguageParams(window=20, k=20), ANALYZED)


@pytest.fixture(scope="module", autouse=True)
def stored(client: OpenSearch) -> None:
    push_templates(client)


def test_pushing_again_changes_nothing(client: OpenSearch) -> None:
    assert set(push_templates(client).values()) == {"unchanged"}
    assert set(push_templates(client)) == set(template_ids())


def test_the_hybrid_templates_sub_queries_are_exactly_the_lexical_and_dense_templates(client: OpenSearch) -> None:
    values = params("wireless kettle", brand="Acme")
    lexical, dense = render(client, HYBRID, values)["query"]["hybrid"]["queries"]
    assert lexical == render(client, LEXICAL, values)["query"]
    assert dense == render(client, DENSE, values)["query"]


def test_filters_render_in_both_sub_queries_and_are_left_out_when_there_are_none(client: OpenSearch) -> None:
    lexical, dense = render(client, HYBRID, params("kettle", brand="Acme"))["query"]["hybrid"]["queries"]
    assert lexical["bool"]["filter"] == [{"terms": {"brand": ["Acme"]}}]
    assert dense["knn"]["embedding"]["filter"] == {"bool": {"filter": [{"terms": {"brand": ["Acme"]}}]}}
    assert "filter" not in render(client, DENSE, params("kettle"))["query"]["knn"]["embedding"]


def test_ef_search_renders_into_both_k_nn_queries_only_when_set(client: OpenSearch, index_name: str) -> None:
    query = SearchQuery("kettle", "en", [0.5, -0.25], size=5)
    values = template_params(query, LanguageParams(window=20, k=20, ef_search=300), ANALYZED)
    _, dense = render(client, HYBRID, values)["query"]["hybrid"]["queries"]
    assert dense["knn"]["embedding"]["method_parameters"] == {"ef_search": 300}
    assert render(client, DENSE, values)["query"]["knn"]["embedding"]["method_parameters"] == {"ef_search": 300}
    unset = template_params(query, LanguageParams(window=20, k=20, ef_search=None), ANALYZED)
    assert "method_parameters" not in render(client, DENSE, unset)["query"]["knn"]["embedding"]
    client.indices.create(index=index_name, body=index_body("products", encoder=EncoderIdentity("t", "none", 2)))
    client.search_template(index=index_name, body={"id": DENSE, "params": values})  # the node accepts it


@pytest.mark.parametrize("text", HOSTILE_TEXTS.values(), ids=HOSTILE_TEXTS.keys())
def test_any_query_text_renders_to_a_valid_request_searching_for_exactly_that_text(
        client: OpenSearch, settings: Settings, index_name: str, text: str) -> None:
    rendered = render(client, HYBRID, params(text))
    assert rendered["size"] == 5, "the text could not change the request around it"
    lexical = rendered["query"]["hybrid"]["queries"][0]["bool"]["should"]
    assert {clause_text(clause) for clause in lexical} == {text}
    client.indices.create(index=index_name, body=index_body("products", encoder=EncoderIdentity("t", "none", 2)))
    searched = searchable_text(text, settings.search.max_query_chars)  # what the query path sends
    client.search_template(index=index_name, body={"id": HYBRID, "params": params(searched)})  # the node runs it


def clause_text(clause: dict) -> str:
    query = clause.get("multi_match") or next(iter(clause["match"].values()))
    return query["query"]
