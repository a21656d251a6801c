"""Whether onnxruntime's int8 GEMM on this CPU is exact with signed int8 weights.

onnxruntime multiplies uint8 activations by int8 weights. On x86 CPUs with
VNNI (vpdpbusd, as on the Xeon of BENCHMARKS.md) each product is summed into
32 bits. On x86 without VNNI (AVX2 only, as on AMD Zen 2/3 and many Intel
CPUs before 2021, or AVX-512 without VNNI) the kernel uses vpmaddubsw, which adds
each pair of products into a saturating 16-bit integer: 2 x 255 x 127
overflows it, and large activations meeting large weights are clipped. On
multilingual-e5-small that pulled the int8 export's mean cosine to PyTorch
from 0.99905 to 0.99769 on a Zen 3, under the export's 0.999 bar
(BENCHMARKS.md). onnxruntime's kernel for uint8 weights widens both operands
to 16 bits before multiplying and never saturates, at some speed (0.85x on
that Zen 3); it is the one to use there.

The kernel itself is asked, not the CPU flags: one product at the extremes,
which a saturating kernel gets wrong by more than half.
"""

from __future__ import annotations

from functools import cache

import numpy as np

_DEPTH = 64  # long enough for the kernel's vector loop, not only its tail


@cache
def signed_weights_saturate() -> bool:
    """True when this CPU's uint8 x int8 GEMM clips 255 x 127 products (no VNNI)."""
    activations = np.full((1, _DEPTH), 255, dtype=np.uint8)
    weights = np.full((_DEPTH, 1), 127, dtype=np.int8)
    return int(integer_matmul(activations, weights)[0, 0]) != _DEPTH * 255 * 127


def integer_matmul(activations: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """onnxruntime's MatMulInteger on this CPU: uint8 activations by int8 or uint8 weights, no zero points."""
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    graph = helper.make_graph(
        [helper.make_node("MatMulInteger", ["a", "w"], ["y"])], "integer_matmul",
        [helper.make_tensor_value_info("a", TensorProto.UINT8, list(activations.shape))],
        [helper.make_tensor_value_info("y", TensorProto.INT32, [activations.shape[0], weights.shape[1]])],
        [numpy_helper.from_array(weights, "w")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"a": activations})[0]
