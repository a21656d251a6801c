"""Token-budget batching and padding."""

import numpy as np

from lingodex.encoder.runtime.batching import length_sorted_batches, pad_batch


def test_every_text_is_in_exactly_one_batch() -> None:
    lengths = [5, 40, 3, 17, 17, 200, 9]
    batches = list(length_sorted_batches(lengths, token_budget=64))
    assert sorted(np.concatenate(batches).tolist()) == list(range(len(lengths)))


def test_padded_size_of_a_batch_stays_within_the_budget() -> None:
    lengths = np.random.default_rng(0).integers(4, 120, size=500).tolist()
    for batch in length_sorted_batches(lengths, token_budget=1024):
        assert len(batch) == 1 or len(batch) * max(lengths[i] for i in batch) <= 1024


def test_a_text_longer_than_the_budget_gets_a_batch_of_its_own() -> None:
    assert [b.tolist() for b in length_sorted_batches([10, 500], token_budget=100)] == [[0], [1]]


def test_batches_hold_texts_of_similar_length() -> None:
    batches = list(length_sorted_batches([30, 2, 31, 3], token_budget=70))
    assert [sorted(b.tolist()) for b in batches] == [[1, 3], [0, 2]]


def test_equal_length_batches_never_pad_and_keep_every_text_within_the_budget() -> None:
    lengths = np.random.default_rng(1).integers(4, 60, size=400).tolist()
    batches = list(length_sorted_batches(lengths, token_budget=256, equal_lengths=True))
    assert sorted(np.concatenate(batches).tolist()) == list(range(len(lengths)))
    assert all(len({lengths[i] for i in batch}) == 1 for batch in batches)
    assert all(len(batch) * lengths[batch[0]] <= 256 for batch in batches)


def test_padding_fills_with_the_pad_id_and_masks_it_out() -> None:
    ids, mask = pad_batch([[5, 6, 7], [8]], pad_id=1)
    assert ids.tolist() == [[5, 6, 7], [8, 1, 1]]
    assert mask.tolist() == [[1, 1, 1], [1, 0, 0]]
    assert ids.dtype == mask.dtype == np.int64
