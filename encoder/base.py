"""The interface every encoder backend offers to workers and the query path."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Encoder(Protocol):
    """E5-style asymmetric encoder: queries and passages get different prefixes."""

    model_id: str
    dimension: int
    fingerprint: str  # content hash of the weights: equal fingerprints give comparable vectors
    export_id: str  # which graph/precision produced them (diagnostics only)

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), dimension) float32, rows L2-normalised, in input order."""
        ...

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Same contract as encode_passages, with the model's query prefix."""
        ...
