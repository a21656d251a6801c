"""OpenSearch embedding documents itself: our ONNX model in ml-commons behind a `text_embedding` ingest pipeline.

bench/ingest.py uses this as the baseline a team would otherwise run. The model
is the very graph lingodex's workers run (same export, same int8 weights, same
tokenizer.json), cut back to its `last_hidden_state` output because ml-commons
pools and normalises itself (`pooling_mode: mean`, `normalize_result: true`).

Needs ml-commons' natives in place offline: `deploy/local/opensearch.sh ml-natives`.
The cluster settings below let a single data node register a model from a file
and run it; they are what OpenSearch's own local-model tutorial sets.
"""

from __future__ import annotations

import hashlib
import json
import time
import zipfile
from pathlib import Path
from typing import Any

from opensearchpy import OpenSearch

CHUNK_BYTES = 9 * 1024 * 1024  # upload_chunk refuses chunks over 10 MB
CLUSTER_SETTINGS = {
    "plugins.ml_commons.allow_registering_model_via_local_file": True,
    "plugins.ml_commons.only_run_on_ml_node": False,
    "plugins.ml_commons.native_memory_threshold": 100,
    "plugins.ml_commons.jvm_heap_memory_threshold": 100,
    "plugins.ml_commons.model_access_control_enabled": False,
}
TEXT_FIELD = "lingodex_embedding_text"  # the same "passage: brand title" text our workers embed


def model_zip(export_dir: Path, target: Path) -> Path:
    """The export's graph without our pooling head, zipped with its tokenizer as ml-commons expects."""
    import onnx
    from onnx import TensorProto, helper

    model = onnx.load(str(export_dir / "model.onnx"))
    graph = model.graph
    kept, reached = [], {"last_hidden_state"}  # drop the pooling head: every node downstream of the hidden states...
    for node in graph.node:  # (nodes are stored in topological order)
        if reached.intersection(node.input):
            reached.update(node.output)
        else:
            kept.append(node)
    needed = {"last_hidden_state"}  # ...and what then feeds nothing (the mask's share of mean pooling)
    for node in reversed(kept):
        if needed.intersection(node.output):
            needed.update(_inputs_with_subgraphs(node))
    kept = [node for node in kept if needed.intersection(node.output)]
    del graph.node[:]
    graph.node.extend(kept)
    unused = [init for init in graph.initializer if init.name not in needed]
    for init in unused:
        graph.initializer.remove(init)
    width = json.loads((export_dir / "config.json").read_text())["hidden_size"]
    del graph.output[:]
    graph.output.append(helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch", "sequence", width]))
    hidden = target.with_suffix(".onnx")
    onnx.save(model, str(hidden))
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.write(hidden, "model.onnx")
        archive.write(export_dir / "tokenizer.json", "tokenizer.json")
    hidden.unlink()
    return target


def _inputs_with_subgraphs(node) -> set[str]:  # noqa: ANN001 - onnx NodeProto
    """What a node reads, including what its If branches read from the enclosing graph."""
    names = set(node.input)
    for attribute in node.attribute:
        if attribute.g.node:
            names.update(name for inner in attribute.g.node for name in _inputs_with_subgraphs(inner))
    return names


def register_model(client: OpenSearch, archive: Path, *, name: str, dimension: int, max_length: int) -> str:
    """Register the zip in chunks (the REST way for a local file) and return the model id."""
    client.cluster.put_settings(body={"persistent": CLUSTER_SETTINGS})
    data = archive.read_bytes()
    chunks = [data[i:i + CHUNK_BYTES] for i in range(0, len(data), CHUNK_BYTES)]
    meta = {
        "name": name, "version": "1.0.0", "model_format": "ONNX", "function_name": "TEXT_EMBEDDING",
        "model_content_size_in_bytes": len(data), "model_content_hash_value": hashlib.sha256(data).hexdigest(),
        "total_chunks": len(chunks),
        "model_config": {"model_type": "bert", "embedding_dimension": dimension,
                         "framework_type": "huggingface_transformers", "pooling_mode": "mean",
                         "normalize_result": True, "model_max_length": max_length},
    }
    model_id = client.transport.perform_request("POST", "/_plugins/_ml/models/_register_meta", body=meta)["model_id"]
    for number, chunk in enumerate(chunks):
        client.transport.perform_request("POST", f"/_plugins/_ml/models/{model_id}/upload_chunk/{number}", body=chunk)
    return model_id


def deploy_model(client: OpenSearch, model_id: str, timeout_s: float = 600) -> None:
    task = client.transport.perform_request("POST", f"/_plugins/_ml/models/{model_id}/_deploy")["task_id"]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        state = client.transport.perform_request("GET", f"/_plugins/_ml/tasks/{task}")
        if state["state"] == "COMPLETED":
            return
        if state["state"] in ("FAILED", "COMPLETED_WITH_ERROR"):
            raise RuntimeError(f"ml-commons could not deploy {model_id}: {state.get('error')}")
        time.sleep(2)
    raise TimeoutError(f"deploying {model_id} took over {timeout_s:.0f}s")


def undeploy_and_delete(client: OpenSearch, model_id: str) -> None:
    client.transport.perform_request("POST", f"/_plugins/_ml/models/{model_id}/_undeploy")
    client.transport.perform_request("DELETE", f"/_plugins/_ml/models/{model_id}")


def create_pipeline(client: OpenSearch, name: str, model_id: str, batch_size: int, *, skip_existing: bool) -> None:
    """text_embedding fills the vector field; the helper text field is removed before indexing.

    ``skip_existing`` makes the processor copy the stored embedding when the
    source field is unchanged (a lookup per document): the setting for re-runs.
    """
    client.ingest.put_pipeline(id=name, body={
        "description": "lingodex benchmark: OpenSearch embeds documents with the same model",
        "processors": [
            {"text_embedding": {"model_id": model_id, "field_map": {TEXT_FIELD: "embedding"},
                                "batch_size": batch_size, "skip_existing": skip_existing}},
            {"remove": {"field": TEXT_FIELD}},
        ],
    })


def bulk_through_pipeline(client: OpenSearch, index: str, pipeline: str, documents: list[dict[str, Any]],
                          batch: int) -> float:
    """Seconds to bulk every document through the pipeline and refresh; a refused document fails the run."""
    start = time.perf_counter()
    for offset in range(0, len(documents), batch):
        actions: list[dict[str, Any]] = []
        for document in documents[offset:offset + batch]:
            actions += [{"index": {"_index": index, "_id": document["id"]}}, document]
        response = client.bulk(body=actions, params={"pipeline": pipeline, "timeout": "5m"}, request_timeout=600)
        if response["errors"]:
            failed = next(item["index"] for item in response["items"] if "error" in item["index"])
            raise RuntimeError(f"OpenSearch refused {failed['_id']}: {failed['error']}")
    client.indices.refresh(index=index)
    return time.perf_counter() - start
