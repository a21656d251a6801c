"""The ml-commons bodies `lingodex model register --ml-commons` sends: what the connector calls and trusts."""

from __future__ import annotations

import json
import re

import pytest

from lingodex.search_templates.errors import RemoteModelError
from lingodex.search_templates.remote_model import connector_body, endpoint_regex, model_body, text_embedding_pipeline


def test_the_connector_posts_neural_searchs_texts_and_content_type_to_embed_with_the_index() -> None:
    connector = connector_body("http://10.0.0.5:8080/", "products")
    action = connector["actions"][0]
    assert connector["parameters"] == {"endpoint": "http://10.0.0.5:8080", "index": "products"}
    assert action["url"] == "${parameters.endpoint}/embed"
    request = json.loads(action["request_body"].replace("${parameters.texts}", '["a"]'))
    assert request == {"inputs": ["a"], "prompt_name": "${parameters.content_type}", "index": "${parameters.index}",
                       "normalize": True}


def test_a_token_travels_as_an_encrypted_credential_never_in_a_header() -> None:
    connector = connector_body("http://serve:8080", "products", token="s3cret-token")
    assert connector["credential"] == {"token": "s3cret-token"}
    assert connector["actions"][0]["headers"]["Authorization"] == "Bearer ${credential.token}"
    assert "s3cret-token" not in json.dumps(connector["actions"])


def test_without_a_token_no_authorization_header_is_sent() -> None:
    assert "Authorization" not in connector_body("http://serve:8080", "products")["actions"][0]["headers"]


def test_the_model_is_registered_asymmetric_so_neural_search_sends_query_or_passage() -> None:
    model = model_body("connector-1", 768)
    assert model["function_name"] == "remote" and model["connector_id"] == "connector-1"
    assert model["model_config"]["embedding_dimension"] == 768
    assert model["model_config"]["additional_config"]["is_asymmetric"] is True


def test_only_the_servers_own_origin_is_trusted() -> None:
    trusted = re.compile(endpoint_regex("http://10.0.0.5:8080"))
    assert trusted.match("http://10.0.0.5:8080/embed")
    assert not trusted.match("http://10.0.0.5:8081/embed")
    assert not trusted.match("http://10.0.0.55:8080/embed")
    assert not trusted.match("https://10.0.0.5:8080/embed")


def test_an_address_without_scheme_or_host_is_refused_naming_the_option() -> None:
    with pytest.raises(RemoteModelError, match="--url 'serve:8080'"):
        endpoint_regex("serve:8080")


def test_the_pipeline_embeds_the_given_field_with_the_model_then_drops_the_text() -> None:
    pipeline = text_embedding_pipeline("model-7", "text", "vector")
    embed, remove = pipeline["processors"]
    assert embed["text_embedding"]["model_id"] == "model-7"
    assert embed["text_embedding"]["field_map"] == {"text": "vector"}
    assert remove["remove"]["field"] == "text"
