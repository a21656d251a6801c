"""Int8 for the FFN down-projections with one activation scale per token.

onnxruntime's dynamic quantisation gives an activation tensor one scale for the
whole batch. That serves the MatMuls fed by LayerNorm, but a down-projection
reads the activation function's output, where a few tokens carry values many
times larger than the rest: one batch-wide scale leaves ordinary tokens a
handful of levels. On multilingual-e5-small that alone pulled mean cosine to
PyTorch from 0.9991 to 0.9972, under the export's 0.999 bar, so these MatMuls
used to stay fp32 at a third of the int8 speed-up (BENCHMARKS.md, recipes).

Here each token gets its own scale, computed in the graph from its own maximum
m. The activation's output is bounded below (GELU >= -0.17 = -c), so a fixed
uint8 zero point Z covers it: the step s = max(m / (255 - Z), c / Z) puts
every value of the token in [-Z*s, (255 - Z)*s]. A fixed zero point is what
the int8 GEMM takes (onnxruntime refuses one per row), and it subtracts it
inside the GEMM. Quantising costs one reduction and one QuantizeLinear pass
(per-axis, over the tokens), where shifting, scaling and casting by hand took
four passes (BENCHMARKS.md, recipes). The GEMM is onnxruntime's
MatMulIntegerToFloat, which applies the weight's column scales while it
writes its float output; the token's step is one multiplication after it.
Written as MatMulInteger, Cast and two multiplications, the same arithmetic
took two more passes over the output (2.6 % fewer titles/s in an in-process
A/B, BENCHMARKS.md).

Z = 32 spends an eighth of the levels below zero: tokens whose maximum passes
c * (255 - Z) / Z (1.2 for GELU) keep 223 levels, quieter ones a step of at
most c / Z (0.0053). An activation bounded at zero (ReLU) takes Z = 0.

Weights are symmetric, one scale per output column (what the dynamic
quantiser does for the other MatMuls): int8, or uint8 around a zero point of
128 where this CPU's int8 GEMM saturates with int8 weights
(encoder/export/int8_kernels.py). MatMulIntegerToFloat is a contrib
operator (domain com.microsoft) of onnxruntime's CPU provider, as the
quantised graph's other fused operators are; ml-commons' onnxruntime 1.16.3
runs the graph too (checked in bench/ingest.py's vector comparison).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from lingodex.encoder.errors import EncoderError

if TYPE_CHECKING:  # onnx is imported when a graph is rewritten
    import onnx

# Lower bound of each activation's output, rounded away from zero. Activations
# not listed have no down-projection recipe; the export then says so.
ACTIVATION_FLOOR = {
    "gelu": 0.17, "gelu_new": 0.17, "gelu_fast": 0.17, "gelu_pytorch_tanh": 0.17,
    "relu": 0.0, "silu": 0.2785, "swish": 0.2785,
}


ZERO_POINT = 32  # uint8 levels below zero for an activation with a negative floor
UNSIGNED_WEIGHT_ZERO_POINT = 128  # the same 255 levels as int8's -127..127, shifted
CONTRIB_DOMAIN = "com.microsoft"


class UnsupportedActivation(EncoderError, ValueError):
    """The model's activation has no known lower bound, so no fixed zero point can cover it."""


def activation_floor(hidden_act: str) -> float:
    try:
        return ACTIVATION_FLOOR[hidden_act]
    except KeyError:
        raise UnsupportedActivation(
            f"per-token int8 needs a lower bound for activation {hidden_act!r}; known: "
            f"{', '.join(sorted(ACTIVATION_FLOOR))}") from None


def quantize_per_token(model_path: Path, matmul_names: list[str], floor: float, *,
                       unsigned_weights: bool = False) -> None:
    """Rewrite the named fp32 MatMuls (activation @ weight initializer) in place."""
    import onnx

    model = onnx.load(str(model_path), load_external_data=False)
    external = any(init.data_location == onnx.TensorProto.EXTERNAL for init in model.graph.initializer)
    if external:
        onnx.load_external_data_for_model(model, str(model_path.parent))
    graph = model.graph
    weights = {init.name: init for init in graph.initializer}
    opset = next(entry.version for entry in model.opset_import if entry.domain in ("", "ai.onnx"))
    wanted = set(matmul_names)
    rewritten: list = []
    replaced_weights: set[str] = set()
    constants = _shared_constants(floor, unsigned_weights)
    for node in graph.node:
        if node.name not in wanted:
            rewritten.append(node)
            continue
        wanted.discard(node.name)
        activation, weight_name = node.input
        if weight_name not in weights:
            raise ValueError(f"{node.name}: second input {weight_name!r} is not a weight initializer")
        nodes, initializers = _per_token_matmul(node.name, activation, weights[weight_name], node.output[0], opset,
                                                unsigned_weights)
        rewritten += nodes
        constants += initializers
        replaced_weights.add(weight_name)
    if wanted:
        raise ValueError(f"MatMul nodes not found: {sorted(wanted)}")
    del graph.node[:]
    graph.node.extend(rewritten)
    graph.initializer.extend(constants)
    if not any(entry.domain == CONTRIB_DOMAIN for entry in model.opset_import):
        model.opset_import.append(onnx.helper.make_opsetid(CONTRIB_DOMAIN, 1))
    still_read = {name for node in graph.node for name in node.input}
    kept = [init for init in graph.initializer if init.name not in replaced_weights - still_read]
    del graph.initializer[:]
    graph.initializer.extend(kept)
    if external:  # models over protobuf's 2 GB (e5-large, bge-m3) keep their weights beside the graph
        onnx.save(model, str(model_path), save_as_external_data=True, location=f"{model_path.name}.data")
    else:
        onnx.checker.check_model(model)
        onnx.save(model, str(model_path))


def _shared_constants(floor: float, unsigned_weights: bool) -> list:
    """The zero points, the levels above the activation's, and the smallest step (c / Z; a tiny one keeps an all-zero token finite)."""
    from onnx import numpy_helper

    zero_point = ZERO_POINT if floor > 0 else 0
    values = {"pt_zero_point": np.uint8(zero_point), "pt_levels_above": np.float32(255 - zero_point),
              "pt_min_step": np.float32(floor / zero_point if zero_point else 1e-12),
              "pt_unit_scale": np.float32(1.0),  # the GEMM's activation scale: each token's step comes after
              "pt_last_axis": np.array([-1], dtype=np.int64)}
    if unsigned_weights:
        values["pt_weight_zero_point"] = np.uint8(UNSIGNED_WEIGHT_ZERO_POINT)
    return [numpy_helper.from_array(np.asarray(value), name) for name, value in values.items()]


def _per_token_matmul(name: str, x: str, weight: onnx.TensorProto, output: str, opset: int,
                      unsigned_weights: bool) -> tuple[list[onnx.NodeProto], list[onnx.TensorProto]]:
    from onnx import helper, numpy_helper

    w = numpy_helper.to_array(weight).astype(np.float32)
    w_scale = np.abs(w).max(axis=0) / 127.0
    w_scale[w_scale == 0] = 1.0
    w_q = np.clip(np.round(w / w_scale), -127, 127)
    w_q = (w_q + UNSIGNED_WEIGHT_ZERO_POINT).astype(np.uint8) if unsigned_weights else w_q.astype(np.int8)
    gemm_zero_points = ["pt_zero_point", "pt_weight_zero_point"] if unsigned_weights else ["pt_zero_point"]
    p = f"{name}_pt"
    initializers = [numpy_helper.from_array(w_q, f"{p}_w"), numpy_helper.from_array(w_scale.astype(np.float32), f"{p}_w_scale"),
                    numpy_helper.from_array(np.array([-1, w.shape[0]], dtype=np.int64), f"{p}_token_rows")]
    reduce_max = (helper.make_node("ReduceMax", [x, "pt_last_axis"], [f"{p}_max"], keepdims=1) if opset >= 18
                  else helper.make_node("ReduceMax", [x], [f"{p}_max"], keepdims=1, axes=[-1]))
    nodes = [
        reduce_max,                                                                   # per-token maximum
        helper.make_node("Div", [f"{p}_max", "pt_levels_above"], [f"{p}_fit"]),
        helper.make_node("Max", [f"{p}_fit", "pt_min_step"], [f"{p}_step"]),         # [..., 1]: the floor stays in range
        # QuantizeLinear's per-axis scale runs along one axis, so the tokens are laid out as rows of a matrix
        helper.make_node("Reshape", [x, f"{p}_token_rows"], [f"{p}_rows"]),
        helper.make_node("Reshape", [f"{p}_step", "pt_last_axis"], [f"{p}_row_step"]),
        helper.make_node("Shape", [f"{p}_row_step"], [f"{p}_row_count"]),
        helper.make_node("Expand", ["pt_zero_point", f"{p}_row_count"], [f"{p}_row_zero_point"]),
        helper.make_node("QuantizeLinear", [f"{p}_rows", f"{p}_row_step", f"{p}_row_zero_point"], [f"{p}_q_rows"], axis=0),
        helper.make_node("Shape", [x], [f"{p}_x_shape"]),
        helper.make_node("Reshape", [f"{p}_q_rows", f"{p}_x_shape"], [f"{p}_q"]),
        helper.make_node("MatMulIntegerToFloat", [f"{p}_q", f"{p}_w", "pt_unit_scale", f"{p}_w_scale", *gemm_zero_points],
                         [f"{p}_per_step"], name=f"{name}_per_token", domain=CONTRIB_DOMAIN),
        helper.make_node("Mul", [f"{p}_per_step", f"{p}_step"], [output]),
    ]
    return nodes, initializers
