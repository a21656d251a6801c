"""The Encoder API: order, empty and over-long texts, providers."""

import numpy as np
import pytest

from lingodex.encoder.runtime.ort_session import cuda_available
from lingodex.encoder.runtime.pipeline import EmptyTextError


def test_rows_come_back_in_input_order_for_shuffled_lengths(fp32_encoder, mini_tatoeba) -> None:
    texts = [s.text for s in mini_tatoeba]
    texts += [" ".join(texts[i : i + 6]) for i in range(0, len(texts), 6)]  # long ones in between
    order = np.random.default_rng(7).permutation(len(texts))
    together = fp32_encoder.encode_passages([texts[i] for i in order])
    one_by_one = np.stack([fp32_encoder.encode_passages([texts[i]])[0] for i in order])
    assert np.abs(together - one_by_one).max() < 1e-5


def test_vectors_are_unit_length_float32(fp32_encoder) -> None:
    vectors = fp32_encoder.encode_queries(["wireless headphones", "무선 헤드폰"])
    assert vectors.dtype == np.float32 and vectors.shape == (2, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_empty_and_whitespace_only_texts_are_rejected_with_their_positions(fp32_encoder) -> None:
    with pytest.raises(EmptyTextError) as raised:
        fp32_encoder.encode_passages(["ok", "", "   \t", "fine"])
    assert raised.value.positions == [1, 2]


def test_an_over_long_text_is_truncated_to_max_tokens_and_counted(fp32_encoder, profile) -> None:
    before = fp32_encoder.stats.truncated
    vector = fp32_encoder.encode_passages(["stainless steel bottle " * 2000])
    assert fp32_encoder.stats.truncated == before + 1
    assert np.isfinite(vector).all()


@pytest.mark.skipif(not cuda_available(), reason="onnxruntime here has no CUDAExecutionProvider (CPU machine); "
                    "the CUDA path is measured on the lent H100, see BENCHMARKS.md")
def test_cuda_session_with_io_binding_matches_cpu(profile, fp32_dir, fp32_encoder) -> None:
    from lingodex.encoder.runtime.onnx_encoder import OnnxEncoder

    cuda = OnnxEncoder(profile, fp32_dir, provider="cuda")
    texts = ["wireless headphones", "ステンレス 水筒"]
    assert np.abs(cuda.encode_passages(texts) - fp32_encoder.encode_passages(texts)).max() < 1e-3
