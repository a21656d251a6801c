"""Append pooling and L2 normalisation to an exported encoder graph.

Pooling inside the graph means one [batch, dimension] float32 tensor leaves the
device instead of [batch, tokens, hidden] hidden states: less to copy, and the
GPU does the reduction.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HIDDEN = "last_hidden_state"
OUTPUT = "sentence_embedding"


def add_pooling(model_path: Path, pooling: str, normalize: bool) -> None:
    """Rewrite ``model_path`` in place so its only output is the pooled sentence embedding."""
    model = onnx.load(str(model_path), load_external_data=False)
    graph = model.graph
    hidden = next(output for output in graph.output if output.name == HIDDEN)
    nodes, inits = [], []
    hidden_f32 = "lingodex_hidden_f32"
    nodes.append(helper.make_node("Cast", [HIDDEN], [hidden_f32], to=TensorProto.FLOAT))
    pooled = "lingodex_pooled"
    if pooling == "mean":
        inits += [numpy_helper.from_array(np.array([-1], dtype=np.int64), "lingodex_axis_last"),
                  numpy_helper.from_array(np.array([1], dtype=np.int64), "lingodex_axis_tokens"),
                  numpy_helper.from_array(np.array(1e-9, dtype=np.float32), "lingodex_eps")]
        nodes += [
            helper.make_node("Unsqueeze", ["attention_mask", "lingodex_axis_last"], ["lingodex_mask3"]),
            helper.make_node("Cast", ["lingodex_mask3"], ["lingodex_mask_f"], to=TensorProto.FLOAT),
            helper.make_node("Mul", [hidden_f32, "lingodex_mask_f"], ["lingodex_masked"]),
            helper.make_node("ReduceSum", ["lingodex_masked", "lingodex_axis_tokens"], ["lingodex_sum"], keepdims=0),
            helper.make_node("ReduceSum", ["lingodex_mask_f", "lingodex_axis_tokens"], ["lingodex_count"], keepdims=0),
            helper.make_node("Max", ["lingodex_count", "lingodex_eps"], ["lingodex_count_safe"]),
            helper.make_node("Div", ["lingodex_sum", "lingodex_count_safe"], [pooled]),
        ]
    elif pooling == "cls":
        inits.append(numpy_helper.from_array(np.array(0, dtype=np.int64), "lingodex_first"))
        nodes.append(helper.make_node("Gather", [hidden_f32, "lingodex_first"], [pooled], axis=1))
    else:
        raise ValueError(f"unknown pooling {pooling!r}")
    final = OUTPUT
    if normalize:
        nodes.append(helper.make_node("LpNormalization", [pooled], [OUTPUT], axis=-1, p=2))
    else:
        nodes.append(helper.make_node("Identity", [pooled], [final]))
    graph.node.extend(nodes)
    graph.initializer.extend(inits)
    dims = [hidden.type.tensor_type.shape.dim[0], hidden.type.tensor_type.shape.dim[2]]
    embedding = helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, [d.dim_param or d.dim_value for d in dims])
    del graph.output[:]
    graph.output.append(embedding)
    onnx.save(model, str(model_path))
