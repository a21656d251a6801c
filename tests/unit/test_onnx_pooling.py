"""Pooling appended to an encoder graph computes what the profile says."""

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper

from lingodex.encoder.export.onnx_pooling import OUTPUT, add_pooling


def toy_encoder(path: Path) -> None:
    """A graph whose 'hidden states' are its float input, passed through."""
    graph = helper.make_graph(
        [helper.make_node("Identity", ["hidden_in"], ["last_hidden_state"])], "toy",
        [helper.make_tensor_value_info("hidden_in", TensorProto.FLOAT, ["b", "t", 3]),
         helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["b", "t"])],
        [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["b", "t", 3])])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)], ir_version=10), str(path))


HIDDEN = np.array([[[1, 2, 2], [3, 0, 0], [99, 99, 99]]], dtype=np.float32)
MASK = np.array([[1, 1, 0]], dtype=np.int64)


def run(path: Path) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run([OUTPUT], {"hidden_in": HIDDEN, "attention_mask": MASK})[0]


def test_mean_pooling_ignores_padding(tmp_path: Path) -> None:
    toy_encoder(tmp_path / "m.onnx")
    add_pooling(tmp_path / "m.onnx", "mean", normalize=False)
    assert run(tmp_path / "m.onnx").tolist() == [[2.0, 1.0, 1.0]]


def test_cls_pooling_takes_the_first_token_and_normalises(tmp_path: Path) -> None:
    toy_encoder(tmp_path / "m.onnx")
    add_pooling(tmp_path / "m.onnx", "cls", normalize=True)
    assert run(tmp_path / "m.onnx") == pytest.approx(np.array([[1 / 3, 2 / 3, 2 / 3]]), abs=1e-6)
