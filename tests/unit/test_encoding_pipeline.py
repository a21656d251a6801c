"""The pipeline around a forward pass, with a stub forward pass that reports what it saw."""

from pathlib import Path

import numpy as np
import pytest
from tokenizers import Tokenizer, models, pre_tokenizers

from lingodex.encoder.runtime.pipeline import EmptyTextError, EncodingPipeline
from lingodex.encoder.profile import ModelProfile

PROFILE = ModelProfile(name="stub", source="-", pooling="mean", query_prefix="q ", passage_prefix="p ",
                       max_tokens=8, dimension=2)


@pytest.fixture
def tokenizer_file(tmp_path: Path) -> Path:
    vocab = {"<pad>": 0, "<unk>": 1, **{w: i + 2 for i, w in enumerate("p q a b c d e f g h".split())}}
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.save(str(tmp_path / "tokenizer.json"))
    return tmp_path / "tokenizer.json"


def length_and_first_word(input_ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Row i: (number of tokens, id of the first word after the prefix)."""
    return np.stack([mask.sum(1), input_ids[:, 1]], axis=1).astype(np.float32)


def test_rows_return_in_input_order_whatever_the_batching(tokenizer_file: Path) -> None:
    texts = ["a b c d", "b", "c c", "d e f g h", "e"]
    pipeline = EncodingPipeline(PROFILE, tokenizer_file, length_and_first_word, token_budget=4)
    rows = pipeline.encode(texts, PROFILE.passage_prefix)
    assert rows[:, 0].tolist() == [5, 2, 3, 6, 2]
    assert rows[:, 1].tolist() == [4, 5, 6, 7, 8]


def test_the_prefix_is_prepended(tokenizer_file: Path) -> None:
    pipeline = EncodingPipeline(PROFILE, tokenizer_file, lambda ids, mask: ids[:, :2].astype(np.float32))
    assert pipeline.encode(["a"], PROFILE.query_prefix).tolist() == [[3, 4]]


def test_texts_over_max_tokens_are_cut_and_counted(tokenizer_file: Path) -> None:
    pipeline = EncodingPipeline(PROFILE, tokenizer_file, length_and_first_word)
    rows = pipeline.encode(["a " * 20, "b"], PROFILE.passage_prefix)
    assert rows[:, 0].tolist() == [8, 2]
    assert pipeline.stats.truncated == 1


def test_empty_texts_are_refused_before_any_work(tokenizer_file: Path) -> None:
    pipeline = EncodingPipeline(PROFILE, tokenizer_file, lambda *_: pytest.fail("forward ran"))
    with pytest.raises(EmptyTextError) as raised:
        pipeline.encode(["a", " ", ""], PROFILE.passage_prefix)
    assert raised.value.positions == [1, 2]
