"""int8 weight type per CPU: the saturation probe tells the truth, and auto follows it."""

from __future__ import annotations

import numpy as np
import pytest

from lingodex.encoder.export import onnx_export as export_module
from lingodex.encoder.export.onnx_export import ExportSpec
from lingodex.encoder.export.int8_kernels import integer_matmul, signed_weights_saturate


@pytest.fixture()
def large_activations() -> np.ndarray:
    """Large uint8 values, as the outliers of a LayerNorm or GELU output quantise to."""
    return np.random.default_rng(0).integers(200, 256, (16, 384), dtype=np.uint8)


def test_the_probe_says_whether_int8_weights_give_exact_products_on_this_cpu(large_activations) -> None:
    weights = np.random.default_rng(1).integers(100, 128, (384, 32)).astype(np.int8)
    exact = large_activations.astype(np.int64) @ weights.astype(np.int64)

    products_are_exact = np.array_equal(integer_matmul(large_activations, weights), exact)

    assert signed_weights_saturate() is (not products_are_exact)


def test_uint8_weights_give_exact_products_on_this_cpu(large_activations) -> None:
    """What the export falls back to where int8 weights saturate must itself be exact."""
    weights = np.random.default_rng(2).integers(200, 256, (384, 32), dtype=np.uint8)
    exact = large_activations.astype(np.int64) @ weights.astype(np.int64)

    assert np.array_equal(integer_matmul(large_activations, weights), exact)


@pytest.mark.parametrize(("saturates", "expected"), [(True, "u8"), (False, "s8")])
def test_auto_int8_weights_are_uint8_exactly_where_int8_ones_saturate(monkeypatch, saturates, expected) -> None:
    monkeypatch.setattr(export_module, "signed_weights_saturate", lambda: saturates)

    assert ExportSpec("int8").for_this_cpu().int8_weights == expected


def test_an_explicit_int8_weight_type_is_kept_whatever_the_cpu(monkeypatch) -> None:
    monkeypatch.setattr(export_module, "signed_weights_saturate", lambda: True)

    assert ExportSpec("int8", int8_weights="s8").for_this_cpu().int8_weights == "s8"


def test_other_precisions_are_not_given_an_int8_weight_type() -> None:
    assert ExportSpec("fp32").for_this_cpu() == ExportSpec("fp32")
