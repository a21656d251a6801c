"""Cut tokenised texts into batches by padded-token budget, shortest first.

Sorting by length keeps padding low (a batch pads to its longest member);
cutting by batch_size x longest keeps every batch's work, and its memory,
near the budget whatever the mix of short titles and long descriptions.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np


def length_sorted_batches(lengths: Sequence[int], token_budget: int, max_batch: int = 1024, *,
                          equal_lengths: bool = False) -> Iterator[np.ndarray]:
    """Index arrays into ``lengths``; each batch's padded size stays within the budget.

    A single text longer than the budget still gets a batch of its own. With
    ``equal_lengths`` a batch also ends where the length changes, so no batch
    has padding: on a CPU, attention then runs without a mask
    (encoder/export/unpadded_attention.py), at the cost of smaller batches.
    """
    order = np.argsort(np.asarray(lengths), kind="stable")
    start = 0
    while start < len(order):
        end = start + 1
        while end < len(order) and end - start < max_batch:
            longest = lengths[order[end]]  # sorted ascending: the newcomer is the longest
            if (end - start + 1) * longest > token_budget or (equal_lengths and longest != lengths[order[start]]):
                break
            end += 1
        yield order[start:end]
        start = end


def pad_batch(token_ids: Sequence[Sequence[int]], pad_id: int) -> tuple[np.ndarray, np.ndarray]:
    """Right-pad to the longest: (input_ids, attention_mask), both int64, without a Python loop per token."""
    lengths = np.fromiter((len(ids) for ids in token_ids), dtype=np.int64, count=len(token_ids))
    mask = (np.arange(lengths.max()) < lengths[:, None]).astype(np.int64)
    input_ids = np.full(mask.shape, pad_id, dtype=np.int64)
    input_ids[mask.astype(bool)] = np.fromiter((t for ids in token_ids for t in ids), dtype=np.int64, count=int(lengths.sum()))
    return input_ids, mask
