"""Export a profile's model to ONNX with optimum, optimise it, and prove it still agrees with PyTorch.

Variants:
  fp32  optimum export (feature-extraction), pooling appended in the graph
  int8  the CPU variant (int8_recipe.py): attention fused, dynamic int8 weight
        MatMuls, the FFN down-projections with a scale per token; int8 weights,
        or uint8 on a CPU whose int8 GEMM saturates with them (int8_kernels.py)
  fp16  ORT transformer optimisations for GPU + fp16 weights and activations: the
        CUDA variant (checked, and so only built, where CUDA is available)

Exports are cached under <cache>/<profile>-<precision>-<key>; the key hashes
the model's files, the profile and the export settings, so a new model or a
changed setting never reuses a stale graph. Every new export must pass its
parity check before it is moved into the cache.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Literal

import numpy as np

from lingodex.encoder.errors import EncoderError
from lingodex.encoder.export.int8_kernels import signed_weights_saturate
from lingodex.encoder.export.onnx_pooling import add_pooling
from lingodex.encoder.models.model_source import model_hash
from lingodex.encoder.profile import ModelProfile

log = logging.getLogger(__name__)
Precision = Literal["fp32", "int8", "fp16"]
Int8Weights = Literal["auto", "s8", "u8"]
WeightType = Literal["s8", "u8"]  # auto settled for this CPU
MODEL_FILE = "model.onnx"
EXPORT_FORMAT = 6  # bump when the export recipe below changes


@dataclass(frozen=True)
class ExportSpec:
    precision: Precision = "fp32"
    opset: int = 18
    int8_weights: Int8Weights = "auto"  # int8 only; auto: s8 unless this CPU's int8 GEMM saturates with them

    def for_this_cpu(self) -> ExportSpec:
        """The spec with int8's weight type settled, so the cache key names what was built."""
        if self.precision != "int8":
            return self
        return replace(self, int8_weights=settled_int8_weights(self.int8_weights))


def settled_int8_weights(weights: Int8Weights) -> WeightType:
    """Auto made concrete: uint8 weights where int8 ones would saturate this CPU's GEMM."""
    if weights != "auto":
        return weights
    return "u8" if signed_weights_saturate() else "s8"


@dataclass(frozen=True)
class ParityThresholds:
    """fp32 must match PyTorch to float rounding; reduced precisions must keep direction."""

    max_abs_diff_fp32: float = 1e-4
    mean_cosine_reduced: float = 0.999  # over the probe sentences
    min_cosine_reduced: float = 0.995  # no single sentence may drift far


DEFAULT_THRESHOLDS = ParityThresholds()


class ExportParityError(EncoderError, RuntimeError):
    """An exported graph disagrees with the PyTorch model; it is not cached or used."""


def probe_sentences() -> list[str]:
    text = resources.files("lingodex.encoder.data").joinpath("probe_sentences.txt").read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.strip()]


def export_key(model_dir: Path, profile: ModelProfile, spec: ExportSpec) -> str:
    """Model content + profile + settings + recipe version. Tool versions are recorded in the
    export's report rather than keyed, so a worker without torch/optimum still finds its export."""
    material = {"model": model_hash(model_dir), "profile": profile.model_dump(), "spec": asdict(spec),
                "format": EXPORT_FORMAT}
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()[:16]


def tool_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for package in ("optimum", "optimum-onnx", "onnxruntime", "onnxruntime-gpu", "torch", "transformers", "onnx"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            continue
    return found


def exported_model(model_dir: Path, profile: ModelProfile, spec: ExportSpec, cache_root: Path,
                   thresholds: ParityThresholds = DEFAULT_THRESHOLDS) -> Path:
    """Directory holding the checked ONNX graph and its tokenizer; exported on first use.

    A file lock makes concurrent worker processes wait for one export instead
    of racing to replace each other's result.
    """
    from filelock import FileLock

    settled = spec.for_this_cpu()
    if settled != spec:
        log.debug("int8 weight type chosen for this CPU", extra={
            "int8_weights": settled.int8_weights, "signed_weights_saturate": settled.int8_weights == "u8"})
    spec = settled
    target = cache_root / f"{profile.name}-{spec.precision}-{export_key(model_dir, profile, spec)}"
    if (target / MODEL_FILE).is_file():
        return target
    cache_root.mkdir(parents=True, exist_ok=True)
    with FileLock(str(cache_root / f".{target.name}.lock")):
        if not (target / MODEL_FILE).is_file():
            _export_into(target, model_dir, profile, spec, thresholds)
    return target


def _export_into(target: Path, model_dir: Path, profile: ModelProfile, spec: ExportSpec,
                 thresholds: ParityThresholds) -> None:
    staging = Path(tempfile.mkdtemp(prefix=".export-", dir=target.parent))
    steps = 2 if spec.precision == "fp32" else 3
    started = time.perf_counter()

    def step(number: int, what: str) -> None:  # the first run waits on this for a minute or more: say what it does
        log.info(f"exporting {profile.name} ({spec.precision}) once, step {number}/{steps}: {what} "
                 f"[{time.perf_counter() - started:.0f} s]")

    from lingodex.encoder.export.int8_recipe import int8_graph  # it builds on this module's export and files

    try:
        fp32_dir = staging / "fp32"
        step(1, "ONNX graph (optimum)")
        export_fp32(model_dir, fp32_dir, spec.opset)
        if spec.precision != "fp32":
            step(2, f"{spec.precision} weights")
        out_dir = {"fp32": lambda: fp32_dir,
                   "int8": lambda: int8_graph(fp32_dir, staging / "int8", settled_int8_weights(spec.int8_weights)),
                   "fp16": lambda: _fp16(fp32_dir, staging / "fp16")}[spec.precision]()
        add_pooling(out_dir / MODEL_FILE, profile.pooling, profile.normalize)
        step(steps, "parity check against the PyTorch model")
        report = check_parity(model_dir, out_dir, profile, spec, thresholds)
        record = {"spec": asdict(spec), "parity": report, "tools": tool_versions()}
        (out_dir / "lingodex-export.json").write_text(json.dumps(record, indent=2))
        if target.exists():
            shutil.rmtree(target)
        out_dir.rename(target)
        log.info(f"exported {profile.name} ({spec.precision}) in {time.perf_counter() - started:.0f} s to {target}",
                 extra={"model": profile.name, "precision": spec.precision, "parity": report})
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def export_fp32(model_dir: Path, out_dir: Path, opset: int) -> None:
    from optimum.exporters.onnx import main_export

    # library_name: a directory sentence-transformers wrote (a fine-tuned model) would otherwise be exported
    # with that library's pooling; lingodex adds its own (onnx_pooling.py) to the plain transformer's output
    main_export(model_name_or_path=str(model_dir), output=str(out_dir), task="feature-extraction",
                opset=opset, device="cpu", do_validation=False, local_files_only=True, library_name="transformers")


def _fp16(fp32_dir: Path, out_dir: Path) -> Path:
    from optimum.onnxruntime import ORTOptimizer
    from optimum.onnxruntime.configuration import AutoOptimizationConfig

    ORTOptimizer.from_pretrained(str(fp32_dir)).optimize(AutoOptimizationConfig.O4(), save_dir=str(out_dir))
    (out_dir / "model_optimized.onnx").rename(out_dir / MODEL_FILE)
    copy_tokenizer(fp32_dir, out_dir)
    return out_dir


def copy_tokenizer(source: Path, target: Path) -> None:
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "config.json"):
        if (source / name).is_file():
            shutil.copy2(source / name, target / name)


def check_parity(model_dir: Path, export_dir: Path, profile: ModelProfile, spec: ExportSpec,
                 thresholds: ParityThresholds) -> dict[str, float]:
    """Embed the probe sentences with PyTorch and with the export; refuse a mismatch.

    The export embeds them twice: in padded batches and in batches of equal
    length, so that both of an int8 graph's attention paths are checked.
    """
    from lingodex.encoder.runtime.ort_session import EncoderSession, Provider
    from lingodex.encoder.runtime.pipeline import EncodingPipeline
    from lingodex.encoder.export.torch_reference import TorchForward

    provider: Provider = "cuda" if spec.precision == "fp16" else "cpu"
    session = EncoderSession(export_dir / MODEL_FILE, provider=provider)
    texts = probe_sentences()
    tokenizer = export_dir / "tokenizer.json"
    reference = EncodingPipeline(profile, tokenizer, TorchForward(model_dir, profile)).encode(texts, profile.passage_prefix)
    runs = [EncodingPipeline(profile, tokenizer, session.run, equal_lengths=equal).encode(texts, profile.passage_prefix)
            for equal in (False, True)]
    cosines = np.minimum(*(_cosines(reference, exported) for exported in runs))
    report = {
        "max_abs_diff": max(float(np.abs(reference - exported).max()) for exported in runs),
        "mean_cosine": float(cosines.mean()),
        "min_cosine": float(cosines.min()),
        "sentences": len(texts),
    }
    if spec.precision == "fp32" and report["max_abs_diff"] > thresholds.max_abs_diff_fp32:
        raise ExportParityError(
            f"{profile.name} fp32 export differs from PyTorch by {report['max_abs_diff']:.2e} "
            f"(limit {thresholds.max_abs_diff_fp32:.0e}) on the probe sentences; export refused")
    if spec.precision != "fp32" and (report["mean_cosine"] < thresholds.mean_cosine_reduced
                                     or report["min_cosine"] < thresholds.min_cosine_reduced):
        raise ExportParityError(
            f"{profile.name} {spec.precision} export has mean cosine {report['mean_cosine']:.5f} and min "
            f"{report['min_cosine']:.5f} to PyTorch on the probe sentences (limits {thresholds.mean_cosine_reduced} "
            f"and {thresholds.min_cosine_reduced}); export refused")
    return report


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
