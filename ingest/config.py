"""Settings the ingest package reads: the load itself, the vector field, language centroids, hubness, the promotion guard.

lingodex.settings composes them into the whole Settings; ingest itself never reads more than these.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from lingodex.ingest.index.promotion import PromotionPolicy


class VectorSettings(BaseModel):
    """The knn_vector field. faiss needs the k-NN native libraries (official tarball or image)."""

    model_config = ConfigDict(extra="forbid")  # a typo is an error with its path, never dropped

    engine: Literal["lucene", "faiss"] = "lucene"
    space_type: Literal["cosinesimil", "innerproduct", "l2"] = "cosinesimil"
    m: int = Field(16, ge=2, le=512, description="HNSW graph degree")
    ef_construction: int = Field(128, ge=2)
    fp16: bool = Field(False, description="store vectors as fp16 (faiss scalar quantisation): half the memory")

    @model_validator(mode="after")
    def _fp16_needs_faiss(self) -> VectorSettings:
        if self.fp16 and self.engine != "faiss":
            raise ValueError("vectors.fp16 needs engine faiss (it is faiss's 'sq' encoder); lucene stores fp32")
        return self

    def method(self) -> dict[str, Any]:
        parameters: dict[str, Any] = {"m": self.m, "ef_construction": self.ef_construction}
        if self.fp16:
            parameters["encoder"] = {"name": "sq", "parameters": {"type": "fp16"}}
        return {"name": "hnsw", "engine": self.engine, "parameters": parameters}


class CentringSettings(BaseModel):
    """Language centroids taken out of every vector of a new index version (ingest/centring.py)."""

    model_config = ConfigDict(extra="forbid")  # a typo is an error with its path, never dropped

    enabled: bool = Field(True, description="centre the vectors of new index versions by their language's mean")
    sample: int = Field(2000, ge=1, description="the first valid records of a load that estimate the catalog's centroids")
    min_documents: int = Field(30, ge=1, description="a language with fewer in the sample uses the reference centroid")


class HubnessSettings(BaseModel):
    """Isolation scores that let dense queries discount documents near everything (ingest/index/hubness.py)."""

    model_config = ConfigDict(extra="forbid")  # a typo is an error with its path, never dropped

    enabled: bool = Field(True, description="after each load, score the documents that have no isolation yet")
    neighbours: int = Field(10, ge=1, le=100, description="nearest other documents whose mean score is a document's "
                            "hubness")


class PromotionSettings(BaseModel):
    """When a new version may replace the serving one (ingest/index/promotion.py); `--force` overrides per load."""

    model_config = ConfigDict(extra="forbid")  # a typo is an error with its path, never dropped

    max_rejected: float = Field(0.01, ge=0, le=1, description="share of the records read that may be rejected")
    min_kept: float = Field(0.9, ge=0, description="share of the serving version's documents the new one must hold")

    def policy(self, *, force: bool = False) -> PromotionPolicy:
        return PromotionPolicy(self.max_rejected, self.min_kept, force)


class IngestSettings(BaseModel):
    """How catalog records become documents: the ingest section of the whole Settings."""

    model_config = ConfigDict(extra="forbid")  # a typo is an error with its path, never dropped

    alias: str = Field("products", description="the alias searches use; versions are <alias>-v<timestamp>")
    batch_size: int = Field(200, ge=1, description="records per Celery task")
    max_in_flight: int = Field(8, ge=1, description="batches submitted and not yet finished (back-pressure)")
    batch_timeout_s: float = Field(1800, gt=0, description="a batch with no result this long after it was sent is "
                                   "rejected (its records go to the dead letters) instead of the load waiting for ever")
    lock_stale_after_s: float = Field(300, gt=0, description="another load's lock on the alias with no heartbeat "
                                      "for this long is stale and taken over")
    field_mapping: Path | None = Field(None, description="YAML that maps catalog field names to ours")
    detect_languages: list[str] = Field(
        default_factory=lambda: ["en", "es", "fr", "de", "it", "pt", "nl", "ru", "ar", "hi", "tr", "id", "th", "ja",
                                 "zh", "ko", "vi", "pl", "uk", "he", "el", "sv", "cs", "ro", "hu", "da", "fi"],
        description="ISO 639-1 codes lingua chooses among when a record names no language")
    min_language_confidence: float = Field(0.3, ge=0, le=1, description="below this a detected language is 'und' (ICU field)")
    max_description_chars: int = Field(32_768, ge=1, description="longer descriptions are cut at a word boundary")
    shards: int | None = Field(None, ge=1, description="primary shards of a new index version (default: the mapping "
                               "file's 1); deploy/README.md sizes them")
    replicas: int | None = Field(None, ge=0, description="replicas of a new index version (default: the mapping "
                                 "file's 0, for one node); dropped to 0 during a full load and restored after")
    merge_segments: int = Field(1, ge=0, description="a new version is force-merged to at most this many segments "
                                "before it serves: each segment is one more HNSW graph every k-NN query walks (0: "
                                "leave merging to Lucene)")
    vectors: VectorSettings = VectorSettings()
    centring: CentringSettings = CentringSettings()
    hubness: HubnessSettings = HubnessSettings()
    promotion: PromotionSettings = PromotionSettings()
