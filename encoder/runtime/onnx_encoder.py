"""The production encoder: an exported ONNX graph run by onnxruntime (CUDA or CPU)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from lingodex.encoder.export.onnx_export import MODEL_FILE
from lingodex.encoder.runtime.ort_session import EncoderSession, Provider
from lingodex.encoder.runtime.pipeline import EncodingPipeline, EncodeStats
from lingodex.encoder.profile import ModelProfile

# Padded tokens per forward pass. On a CPU a batch that fits in cache runs ~2x
# faster than a large one (BENCHMARKS.md); a GPU needs large batches to fill up.
DEFAULT_TOKEN_BUDGET = {"CPUExecutionProvider": 2048, "CUDAExecutionProvider": 65536}
# Batches without padding let the int8 graph's attention skip its mask (MLAS
# flash attention): +22 % on titles on 2 cores (BENCHMARKS.md). A GPU keeps
# mixed lengths: it needs the large batches more than it loses to padding.
EQUAL_LENGTH_BATCHES = {"CPUExecutionProvider": True, "CUDAExecutionProvider": False}


class OnnxEncoder:
    def __init__(self, profile: ModelProfile, export_dir: Path, *, provider: Provider = "auto",
                 threads: int | None = None, token_budget: int | None = None, fingerprint: str = "") -> None:
        self.session = EncoderSession(export_dir / MODEL_FILE, provider=provider, threads=threads)
        budget = token_budget or DEFAULT_TOKEN_BUDGET[self.session.provider]
        self._pipeline = EncodingPipeline(profile, export_dir / "tokenizer.json", self.session.run, budget,
                                          equal_lengths=EQUAL_LENGTH_BATCHES[self.session.provider])
        self.profile = profile
        self.dimension = profile.dimension
        self.model_id = profile.name
        self.export_id = export_dir.name  # profile, precision and content hash of model + export settings
        self.fingerprint = fingerprint or export_dir.name

    @property
    def stats(self) -> EncodeStats:
        """Texts, tokens, padding and truncations so far (over-long texts are cut to max_tokens)."""
        return self._pipeline.stats

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._pipeline.encode(texts, self.profile.passage_prefix)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._pipeline.encode(texts, self.profile.query_prefix)
