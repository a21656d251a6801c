"""Per-token int8 down-projections: within a step of fp32, independent tokens, refusal of unknown activations."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from lingodex.encoder.export.int8_kernels import signed_weights_saturate
from lingodex.encoder.export.per_token_int8 import ZERO_POINT, UnsupportedActivation, activation_floor, quantize_per_token

HIDDEN, INTERMEDIATE = 8, 32
GELU_FLOOR = activation_floor("gelu")


def gelu(x: np.ndarray) -> np.ndarray:
    from math import erf, sqrt

    return (x * 0.5 * (1 + np.vectorize(erf)(x / sqrt(2)))).astype(np.float32)


def down_projection_graph(path: Path, weight: np.ndarray, opset: int = 18) -> None:
    """x [batch, tokens, intermediate] @ W [intermediate, hidden] + bias, as an export has it."""
    bias = np.linspace(-1, 1, HIDDEN).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "W"], ["mm"], name="down"), helper.make_node("Add", ["mm", "b"], ["y"])],
        "down_projection",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "tokens", INTERMEDIATE])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", "tokens", HIDDEN])],
        [numpy_helper.from_array(weight, "W"), numpy_helper.from_array(bias, "b")])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)]), str(path))


def quantise(path: Path, names: list[str], floor: float, *, unsigned_weights: bool | None = None) -> None:
    """As the export does: uint8 weights where this CPU's int8 GEMM would saturate with int8 ones."""
    unsigned = signed_weights_saturate() if unsigned_weights is None else unsigned_weights
    quantize_per_token(path, names, floor, unsigned_weights=unsigned)


def run(path: Path, x: np.ndarray) -> np.ndarray:
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]


@pytest.fixture()
def weight() -> np.ndarray:
    return np.random.default_rng(0).normal(0, 0.1, (INTERMEDIATE, HIDDEN)).astype(np.float32)


@pytest.mark.parametrize(("opset", "unsigned_weights"), [(13, None), (18, None), (18, True)],
                         ids=["opset13-this-cpu", "opset18-this-cpu", "opset18-uint8-weights"])
def test_rewritten_down_projection_matches_fp32_within_one_quantisation_step(tmp_path, weight, opset,
                                                                             unsigned_weights) -> None:
    fp32, quantised = tmp_path / "fp32.onnx", tmp_path / "int8.onnx"
    down_projection_graph(fp32, weight, opset)
    down_projection_graph(quantised, weight, opset)
    quantise(quantised, ["down"], GELU_FLOOR, unsigned_weights=unsigned_weights)
    x = gelu(np.random.default_rng(1).normal(0, 1.5, (2, 5, INTERMEDIATE)).astype(np.float32))

    reference, result = run(fp32, x), run(quantised, x)

    ops = {node.op_type for node in onnx.load(str(quantised)).graph.node}
    assert "MatMulIntegerToFloat" in ops and "MatMul" not in ops
    step = np.maximum(x.max(axis=-1, keepdims=True) / (255 - ZERO_POINT), GELU_FLOOR / ZERO_POINT)  # each token's
    bound = INTERMEDIATE * (step * np.abs(weight).max() + x.max() * np.abs(weight).max() / 127)
    assert np.all(np.abs(result - reference) <= bound)
    assert np.abs(result - reference).mean() < 0.01 * np.abs(reference).mean()


def test_a_token_with_huge_activations_does_not_coarsen_its_neighbours(tmp_path, weight) -> None:
    """The reason for the recipe: with one scale per batch, the quiet token would get a few levels."""
    fp32, quantised = tmp_path / "fp32.onnx", tmp_path / "int8.onnx"
    down_projection_graph(fp32, weight)
    down_projection_graph(quantised, weight)
    quantise(quantised, ["down"], GELU_FLOOR)
    quiet = gelu(np.random.default_rng(2).normal(0, 0.5, INTERMEDIATE).astype(np.float32))
    alone = quiet[None, None, :]
    beside_a_loud_token = np.stack([quiet, quiet * 400])[None]

    assert np.allclose(run(quantised, beside_a_loud_token)[0, 0], run(quantised, alone)[0, 0])
    assert np.allclose(run(quantised, alone)[0, 0], run(fp32, alone)[0, 0], atol=0.02)


def test_values_at_the_activation_floor_quantise_to_the_floor(tmp_path, weight) -> None:
    fp32, quantised = tmp_path / "fp32.onnx", tmp_path / "int8.onnx"
    down_projection_graph(fp32, weight)
    down_projection_graph(quantised, weight)
    quantise(quantised, ["down"], GELU_FLOOR)
    x = np.full((1, 2, INTERMEDIATE), -0.16997, dtype=np.float32)
    x[0, 1, 0] = 3.0

    assert np.allclose(run(quantised, x), run(fp32, x), atol=0.02)


def test_an_activation_bounded_at_zero_uses_every_level_above_it(tmp_path, weight) -> None:
    fp32, quantised = tmp_path / "fp32.onnx", tmp_path / "int8.onnx"
    down_projection_graph(fp32, weight)
    down_projection_graph(quantised, weight)
    quantise(quantised, ["down"], activation_floor("relu"))
    x = np.maximum(np.random.default_rng(3).normal(0, 1.5, (2, 5, INTERMEDIATE)), 0).astype(np.float32)
    x[1, 4] = 0.0  # a token with nothing above zero must not divide by a zero step

    reference, result = run(fp32, x), run(quantised, x)

    step = x.max(axis=-1, keepdims=True) / 255
    assert np.all(np.isfinite(result))
    assert np.all(np.abs(result - reference) <= INTERMEDIATE * (step + x.max() / 127) * np.abs(weight).max())


def test_the_replaced_fp32_weight_is_not_kept_in_the_file(tmp_path, weight) -> None:
    path = tmp_path / "int8.onnx"
    down_projection_graph(path, weight)
    quantise(path, ["down"], GELU_FLOOR)

    names = {init.name for init in onnx.load(str(path)).graph.initializer}
    assert "W" not in names and "b" in names


def test_a_missing_node_name_is_an_error(tmp_path, weight) -> None:
    path = tmp_path / "int8.onnx"
    down_projection_graph(path, weight)

    with pytest.raises(ValueError, match="not found.*nope"):
        quantise(path, ["down", "nope"], GELU_FLOOR)


def test_an_activation_without_a_known_floor_is_refused_by_name() -> None:
    with pytest.raises(UnsupportedActivation, match="'mish'"):
        activation_floor("mish")


def test_an_export_of_an_unknown_activation_keeps_its_down_projections_fp32() -> None:
    from lingodex.encoder.export.int8_recipe import activation_floor_of

    assert activation_floor_of({"hidden_act": "mish"}) is None
