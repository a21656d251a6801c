"""Exports agree with PyTorch, are cached by content, and are refused when they do not agree."""

import json
from pathlib import Path

import numpy as np
import pytest

from lingodex.encoder.export import onnx_export as export_module
from lingodex.encoder.export.int8_recipe import int8_graph
from lingodex.encoder.export.onnx_export import ExportParityError, ExportSpec, ParityThresholds, exported_model
from lingodex.encoder.runtime.pipeline import EncodingPipeline
from lingodex.encoder.export.torch_reference import TorchForward


def test_fp32_export_matches_pytorch_on_sentences_it_was_not_checked_on(model_dir: Path, profile, fp32_encoder, mini_tatoeba) -> None:
    texts = [s.text for s in mini_tatoeba]
    reference = EncodingPipeline(profile, model_dir / "tokenizer.json", TorchForward(model_dir, profile)).encode(
        texts, profile.passage_prefix)
    assert np.abs(fp32_encoder.encode_passages(texts) - reference).max() <= 1e-4


def test_every_export_records_its_parity_report(fp32_dir: Path, int8_dir: Path) -> None:
    fp32 = json.loads((fp32_dir / "lingodex-export.json").read_text())["parity"]
    int8 = json.loads((int8_dir / "lingodex-export.json").read_text())["parity"]
    assert fp32["max_abs_diff"] <= 1e-4
    assert int8["mean_cosine"] >= 0.999


def test_a_cached_export_is_reused_without_exporting_again(model_dir, profile, export_cache, fp32_dir, monkeypatch) -> None:
    monkeypatch.setattr(export_module, "export_fp32", lambda *a, **k: pytest.fail("exported again"))
    assert exported_model(model_dir, profile, ExportSpec("fp32"), export_cache) == fp32_dir


def test_export_settings_are_part_of_the_cache_key(model_dir, profile) -> None:
    assert export_module.export_key(model_dir, profile, ExportSpec("fp32")) != export_module.export_key(
        model_dir, profile, ExportSpec("int8"))
    assert export_module.export_key(model_dir, profile, ExportSpec("fp32", opset=17)) != export_module.export_key(
        model_dir, profile, ExportSpec("fp32", opset=18))
    assert export_module.export_key(model_dir, profile, ExportSpec("int8", int8_weights="s8")) != export_module.export_key(
        model_dir, profile, ExportSpec("int8", int8_weights="u8"))


def test_an_export_that_disagrees_with_pytorch_is_refused_and_not_cached(model_dir, profile, tmp_path) -> None:
    impossible = ParityThresholds(max_abs_diff_fp32=0.0)
    with pytest.raises(ExportParityError, match="export refused"):
        exported_model(model_dir, profile, ExportSpec("fp32"), tmp_path, thresholds=impossible)
    assert not any(tmp_path.glob("*/model.onnx"))


def test_int8_export_keeps_cross_lingual_top1_except_near_ties(fp32_encoder, int8_encoder, mini_tatoeba) -> None:
    """int8 may only flip queries whose fp32 winner led by less than 0.01 cosine."""
    english = [s for s in mini_tatoeba if s.lang == "en"]
    queries = [s for s in mini_tatoeba if s.lang != "en"]

    def scores(encoder) -> np.ndarray:
        return encoder.encode_queries([q.text for q in queries]) @ encoder.encode_queries([e.text for e in english]).T

    fp32, int8 = scores(fp32_encoder), scores(int8_encoder)
    top2 = np.sort(fp32, axis=1)[:, -2:]
    clear = (top2[:, 1] - top2[:, 0]) >= 0.01
    assert (fp32.argmax(1) == int8.argmax(1))[clear].all()
    correct = [english[i].id == q.target for i, q in zip(int8.argmax(1), queries, strict=True)]
    assert np.mean(correct) >= 0.95


def graph_nodes(graph):  # noqa: ANN001, ANN201 - onnx GraphProto in, its nodes and those of its If branches out
    for node in graph.node:
        yield node
        for attribute in node.attribute:
            if attribute.g.node:
                yield from graph_nodes(attribute.g)


def op_types(model_path: Path) -> set[str]:
    import onnx

    return {node.op_type for node in graph_nodes(onnx.load(str(model_path), load_external_data=False).graph)}


def test_int8_export_fuses_attention_and_quantises_every_weight_matmul(int8_dir: Path) -> None:
    ops = op_types(int8_dir / "model.onnx")
    assert "MultiHeadAttention" in ops and "Softmax" not in ops
    assert {"DynamicQuantizeLinear", "MatMulInteger", "MatMulIntegerToFloat", "QuantizeLinear"} <= ops and "MatMul" not in ops


def test_int8_export_keeps_its_word_embedding_table_in_int8_and_its_file_under_150_mb(int8_dir: Path) -> None:
    import onnx

    graph = onnx.load(str(int8_dir / "model.onnx"), load_external_data=False).graph
    tables = {init.name: init.data_type for init in graph.initializer  # e5-small's 250k-token vocabulary (not its scales)
              if len(init.dims) == 2 and init.dims[0] > 200_000 and init.dims[1] > 1}
    assert list(tables.values()) == [onnx.TensorProto.INT8], tables
    assert (int8_dir / "model.onnx").stat().st_size <= 150e6


def test_int8_export_weights_are_the_type_this_cpus_int8_gemm_computes_exactly(int8_dir: Path) -> None:
    import onnx

    from lingodex.encoder.export.int8_kernels import signed_weights_saturate

    graph = onnx.load(str(int8_dir / "model.onnx"), load_external_data=False).graph
    gemm_weights = {node.input[1] for node in graph_nodes(graph) if node.op_type in ("MatMulInteger", "MatMulIntegerToFloat")}
    types = {init.data_type for init in graph.initializer if init.name in gemm_weights}
    assert types == {onnx.TensorProto.UINT8 if signed_weights_saturate() else onnx.TensorProto.INT8}
    recorded = json.loads((int8_dir / "lingodex-export.json").read_text())["spec"]["int8_weights"]
    assert recorded == ("u8" if signed_weights_saturate() else "s8")


def test_int8_attention_drops_its_padding_mask_only_in_the_unpadded_branch_of_every_layer(int8_dir: Path) -> None:
    import onnx

    graph = onnx.load(str(int8_dir / "model.onnx"), load_external_data=False).graph
    guards = [node for node in graph.node if node.op_type == "If"]
    layers = json.loads((int8_dir / "config.json").read_text())["num_hidden_layers"]
    assert len(guards) == layers and "MultiHeadAttention" not in {node.op_type for node in graph.node}
    for guard in guards:
        branches = {attribute.name: attribute.g.node[0] for attribute in guard.attribute}
        assert len(branches["then_branch"].input) == 4 and branches["else_branch"].input[4]


def test_int8_vectors_agree_between_padded_and_equal_length_batches(profile, int8_dir: Path, mini_tatoeba) -> None:
    from lingodex.encoder.runtime.ort_session import EncoderSession

    texts = [sentence.text for sentence in mini_tatoeba]
    run = EncoderSession(int8_dir / "model.onnx", provider="cpu").run
    padded, unpadded = (EncodingPipeline(profile, int8_dir / "tokenizer.json", run, 2048, equal_lengths=equal)
                        .encode(texts, profile.passage_prefix) for equal in (False, True))
    assert (padded * unpadded).sum(1).min() >= 0.995  # the same graph; only int8 rounding of a few tokens differs


def test_int8_export_of_a_model_optimum_cannot_fuse_keeps_attention_unfused(fp32_dir: Path, tmp_path, monkeypatch) -> None:
    from optimum.onnxruntime import ORTOptimizer

    def unknown_model_type(*args, **kwargs):
        raise NotImplementedError("ORTOptimizer has no fusion for model type 'novel'")

    monkeypatch.setattr(ORTOptimizer, "optimize", unknown_model_type)
    ops = op_types(int8_graph(fp32_dir, tmp_path / "int8", export_module.settled_int8_weights("auto")) / "model.onnx")
    assert "MultiHeadAttention" not in ops and "If" not in ops and "Softmax" in ops
    assert {"MatMulInteger", "QuantizeLinear"} <= ops
