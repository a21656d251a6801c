"""Attention skips its padding mask only on batches without padding, with the same result either way."""

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from lingodex.encoder.export.unpadded_attention import guard_padding_masks

HIDDEN, HEADS = 8, 2


@pytest.fixture
def attention_graph(tmp_path: Path) -> Path:
    """hidden → Q, K, V projections → MultiHeadAttention(mask from attention_mask), as the fused export has it."""
    rng = np.random.default_rng(0)
    weights = [numpy_helper.from_array(rng.normal(size=(HIDDEN, HIDDEN)).astype(np.float32), name) for name in "qkv"]
    bias = numpy_helper.from_array(rng.normal(size=3 * HIDDEN).astype(np.float32), "bias")
    nodes = [helper.make_node("MatMul", ["hidden", name], [f"{name}_out"]) for name in "qkv"]
    nodes += [helper.make_node("Cast", ["attention_mask"], ["mask_index"], to=TensorProto.INT32),
              helper.make_node("MultiHeadAttention", ["q_out", "k_out", "v_out", "bias", "mask_index"], ["context"],
                               domain="com.microsoft", num_heads=HEADS)]
    graph = helper.make_graph(
        nodes, "attention",
        [helper.make_tensor_value_info("hidden", TensorProto.FLOAT, ["batch", "sequence", HIDDEN]),
         helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "sequence"])],
        [helper.make_tensor_value_info("context", TensorProto.FLOAT, ["batch", "sequence", HIDDEN])],
        [*weights, bias])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)])
    path = tmp_path / "attention.onnx"
    onnx.save(model, str(path))
    return path


def run(path: Path, mask: np.ndarray) -> np.ndarray:
    hidden = np.random.default_rng(1).normal(size=(*mask.shape, HIDDEN)).astype(np.float32)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"hidden": hidden, "attention_mask": mask})[0]


def guarded_copy(path: Path) -> Path:
    copy = path.with_name("guarded.onnx")
    copy.write_bytes(path.read_bytes())
    assert guard_padding_masks(copy) == 1
    return copy


def test_a_padded_batch_gets_the_same_context_as_before(attention_graph: Path) -> None:
    mask = np.array([[1, 1, 1, 1], [1, 1, 0, 0]], dtype=np.int64)
    guarded = guarded_copy(attention_graph)
    np.testing.assert_allclose(run(guarded, mask), run(attention_graph, mask), atol=1e-6)


def test_a_batch_without_padding_gets_the_same_context_without_the_mask(attention_graph: Path) -> None:
    mask = np.ones((3, 5), dtype=np.int64)
    guarded = guarded_copy(attention_graph)
    np.testing.assert_allclose(run(guarded, mask), run(attention_graph, mask), atol=1e-5)


def test_the_unpadded_branch_has_no_mask_and_the_padded_branch_keeps_it(attention_graph: Path) -> None:
    graph = onnx.load(str(guarded_copy(attention_graph))).graph
    (guard,) = [node for node in graph.node if node.op_type == "If"]
    branches = {attribute.name: attribute.g.node[0] for attribute in guard.attribute}
    assert list(branches["then_branch"].input) == ["q_out", "k_out", "v_out", "bias"]
    assert list(branches["else_branch"].input) == ["q_out", "k_out", "v_out", "bias", "mask_index"]
    assert "MultiHeadAttention" not in {node.op_type for node in graph.node}


def test_a_graph_without_masked_attention_is_left_alone(attention_graph: Path) -> None:
    model = onnx.load(str(attention_graph))
    del model.graph.node[-1].input[4]
    onnx.save(model, str(attention_graph))
    before = attention_graph.read_bytes()
    assert guard_padding_masks(attention_graph) == 0
    assert attention_graph.read_bytes() == before
