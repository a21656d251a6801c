"""Micro-batching: concurrent embed requests merged into one encoder call.

A server answering many small requests (a query or two each) would call the
encoder once per request, and a batch of one keeps the CPU or GPU mostly idle.
Requests that arrive within ``max_wait_s`` of the first one waiting are
merged, per role (query or passage: different prefixes), into one call; the
encoder then splits the merged texts into length-sorted batches by its own
token budget (runtime/batching.py). Each request gets back exactly its rows.

One thread runs the encoder, so calls never compete for the cores; callers
wait on a Future (``asyncio.wrap_future`` in an ASGI handler).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from lingodex.encoder.base import Encoder

Role = Literal["query", "passage"]


@dataclass(frozen=True)
class BatchStats:
    """One encoder call: how many texts and requests it merged, and how long they waited for it."""

    texts: int
    requests: int
    role: Role
    waits_s: tuple[float, ...]


@dataclass
class _Request:
    texts: Sequence[str]
    role: Role
    future: Future[np.ndarray] = field(default_factory=Future)
    arrived: float = field(default_factory=time.monotonic)


class MicroBatcher:
    """Merges concurrent ``submit`` calls into encoder calls of up to ``max_batch_texts`` texts."""

    def __init__(self, encoder: Encoder, *, max_wait_s: float = 0.005, max_batch_texts: int = 256,
                 on_batch: Callable[[BatchStats], None] = lambda stats: None) -> None:
        self.encoder = encoder
        self.max_wait_s, self.max_batch_texts, self.on_batch = max_wait_s, max_batch_texts, on_batch
        self._queue: queue.Queue[_Request | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="micro-batcher", daemon=True)
        self._thread.start()

    def submit(self, texts: Sequence[str], role: Role) -> Future[np.ndarray]:
        """A Future of the (len(texts), dimension) vectors; it holds the encoder's exception if the call failed."""
        request = _Request(list(texts), role)
        self._queue.put(request)
        return request.future

    def close(self, timeout_s: float = 30.0) -> None:
        """Finish what was submitted, then stop the thread."""
        self._queue.put(None)
        self._thread.join(timeout=timeout_s)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            pending, stop = self._gather(first)
            for role in ("query", "passage"):
                same = [request for request in pending if request.role == role]
                if same:
                    self._encode(same, role)
            if stop:
                return

    def _gather(self, first: _Request) -> tuple[list[_Request], bool]:
        """``first`` and whatever arrives within max_wait_s of it, up to max_batch_texts texts."""
        pending, count = [first], len(first.texts)
        deadline = time.monotonic() + self.max_wait_s
        while count < self.max_batch_texts:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                request = self._queue.get(timeout=remaining)
            except queue.Empty:
                break
            if request is None:
                return pending, True
            pending.append(request)
            count += len(request.texts)
        return pending, False

    def _encode(self, requests: list[_Request], role: Role) -> None:
        texts = [text for request in requests for text in request.texts]
        started = time.monotonic()
        try:
            encode = self.encoder.encode_queries if role == "query" else self.encoder.encode_passages
            vectors = encode(texts)
        except Exception as error:  # noqa: BLE001 - every waiting request gets the failure, the thread goes on
            for request in requests:
                request.future.set_exception(error)
            return
        start = 0
        for request in requests:
            request.future.set_result(vectors[start:start + len(request.texts)])
            start += len(request.texts)
        self.on_batch(BatchStats(len(texts), len(requests), role,
                                 tuple(started - request.arrived for request in requests)))
