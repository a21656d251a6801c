"""Index bodies kept as JSON files next to this module, completed from settings and the encoder."""

from __future__ import annotations

import copy
import json
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import Any

from lingodex.ingest.config import VectorSettings

MAPPINGS_DIR = Path(__file__).parent / "mappings"
PRODUCTS = "products"  # ingest/index/mappings/products.json, the mapping every load uses


@dataclass(frozen=True)
class EncoderIdentity:
    """What makes two vectors comparable: same model (by content), same dimension.

    ``export_id`` (precision, export recipe) is recorded for diagnosis but not
    compared: int8 on a CPU worker and fp16 on a GPU worker embed the same model.
    """

    model_id: str
    fingerprint: str
    dimension: int
    export_id: str = ""

    def same_vectors_as(self, other: EncoderIdentity) -> bool:
        return (self.model_id, self.fingerprint, self.dimension) == (other.model_id, other.fingerprint, other.dimension)

    @classmethod
    def from_meta(cls, meta: dict[str, Any]) -> EncoderIdentity | None:
        encoder = meta.get("encoder")
        if not encoder or "fingerprint" not in encoder:
            return None
        return cls(**{key: encoder[key] for key in ("model_id", "fingerprint", "dimension", "export_id") if key in encoder})


@cache
def _load(name: str) -> dict[str, Any]:
    return json.loads((MAPPINGS_DIR / f"{name}.json").read_text(encoding="utf-8"))


def index_body(name: str, *, encoder: EncoderIdentity, vectors: VectorSettings | None = None,
               shards: int | None = None, replicas: int | None = None) -> dict[str, Any]:
    """The mapping file ``name`` with the vector field, shard counts and encoder identity filled in.

    The encoder is recorded in ``_meta`` so that an index never silently mixes
    vectors of two models (ingest/index/index_versions.py refuses).
    """
    body = copy.deepcopy(_load(name))
    index_settings = body["settings"]["index"]
    if shards is not None:
        index_settings["number_of_shards"] = shards
    if replicas is not None:
        index_settings["number_of_replicas"] = replicas
    mappings = body["mappings"]
    field = mappings["properties"]["embedding"]
    field["dimension"] = encoder.dimension
    if vectors is not None:
        field["space_type"] = vectors.space_type
        field["method"] = vectors.method()
    mappings["_meta"]["encoder"] = asdict(encoder)
    return body


def language_fields(name: str) -> list[str]:
    """Languages that have their own analysed title field (besides ``other``)."""
    fields = _load(name)["mappings"]["properties"]["title"]["properties"]
    return [lang for lang in fields if lang != "other"]


def schema_version(name: str) -> int:
    """The mapping file's ``_meta.lingodex_schema``: raised when a change needs indices rebuilt to take effect."""
    return int(_load(name)["mappings"]["_meta"]["lingodex_schema"])
