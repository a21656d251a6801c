"""How far int8 can take the default model on this CPU: the GEMM kernels, where the graph's time goes, and
the activation recipes that int8 weights would need where the kernel saturates.

    python bench/experiments/int8_ceiling.py --shopee ../shared/data/shopee/dev.csv

Three parts, one process:
1. GEMM kernels: onnxruntime's fp32 MatMul against its int8 DynamicQuantizeMatMul
   (int8 and uint8 weights, one scale per column, as the export makes them) on
   each weight shape of the model, the same rows of activations: GOP/s and the
   ratio to fp32. Whatever int8 gains over fp32 in the whole model is bounded by
   these ratios.
2. Where the time goes: onnxruntime's profiler over the plain fp32 export and the
   shipped int8 export on the same Shopee titles, time per operator type.
3. Recipes simulated in PyTorch (fake quantisation of every Linear's input and
   weight), mean and minimum cosine to fp32 on the export's probe sentences, the
   bar being mean >= 0.999 (encoder/export/onnx_export.py). Calibrated by the shipped recipe
   (per-tensor uint8 activations, per-token down-projections), whose real graph
   measures 0.99905 on both CPUs of BENCHMARKS.md. The 7-bit rows are what int8
   weights need where the kernel saturates (encoder/export/int8_kernels.py): 127 x 127
   products cannot clip a 16-bit pair sum. Per-token zero points (the "asym"
   row) are not something onnxruntime's GEMM takes; the row is the ceiling of
   7-bit activations.
"""

from __future__ import annotations

import argparse
import collections
import importlib.util
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
_spec = importlib.util.spec_from_file_location("bench_encoder", REPO / "bench" / "encoder.py")
bench_encoder = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_encoder)

from lingodex.encoder.export.int8_recipe import int8_graph  # noqa: E402
from lingodex.encoder.export.onnx_export import MODEL_FILE, export_fp32, probe_sentences, settled_int8_weights  # noqa: E402
from lingodex.encoder.export.int8_kernels import signed_weights_saturate  # noqa: E402
from lingodex.encoder.models.model_source import resolve_model_dir  # noqa: E402
from lingodex.encoder.runtime.onnx_encoder import DEFAULT_TOKEN_BUDGET  # noqa: E402
from lingodex.encoder.export.per_token_int8 import ACTIVATION_FLOOR, ZERO_POINT  # noqa: E402
from lingodex.encoder.runtime.pipeline import EncodingPipeline  # noqa: E402
from lingodex.encoder.profile import ModelProfile, load_profile  # noqa: E402
from lingodex.encoder.export.torch_reference import TorchForward  # noqa: E402


def ort_session(graph_nodes: list, inputs: list, outputs: list, initializers: list):
    import onnxruntime as ort
    from onnx import helper

    model = helper.make_model(helper.make_graph(graph_nodes, "bench", inputs, outputs, initializers),
                              opset_imports=[helper.make_opsetid("", 18), helper.make_opsetid("com.microsoft", 1)])
    return ort.InferenceSession(model.SerializeToString(), cpu_options(), providers=["CPUExecutionProvider"])


def cpu_options(profile: bool = False):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    options.enable_profiling = profile
    return options


def gemm_session(kind: str, k: int, n: int, rng: np.random.Generator):
    """One weight GEMM: fp32 MatMul, or DynamicQuantizeMatMul with int8 / uint8 weights."""
    from onnx import TensorProto, helper, numpy_helper

    a = helper.make_tensor_value_info("a", TensorProto.FLOAT, ["m", k])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["m", n])
    if kind == "fp32":
        weight = numpy_helper.from_array(rng.standard_normal((k, n)).astype(np.float32), "w")
        return ort_session([helper.make_node("MatMul", ["a", "w"], ["y"])], [a], [y], [weight])
    if kind == "int8":
        weight, zero = rng.integers(-127, 128, (k, n), dtype=np.int8), np.int8(0)
    else:
        weight, zero = rng.integers(1, 256, (k, n), dtype=np.uint8), np.uint8(128)
    initializers = [numpy_helper.from_array(weight, "w"), numpy_helper.from_array(np.full(n, 1e-3, np.float32), "s"),
                    numpy_helper.from_array(np.array(zero), "z")]
    node = helper.make_node("DynamicQuantizeMatMul", ["a", "w", "s", "z"], ["y"], domain="com.microsoft")
    return ort_session([node], [a], [y], initializers)


def gemm_rows(config: dict, rows: int, repeats: int) -> list[dict]:
    hidden, intermediate = config["hidden_size"], config["intermediate_size"]
    rng = np.random.default_rng(0)
    results = []
    for k, n in [(hidden, hidden), (hidden, intermediate), (intermediate, hidden)]:
        activations = rng.standard_normal((rows, k)).astype(np.float32)
        row = {"shape": f"{rows} x {k} · {k} x {n}"}
        for kind in ("fp32", "int8", "uint8"):
            session = gemm_session(kind, k, n, rng)
            seconds = best_of(session, {"a": activations}, repeats)
            row[kind] = 2 * rows * k * n / seconds / 1e9
        results.append(row)
    return results


def best_of(session, feed: dict[str, np.ndarray], repeats: int) -> float:
    """Fastest of ``repeats`` runs after a warm-up: the kernel's speed, not the machine's slowest moment."""
    session.run(None, feed)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        session.run(None, feed)
        best = min(best, time.perf_counter() - start)
    return best


def op_profile(model_path: Path, batches: list[tuple[np.ndarray, np.ndarray]]) -> tuple[dict[str, float], float]:
    """Milliseconds per operator type over the batches, from onnxruntime's own profiler, and the runs' wall time."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(model_path), cpu_options(profile=True), providers=["CPUExecutionProvider"])
    start = time.perf_counter()
    for input_ids, mask in batches:
        session.run(None, {"input_ids": input_ids, "attention_mask": mask, "token_type_ids": np.zeros_like(input_ids)})
    wall_ms = (time.perf_counter() - start) * 1e3
    trace = Path(session.end_profiling())
    per_op: collections.Counter = collections.Counter()
    for event in json.loads(trace.read_text()):
        # An If's time holds its branch's nodes, which the profiler lists as well: count them once.
        if event.get("cat") == "Node" and event["name"].endswith("_kernel_time") and event["args"]["op_name"] != "If":
            per_op[event["args"]["op_name"]] += event["dur"] / 1e3
    trace.unlink()
    return dict(per_op), wall_ms


def encoder_batches(profile: ModelProfile, tokenizer_file: Path, titles: list[str]) -> list[tuple[np.ndarray, np.ndarray]]:
    """The batches the CPU encoder cuts (its token budget, equal lengths: no padding, so the shipped graph's
    attention takes its unmasked branch, encoder/export/unpadded_attention.py). Only the batching is used, not a forward pass."""
    pipeline = EncodingPipeline(profile, tokenizer_file, forward=None,
                                token_budget=DEFAULT_TOKEN_BUDGET["CPUExecutionProvider"], equal_lengths=True)
    return [(input_ids, mask) for _, input_ids, mask in pipeline.prepared_batches(titles, profile.passage_prefix)]


# Fake quantisation of a Linear's input x (float tensor [..., features]), per recipe.
def per_tensor(x, levels: int, mask):
    values = x[mask]
    low, high = min(values.min().item(), 0.0), max(values.max().item(), 0.0)
    step = (high - low) / levels
    zero = round(-low / step)
    return ((x / step).round() + zero).clamp(0, levels).sub(zero) * step


def per_token_symmetric(x, levels: int):
    half = levels // 2
    step = x.abs().amax(-1, keepdim=True).clamp(min=1e-12) / half
    return (x / step).round().clamp(-half, half) * step


def per_token_asymmetric(x, levels: int):
    low, high = x.amin(-1, keepdim=True).clamp(max=0), x.amax(-1, keepdim=True).clamp(min=0)
    step = (high - low).clamp(min=1e-12) / levels
    zero = (-low / step).round()
    return ((x / step).round() + zero).clamp(0, levels).sub(zero) * step


def down_per_token(x, levels: int, zero: int, floor: float):
    """encoder/export/per_token_int8.py's recipe: a fixed zero point under the activation's floor."""
    peak = x.amax(-1, keepdim=True)
    step = (peak / (levels - zero)).clamp(min=floor / zero)
    return ((x / step).round() + zero).clamp(0, levels).sub(zero) * step


def weight_per_column(weight):
    step = weight.abs().amax(dim=1, keepdim=True) / 127  # torch Linear weights are [out, in]
    return (weight / step).round().clamp(-127, 127) * step


def simulated_recipes(mask, floor: float) -> dict[str, tuple]:
    z7 = ZERO_POINT // 2
    return {
        "shipped: per-tensor uint8, down per token (calibration)": (
            lambda x: per_tensor(x, 255, mask), lambda x: down_per_token(x, 255, ZERO_POINT, floor)),
        "per-token 8-bit symmetric everywhere": (
            lambda x: per_token_symmetric(x, 255), lambda x: down_per_token(x, 255, ZERO_POINT, floor)),
        "7-bit per-tensor, down per token 7-bit": (
            lambda x: per_tensor(x, 127, mask), lambda x: down_per_token(x, 127, z7, floor)),
        "7-bit per-token symmetric, down per token 7-bit": (
            lambda x: per_token_symmetric(x, 127), lambda x: down_per_token(x, 127, z7, floor)),
        "7-bit per-token asymmetric, down per token 7-bit": (
            lambda x: per_token_asymmetric(x, 127), lambda x: down_per_token(x, 127, z7, floor)),
    }


def simulate(model_dir: Path, profile: ModelProfile) -> dict[str, dict[str, float]]:
    """Each recipe's fake quantisation hooked into the PyTorch reference (encoder/export/torch_reference.py), one padded
    batch of the probe sentences, cosine to the unquantised reference."""
    import torch
    from transformers import AutoTokenizer

    config = json.loads((model_dir / "config.json").read_text())
    texts = [profile.passage_prefix + text for text in probe_sentences()]
    batch = AutoTokenizer.from_pretrained(str(model_dir))(texts, padding=True, return_tensors="np")
    input_ids, mask = batch["input_ids"].astype(np.int64), batch["attention_mask"].astype(np.int64)
    reference = TorchForward(model_dir, profile)(input_ids, mask)
    results = {}
    recipes = simulated_recipes(torch.from_numpy(mask).bool(), ACTIVATION_FLOOR[config["hidden_act"]])
    for name, (activations, down) in recipes.items():
        forward = TorchForward(model_dir, profile)
        for linear in (m for m in forward.model.modules() if isinstance(m, torch.nn.Linear)):
            with torch.no_grad():
                linear.weight.copy_(weight_per_column(linear.weight))
            quantise = down if linear.in_features == config["intermediate_size"] else activations
            linear.register_forward_pre_hook(lambda _module, args, quantise=quantise: (quantise(args[0]),))
        cosine = (forward(input_ids, mask) * reference).sum(-1)
        results[name] = {"mean": float(cosine.mean()), "min": float(cosine.min())}
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shopee", type=Path, required=True)
    parser.add_argument("--titles", type=int, default=1000)
    parser.add_argument("--rows", type=int, default=2048, help="activation rows (tokens) per GEMM")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--home", type=Path, default=REPO / ".lingodex" / "models")
    parser.add_argument("--work", type=Path, default=Path("/tmp/lingodex-int8-ceiling"))
    args = parser.parse_args()

    profile = load_profile("multilingual-e5-small")
    model_dir = resolve_model_dir(profile, args.home / "hf")
    config = json.loads((model_dir / "config.json").read_text())
    print(f"int8 weights saturate on this CPU: {signed_weights_saturate()}\n")

    print("| GEMM (rows · weight) | fp32 GFLOP/s | int8 weights GOP/s | × fp32 | uint8 weights GOP/s | × fp32 |\n"
          "| --- | --- | --- | --- | --- | --- |")
    for row in gemm_rows(config, args.rows, args.repeats):
        print(f"| {row['shape']} | {row['fp32']:.0f} | {row['int8']:.0f} | {row['int8'] / row['fp32']:.2f} | "
              f"{row['uint8']:.0f} | {row['uint8'] / row['fp32']:.2f} |")

    shutil.rmtree(args.work, ignore_errors=True)
    plain = args.work / "fp32"
    export_fp32(model_dir, plain, opset=18)
    graphs = {"ORT fp32": plain, "ORT int8 (shipped)": int8_graph(plain, args.work / "int8", settled_int8_weights("auto"))}
    batches = encoder_batches(profile, plain / "tokenizer.json", bench_encoder.shopee_titles(args.shopee, args.titles))
    for name, directory in graphs.items():
        per_op, wall_ms = op_profile(directory / MODEL_FILE, batches)
        total = sum(per_op.values())
        print(f"\n{name}: {total:.0f} ms in operators, {wall_ms:.0f} ms of runs, {args.titles} titles in "
              f"{len(batches)} batches\n\n| operator | ms | share |\n| --- | --- | --- |")
        for op, ms in sorted(per_op.items(), key=lambda item: -item[1])[:8]:
            print(f"| {op} | {ms:.0f} | {100 * ms / total:.1f} % |")

    print("\n| recipe (simulated) | mean cosine | min cosine |\n| --- | --- | --- |")
    for name, cosine in simulate(model_dir, profile).items():
        print(f"| {name} | {cosine['mean']:.5f} | {cosine['min']:.5f} |")


if __name__ == "__main__":
    main()
