"""The CPU export: which MatMuls become int8, and how, in the one recipe lingodex ships.

Attention is fused first (optimum's optimiser folds each layer's reshapes,
Q.K^T, mask, softmax and probabilities.V into one MultiHeadAttention operator,
the faster int8 graph); its Q/K/V projections stay MatMuls and are quantised
like the rest, while the two activation products inside it stay fp32. Every
weight MatMul gets dynamic int8, per channel, except the FFN down-projections:
they read the activation's output, which one batch-wide scale serves badly,
so they get a scale per token (per_token_int8.py). Each fused attention then
drops its padding mask on batches without padding, for MLAS flash attention
(unpadded_attention.py). The word-embedding table, most of the file, goes to
int8 with a scale per token row (int8_embedding_table.py). The quantiser is onnxruntime's own, told that untyped
tensors (the fused operator's output) are float; optimum's wrapper has no way
to say so.

The steps are public so that bench/experiments/int8_recipes.py can build the
alternatives it measures against this one (BENCHMARKS.md, "Quantisation
recipes"); the product builds only this one.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from lingodex.encoder.export.int8_embedding_table import quantize_embedding_tables
from lingodex.encoder.export.onnx_export import MODEL_FILE, WeightType, copy_tokenizer
from lingodex.encoder.export.per_token_int8 import UnsupportedActivation, activation_floor, quantize_per_token
from lingodex.encoder.export.unpadded_attention import guard_padding_masks

log = logging.getLogger(__name__)


def int8_graph(fp32_dir: Path, out_dir: Path, weights: WeightType) -> Path:
    """``out_dir`` with the int8 graph of the fp32 export in ``fp32_dir`` and its tokenizer."""
    out_dir.mkdir(parents=True, exist_ok=True)
    config = json.loads((fp32_dir / "config.json").read_text())
    floor = activation_floor_of(config)
    source = fuse_attention(fp32_dir, out_dir)
    attention, down = matmul_roles(source, config)
    quantize_weights(source, out_dir / MODEL_FILE, attention + down, weights)
    if source.parent == out_dir:
        source.unlink()
    if floor is not None:  # else the down-projections stay fp32
        quantize_per_token(out_dir / MODEL_FILE, down, floor, unsigned_weights=weights == "u8")
    quantize_embedding_tables(out_dir / MODEL_FILE)
    guard_padding_masks(out_dir / MODEL_FILE)
    copy_tokenizer(fp32_dir, out_dir)
    return out_dir


def quantize_weights(source: Path, target: Path, excluded: list[str], weights: WeightType) -> None:
    """Dynamic int8, per channel, for every MatMul with a constant weight except ``excluded``."""
    from onnx import TensorProto
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(source, target, per_channel=True, weight_type=QuantType.QUInt8 if weights == "u8" else QuantType.QInt8,
                     op_types_to_quantize=["MatMul"], nodes_to_exclude=excluded,
                     extra_options={"MatMulConstBOnly": True, "DefaultTensorType": TensorProto.FLOAT})


def fuse_attention(fp32_dir: Path, out_dir: Path) -> Path:
    """The fp32 graph with MultiHeadAttention fused, or the plain graph where optimum has no fusion for the model."""
    from optimum.onnxruntime import ORTOptimizer
    from optimum.onnxruntime.configuration import OptimizationConfig

    fusion = OptimizationConfig(  # attention only: onnxruntime fuses layer norms and GELU itself when it loads the graph
        optimization_level=0, use_multi_head_attention=True, use_raw_attention_mask=True,
        disable_gelu_fusion=True, disable_bias_gelu_fusion=True, disable_layer_norm_fusion=True,
        disable_skip_layer_norm_fusion=True, disable_bias_skip_layer_norm_fusion=True)
    try:
        ORTOptimizer.from_pretrained(str(fp32_dir)).optimize(fusion, save_dir=str(out_dir))
    except NotImplementedError as error:  # a model type optimum's optimiser does not know
        log.warning("attention left unfused for int8", extra={"reason": str(error)})
        return fp32_dir / MODEL_FILE
    return out_dir / "model_optimized.onnx"


def activation_floor_of(config: dict) -> float | None:
    """The activation's lower bound, or None (down-projections then stay fp32) for one we do not know."""
    try:
        return activation_floor(config.get("hidden_act", ""))
    except UnsupportedActivation as error:
        log.warning("down-projections kept fp32", extra={"reason": str(error)})
        return None


def matmul_roles(model_path: Path, config: dict) -> tuple[list[str], list[str]]:
    """MatMul node names, read in one pass: attention's products (no weight initializer among
    their inputs), and the FFN down-projections (a weight mapping the wider intermediate size
    back to the hidden size)."""
    import onnx

    down_shape = (config["intermediate_size"], config["hidden_size"])
    model = onnx.load(str(model_path), load_external_data=False)
    shapes = {init.name: tuple(init.dims) for init in model.graph.initializer}
    attention, down = [], []
    for node in model.graph.node:
        if node.op_type != "MatMul":
            continue
        weights = [shapes[name] for name in node.input if name in shapes]
        if not weights:
            attention.append(node.name)
        elif down_shape in weights:
            down.append(node.name)
    return attention, down
