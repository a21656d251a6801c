"""Concurrent embed requests merged into encoder calls: each request gets exactly its own rows back."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np
import pytest

from lingodex.encoder.runtime.micro_batching import BatchStats, MicroBatcher


class RecordingEncoder:
    """Vectors that name their text (its length and role), and a log of every call; slow enough to queue behind."""

    model_id, dimension, fingerprint, export_id = "recording", 2, "none", "none"

    def __init__(self, delay_s: float = 0.0) -> None:
        self.calls: list[tuple[str, list[str]]] = []
        self.delay = threading.Event()
        self.delay_s = delay_s

    def _encode(self, role: str, texts: Sequence[str]) -> np.ndarray:
        self.calls.append((role, list(texts)))
        self.delay.wait(self.delay_s)
        if any(text == "boom" for text in texts):
            raise RuntimeError("the model failed")
        return np.array([[len(text), 1.0 if role == "query" else 2.0] for text in texts], dtype=np.float32)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode("query", texts)

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode("passage", texts)


def test_requests_arriving_together_share_one_encoder_call_and_get_their_own_rows() -> None:
    encoder, batches = RecordingEncoder(), []
    batcher = MicroBatcher(encoder, max_wait_s=0.2, on_batch=batches.append)
    futures = [batcher.submit(["x" * n, "y" * (n + 10)], "query") for n in range(1, 6)]
    results = [future.result(timeout=5) for future in futures]
    batcher.close()
    assert len(encoder.calls) == 1 and len(encoder.calls[0][1]) == 10
    for n, rows in enumerate(results, start=1):
        assert rows[:, 0].tolist() == [n, n + 10]
    assert batches == [BatchStats(10, 5, "query", batches[0].waits_s)] and len(batches[0].waits_s) == 5


def test_queries_and_passages_are_never_encoded_in_the_same_call() -> None:
    encoder = RecordingEncoder()
    batcher = MicroBatcher(encoder, max_wait_s=0.2)
    query, passage = batcher.submit(["a"], "query"), batcher.submit(["b"], "passage")
    assert (query.result(timeout=5)[0, 1], passage.result(timeout=5)[0, 1]) == (1.0, 2.0)
    batcher.close()
    assert sorted(role for role, _ in encoder.calls) == ["passage", "query"]


def test_a_batch_stops_growing_at_max_batch_texts() -> None:
    encoder = RecordingEncoder()
    batcher = MicroBatcher(encoder, max_wait_s=0.5, max_batch_texts=4)
    futures = [batcher.submit(["t", "u"], "query") for _ in range(4)]
    for future in futures:
        future.result(timeout=5)
    batcher.close()
    assert [len(texts) for _, texts in encoder.calls] == [4, 4]


def test_a_failing_call_fails_its_requests_and_the_batcher_goes_on() -> None:
    encoder = RecordingEncoder()
    batcher = MicroBatcher(encoder, max_wait_s=0.0)
    with pytest.raises(RuntimeError, match="the model failed"):
        batcher.submit(["boom"], "query").result(timeout=5)
    assert batcher.submit(["fine"], "query").result(timeout=5)[0, 0] == 4
    batcher.close()


def test_close_finishes_what_was_submitted() -> None:
    encoder = RecordingEncoder(delay_s=0.05)
    batcher = MicroBatcher(encoder, max_wait_s=0.0)
    futures = [batcher.submit([str(i)], "passage") for i in range(5)]
    batcher.close()
    assert all(future.done() and not future.exception() for future in futures)
