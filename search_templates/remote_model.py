"""OpenSearch's own neural features on lingodex's encoder: an ml-commons remote model that calls `lingodex serve`.

A team that already writes ``neural`` queries, or lets a ``text_embedding``
ingest processor embed its documents, gets lingodex's encoder without changing
either: the connector (ml_commons/connector.json) posts the texts to
``/embed`` and neural-search's ``content_type`` (query or passage) becomes
TEI's ``prompt_name``, so e5's query and passage prefixes stay apart. The model
is registered *asymmetric* (ml_commons/model.json): that is what makes
neural-search send ``content_type`` at all (neural-search 3.6's
AsymmetricModelDetector reads ``additional_config.is_asymmetric``). ``index`` travels with every call, so the vectors come back centred
with that index's language centroids, exactly as lingodex's dense search and
ingest centre them (ingest/centring.py).

The cluster must be allowed to call the server: its URL goes into
``plugins.ml_commons.trusted_connector_endpoints_regex`` (added to whatever is
there), and a server on a private address needs
``plugins.ml_commons.connector.private_ip_enabled`` (README "OpenSearch's
neural query on lingodex's encoder" says what that opens).
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from ipaddress import ip_address
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from opensearchpy import OpenSearch
from opensearchpy.exceptions import TransportError

from lingodex.search_templates.errors import RemoteModelError

BODIES_DIR = Path(__file__).parent / "ml_commons"
TRUSTED_ENDPOINTS = "plugins.ml_commons.trusted_connector_endpoints_regex"
PRIVATE_IP = "plugins.ml_commons.connector.private_ip_enabled"
ML = "/_plugins/_ml"


@dataclass(frozen=True)
class RemoteModel:
    model_id: str
    connector_id: str
    endpoint: str
    index: str


def body(name: str) -> dict[str, Any]:
    """One of the shipped ml-commons bodies (connector, model, text_embedding_pipeline), as users can read it."""
    return json.loads((BODIES_DIR / f"{name}.json").read_text(encoding="utf-8"))


def connector_body(endpoint: str, index: str, *, token: str | None = None, name: str | None = None) -> dict[str, Any]:
    """The connector for a server at ``endpoint`` centring for ``index``; with ``token``, a bearer credential.

    ml-commons stores the credential encrypted and fills ``${credential.token}``
    only when it calls the server: the token never sits in the connector in clear.
    """
    connector = body("connector")
    connector["parameters"].update(endpoint=endpoint.rstrip("/"), index=index)
    if name:
        connector["name"] = name
    connector["credential"] = {"token": token or "unused"}  # ml-commons refuses a connector without one
    if token:
        for action in connector["actions"]:
            action["headers"]["Authorization"] = "Bearer ${credential.token}"
    return connector


def model_body(connector_id: str, dimension: int, *, name: str | None = None) -> dict[str, Any]:
    model = body("model")
    model.update(connector_id=connector_id, **({"name": name} if name else {}))
    model["model_config"]["embedding_dimension"] = dimension
    return model


def text_embedding_pipeline(model_id: str, source_field: str = "embedding_text",
                            target_field: str = "embedding") -> dict[str, Any]:
    """An ingest pipeline whose ``text_embedding`` processor embeds ``source_field`` into ``target_field``, then
    drops ``source_field`` (lingodex's mapping is strict: the text is already in the title fields)."""
    pipeline = body("text_embedding_pipeline")
    embed, remove = pipeline["processors"]
    embed["text_embedding"].update(model_id=model_id, field_map={source_field: target_field})
    remove["remove"]["field"] = source_field
    return pipeline


def endpoint_regex(endpoint: str) -> str:
    """Trust exactly this server's origin: scheme, host and port, any path under it."""
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RemoteModelError(f"--url {endpoint!r}: give the server's address, e.g. http://10.0.0.5:8080")
    return "^" + re.escape(f"{parts.scheme}://{parts.netloc}") + "(/.*)?$"


def allow_endpoint(client: OpenSearch, endpoint: str) -> dict[str, Any]:
    """Add the server's origin to the trusted connector endpoints (keeping the cluster's own) and, for a private
    address, enable private IPs. Returns the persistent settings it set."""
    current = client.cluster.get_settings(include_defaults=True, flat_settings=True)
    trusted: list[str] = []
    for scope in ("defaults", "persistent", "transient"):  # the later scope wins, as the cluster resolves it
        trusted = current.get(scope, {}).get(TRUSTED_ENDPOINTS, trusted)
    wanted = endpoint_regex(endpoint)
    changes: dict[str, Any] = {}
    if wanted not in trusted:
        changes[TRUSTED_ENDPOINTS] = [*trusted, wanted]
    if _is_private(urlsplit(endpoint).hostname or ""):
        changes[PRIVATE_IP] = True
    if changes:
        client.cluster.put_settings(body={"persistent": changes})
    return changes


def _is_private(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        address = ip_address(host)
    except ValueError:
        return False  # a name: ml-commons resolves it when it calls, and refuses a private answer unless enabled
    return address.is_private or address.is_loopback


def register(client: OpenSearch, endpoint: str, index: str, *, token: str | None = None,
             name: str | None = None, timeout_s: float = 120) -> RemoteModel:
    """Create the connector, register the remote model and deploy it; returns once the cluster has called the
    server for a vector, so a server it cannot reach fails here, not in the first search (and leaves nothing)."""
    dimension = vector_dimension(client, index)
    allow_endpoint(client, endpoint)
    connector_id = _request(client, "POST", f"{ML}/connectors/_create",
                            connector_body(endpoint, index, token=token, name=name))["connector_id"]
    model = RemoteModel("", connector_id, endpoint, index)
    try:
        registered = _request(client, "POST", f"{ML}/models/_register",
                              model_body(connector_id, dimension, name=name), params={"deploy": "true"})
        model_id = registered.get("model_id") or _finished_task(client, registered["task_id"], timeout_s)["model_id"]
        model = RemoteModel(model_id, connector_id, endpoint, index)
        _wait_deployed(client, model_id, timeout_s)
        _check_answers(client, model, dimension)
    except BaseException:
        delete(client, model)
        raise
    return model


def _check_answers(client: OpenSearch, model: RemoteModel, dimension: int) -> None:
    try:
        probe = predict(client, model.model_id, ["lingodex"], "query")
    except TransportError as error:
        raise RemoteModelError(f"the cluster could not get a vector from {model.endpoint}/embed ({_reason(error)}): "
                               "is `lingodex serve` running, reachable from the cluster's nodes, and is serve.token "
                               "the same here and there?") from None
    if len(probe[0]) != dimension:
        raise RemoteModelError(f"{model.endpoint} returns {len(probe[0])}-dimensional vectors, but {model.index}'s "
                               f"embedding field has {dimension}: serve the model that index was built with")


def vector_dimension(client: OpenSearch, index: str) -> int:
    """The dimension of ``index``'s ``embedding`` field (an alias resolves to the version it serves)."""
    mappings = client.indices.get_mapping(index=index)
    for mapping in mappings.values():
        embedding = mapping["mappings"].get("properties", {}).get("embedding", {})
        if "dimension" in embedding:
            return int(embedding["dimension"])
    raise RemoteModelError(f"{index} has no knn_vector field `embedding`: register the model for a lingodex index")


def predict(client: OpenSearch, model_id: str, texts: list[str], content_type: str) -> list[list[float]]:
    """The model's vectors for ``texts`` as neural-search asks for them (content_type: query or passage)."""
    response = _request(client, "POST", f"{ML}/models/{model_id}/_predict",
                        {"parameters": {"texts": json.dumps(texts), "content_type": content_type}})
    return [output["data"] for result in response["inference_results"] for output in result["output"]]


def _reason(error: TransportError) -> str:
    info = error.info if isinstance(error.info, dict) else {}
    return str(info.get("error", {}).get("reason", info) or error)


def delete(client: OpenSearch, model: RemoteModel) -> None:
    """Undeploy and delete the model (if it got one), then its connector."""
    if model.model_id:
        _request(client, "POST", f"{ML}/models/{model.model_id}/_undeploy")
        _request(client, "DELETE", f"{ML}/models/{model.model_id}")
    _request(client, "DELETE", f"{ML}/connectors/{model.connector_id}")


def _request(client: OpenSearch, method: str, path: str, payload: dict[str, Any] | None = None,
             params: dict[str, str] | None = None) -> dict[str, Any]:
    return client.transport.perform_request(method, path, body=payload, params=params)


def _finished_task(client: OpenSearch, task_id: str, timeout_s: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        task = _request(client, "GET", f"{ML}/tasks/{task_id}")
        if task["state"] == "COMPLETED":
            return task
        if task["state"] in ("FAILED", "COMPLETED_WITH_ERROR", "CANCELLED"):
            raise RemoteModelError(f"ml-commons task {task_id} {task['state']}: {task.get('error')}")
        if time.monotonic() > deadline:
            raise RemoteModelError(f"ml-commons task {task_id} still {task['state']} after {timeout_s:.0f}s")
        time.sleep(0.5)


def _wait_deployed(client: OpenSearch, model_id: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while (state := _request(client, "GET", f"{ML}/models/{model_id}").get("model_state")) != "DEPLOYED":
        if state == "DEPLOY_FAILED" or time.monotonic() > deadline:
            raise RemoteModelError(f"ml-commons model {model_id} is {state}, not DEPLOYED, after {timeout_s:.0f}s")
        time.sleep(0.5)
