"""The int8 export's word-embedding table: int8 rows with their own scales, within half a step of fp32."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

from lingodex.encoder.export.int8_embedding_table import MIN_ROWS, quantize_embedding_tables

WIDTH = 8


def lookup_graph(path: Path, words: np.ndarray, positions: np.ndarray) -> None:
    """ids -> word rows + position rows, as an encoder's embedding layer begins."""
    graph = helper.make_graph(
        [helper.make_node("Gather", ["words", "ids"], ["w"], name="word_lookup", axis=0),
         helper.make_node("Gather", ["positions", "pos"], ["p"], name="position_lookup", axis=0),
         helper.make_node("Add", ["w", "p"], ["y"])],
        "embeddings",
        [helper.make_tensor_value_info("ids", TensorProto.INT64, ["batch", "tokens"]),
         helper.make_tensor_value_info("pos", TensorProto.INT64, ["batch", "tokens"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", "tokens", WIDTH])],
        [numpy_helper.from_array(words, "words"), numpy_helper.from_array(positions, "positions")])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)]), str(path))


def run(path: Path, ids: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"ids": ids, "pos": np.zeros_like(ids)})[0]


def tables() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    # rows of very different ranges: one scale for the whole table would flatten the small ones to zero
    words = (rng.normal(0, 1, (MIN_ROWS, WIDTH)) * rng.choice([1e-3, 1.0, 50.0], (MIN_ROWS, 1))).astype(np.float32)
    words[7] = 0.0  # an all-zero row must not divide by zero
    return words, rng.normal(0, 1, (16, WIDTH)).astype(np.float32)


def test_every_looked_up_row_is_within_half_a_step_of_its_own_range(tmp_path: Path) -> None:
    words, positions = tables()
    fp32, int8 = tmp_path / "fp32.onnx", tmp_path / "int8.onnx"
    lookup_graph(fp32, words, positions)
    lookup_graph(int8, words, positions)
    assert quantize_embedding_tables(int8) == ["words"]
    ids = np.arange(MIN_ROWS, dtype=np.int64).reshape(100, -1)
    error = np.abs(run(int8, ids) - run(fp32, ids)).reshape(MIN_ROWS, WIDTH)
    step = np.abs(words).max(axis=1, keepdims=True) / 127
    assert np.all(error <= step / 2 + 1e-6)
    assert np.all(error[7] == 0)


def test_the_vocabulary_is_stored_in_int8_and_short_tables_stay_fp32(tmp_path: Path) -> None:
    words, positions = tables()
    path = tmp_path / "model.onnx"
    lookup_graph(path, words, positions)
    before = path.stat().st_size
    quantize_embedding_tables(path)
    stored = {init.name: init.data_type for init in onnx.load(str(path)).graph.initializer}
    assert stored == {"positions": TensorProto.FLOAT, "words_int8_rows": TensorProto.INT8,
                      "words_int8_scales": TensorProto.FLOAT}
    assert path.stat().st_size < before * 0.4  # 1 byte a value plus a scale per row, against 4 bytes


def test_a_graph_without_a_vocabulary_table_is_left_as_it_was(tmp_path: Path) -> None:
    _, positions = tables()
    path = tmp_path / "model.onnx"
    lookup_graph(path, positions[:4].repeat(4, axis=0), positions)
    written = path.read_bytes()
    assert quantize_embedding_tables(path) == []
    assert path.read_bytes() == written
