"""Attention without its padding mask whenever a batch has no padding.

onnxruntime's CPU MultiHeadAttention runs MLAS flash attention only when it is
given no key-padding mask; with one, it runs two small GEMMs and a softmax for
every sequence and head, which on short titles is a quarter of the int8
graph's time (BENCHMARKS.md, encoder). Leaving the mask out is only correct
when no token is padding, so each MultiHeadAttention becomes an If on "the
attention mask is all ones": the operator without its mask then, the original
otherwise. The graph stays correct for any client that pads (ml-commons
included); the CPU encoder cuts its batches at every length change
(encoder/runtime/batching.py) so that all of its batches take the fast branch.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # onnx is imported when a graph is rewritten
    import onnx

import numpy as np

MASK_INPUT = 4  # MultiHeadAttention's key_padding_mask
UNPADDED = "lingodex_unpadded"


def guard_padding_masks(model_path: Path) -> int:
    """Rewrite the graph in place; returns how many attention operators now skip their mask on unpadded batches."""
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(model_path))
    graph = model.graph
    nodes, guarded = [], 0
    for node in graph.node:
        if node.op_type == "MultiHeadAttention" and len(node.input) > MASK_INPUT and node.input[MASK_INPUT]:
            nodes.append(helper.make_node(
                "If", [UNPADDED], list(node.output[:1]), name=f"{node.name}_if_unpadded",
                then_branch=_branch(node, "unpadded", list(node.input[:MASK_INPUT])),
                else_branch=_branch(node, "padded", list(node.input))))
            guarded += 1
        else:
            nodes.append(node)
    if not guarded:
        return 0
    graph.initializer.append(numpy_helper.from_array(np.array(1, dtype=np.int64), "lingodex_one"))
    condition = [helper.make_node("ReduceMin", ["attention_mask"], ["lingodex_mask_min"], keepdims=0),
                 helper.make_node("Equal", ["lingodex_mask_min", "lingodex_one"], [UNPADDED])]
    del graph.node[:]
    graph.node.extend(condition + nodes)
    onnx.save(model, str(model_path))
    return guarded


def _branch(node: onnx.NodeProto, tag: str, inputs: list[str]) -> onnx.GraphProto:
    """A one-operator subgraph: the attention node on ``inputs``, read from the enclosing graph."""
    from onnx import TensorProto, helper

    output = f"{node.output[0]}_{tag}"
    attention = helper.make_node(node.op_type, inputs, [output], name=f"{node.name}_{tag}", domain=node.domain)
    attention.attribute.extend(node.attribute)
    return helper.make_graph([attention], f"{node.name}_{tag}", [],
                             [helper.make_tensor_value_info(output, TensorProto.FLOAT, None)])
