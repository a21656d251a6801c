"""The word-embedding table of the int8 export in int8, with one scale per token row.

The table is most of an encoder's file and none of its compute (e5-small:
250k tokens x 384 = 366 MiB of the int8 graph's 406 in fp32): a batch reads one
row per token. Each row gets its own symmetric scale, max |row| / 127, so every
token keeps 255 levels of its own range (onnxruntime's quantiser would give the
whole table one scale). In the graph, Gather(int8 table, ids) is cast to float
and multiplied by Gather(row scales, ids): two lookups, a cast and a
multiplication per token. Position and token-type tables are short and stay fp32.
Measured against the fp32 table in BENCHMARKS.md ("The int8 export's
word-embedding table").
"""

from __future__ import annotations

from pathlib import Path

MIN_ROWS = 10_000  # a Gather over a table this tall is a vocabulary; position and type tables stay fp32


def quantize_embedding_tables(model_path: Path) -> list[str]:
    """Rewrite in place every Gather over a vocabulary-sized fp32 initializer; returns the tables' names."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    model = onnx.load(str(model_path))
    graph = model.graph
    tables = {init.name: init for init in graph.initializer
              if init.data_type == TensorProto.FLOAT and len(init.dims) == 2 and init.dims[0] >= MIN_ROWS}
    rewritten, added, done = [], [], []
    for node in graph.node:
        table = tables.get(node.input[0]) if node.op_type == "Gather" else None
        if table is None or table.name in done:
            rewritten.append(node)
            continue
        values = numpy_helper.to_array(table)
        scales = np.abs(values).max(axis=1, keepdims=True) / 127.0
        scales[scales == 0] = 1.0
        quantised = np.clip(np.rint(values / scales), -127, 127).astype(np.int8)
        stem = f"{table.name}_int8"
        added += [numpy_helper.from_array(quantised, f"{stem}_rows"),
                  numpy_helper.from_array(scales.astype(np.float32), f"{stem}_scales")]
        ids, output = node.input[1], node.output[0]
        rewritten += [
            helper.make_node("Gather", [f"{stem}_rows", ids], [f"{stem}_picked"], name=f"{node.name}_int8", axis=0),
            helper.make_node("Cast", [f"{stem}_picked"], [f"{stem}_float"], name=f"{node.name}_cast", to=TensorProto.FLOAT),
            helper.make_node("Gather", [f"{stem}_scales", ids], [f"{stem}_scale"], name=f"{node.name}_scale", axis=0),
            helper.make_node("Mul", [f"{stem}_float", f"{stem}_scale"], [output], name=f"{node.name}_dequantize"),
        ]
        done.append(table.name)
    if not done:
        return []
    still_read = {name for node in rewritten for name in node.input}
    kept = [init for init in graph.initializer if init.name not in done or init.name in still_read]
    del graph.node[:]
    graph.node.extend(rewritten)
    del graph.initializer[:]
    graph.initializer.extend([*kept, *added])
    onnx.save(model, str(model_path))
    return done
