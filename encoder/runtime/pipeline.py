"""Texts to vectors around any forward pass: prefixes, tokenisation, batching, order.

The forward pass (onnxruntime or PyTorch) is a function of padded token arrays
returning pooled, normalised rows. Everything else — the model's query and
passage prefixes, explicit handling of empty and over-long texts, tokenising
the next chunk on a background thread while the current one runs, and putting
rows back in input order — lives here once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tokenizers import Encoding, Tokenizer

from lingodex.encoder.runtime.batching import length_sorted_batches, pad_batch
from lingodex.encoder.errors import EncoderError
from lingodex.encoder.profile import ModelProfile

ForwardPass = Callable[[np.ndarray, np.ndarray], np.ndarray]
CHUNK_TEXTS = 4096  # texts tokenised ahead while the previous chunk is in the model


class EmptyTextError(EncoderError, ValueError):
    """Texts that are empty or only whitespace have no meaning to embed."""

    def __init__(self, positions: list[int]) -> None:
        self.positions = positions
        super().__init__(f"{len(positions)} text(s) are empty or whitespace-only, at positions {positions[:10]}")


@dataclass
class EncodeStats:
    texts: int = 0
    tokens: int = 0
    padded_tokens: int = 0
    truncated: int = 0


class EncodingPipeline:
    def __init__(self, profile: ModelProfile, tokenizer_file: Path, forward: ForwardPass, token_budget: int = 16384,
                 *, equal_lengths: bool = False) -> None:
        self.profile = profile
        self.forward = forward
        self.token_budget = token_budget
        self.equal_lengths = equal_lengths
        self.tokenizer = Tokenizer.from_file(str(tokenizer_file))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length=profile.max_tokens)
        self.pad_id = self.tokenizer.token_to_id("<pad>") or 0
        self.stats = EncodeStats()
        self._tokenizer_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tokenize")

    def encode(self, texts: Sequence[str], prefix: str) -> np.ndarray:
        """(len(texts), dimension) float32 rows in input order."""
        empty = [i for i, text in enumerate(texts) if not text or not text.strip()]
        if empty:
            raise EmptyTextError(empty)
        out = np.empty((len(texts), self.profile.dimension), dtype=np.float32)
        for rows, input_ids, mask in self.prepared_batches(texts, prefix):
            out[rows] = self.forward(input_ids, mask)
        return out

    def prepared_batches(self, texts: Sequence[str], prefix: str) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Padded batches; chunk k+1 is tokenised and padded on the background thread while chunk k runs."""
        starts = range(0, len(texts), CHUNK_TEXTS)
        if not starts:
            return
        pending = self._tokenizer_thread.submit(self._prepare_chunk, texts, prefix, starts[0])
        for index in range(len(starts)):
            batches = pending.result()
            if index + 1 < len(starts):
                pending = self._tokenizer_thread.submit(self._prepare_chunk, texts, prefix, starts[index + 1])
            yield from batches

    def _prepare_chunk(self, texts: Sequence[str], prefix: str, start: int) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        encodings: list[Encoding] = self.tokenizer.encode_batch(
            [prefix + text for text in texts[start : start + CHUNK_TEXTS]], add_special_tokens=True)
        lengths = [len(encoding.ids) for encoding in encodings]
        self.stats.texts += len(encodings)
        self.stats.tokens += sum(lengths)
        self.stats.truncated += sum(1 for encoding in encodings if encoding.overflowing)
        batches = []
        for rows in length_sorted_batches(lengths, self.token_budget, equal_lengths=self.equal_lengths):
            input_ids, mask = pad_batch([encodings[i].ids for i in rows], self.pad_id)
            self.stats.padded_tokens += input_ids.size
            batches.append((rows + start, input_ids, mask))
        return batches
