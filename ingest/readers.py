"""Stream catalog files record by record: JSON Lines, CSV and Parquet, never loaded whole.

Each record carries its position (line, CSV row or Parquet row, 1-based) so that
a rejection can name it. A line that is not valid UTF-8 or not a JSON object is
yielded as an error record, not raised: one bad line never stops the rest.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

Format = Literal["jsonl", "csv", "parquet"]
SUFFIXES: dict[str, Format] = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv",
                               ".parquet": "parquet", ".pq": "parquet"}
RAW_TEXT_LIMIT = 10_000  # characters of an unparseable line kept for the dead-letter file


@dataclass(frozen=True)
class SourceRecord:
    position: int
    fields: dict[str, Any] | None  # None when the record could not be parsed
    error: str | None = None
    raw: str | None = None  # the unparseable text, for the dead-letter file
    stage: str = "read"  # the stage an unparsed record is rejected at


def detect_format(path: Path) -> Format:
    if path.suffix.lower() in SUFFIXES:
        return SUFFIXES[path.suffix.lower()]
    raise ValueError(f"cannot tell the format of {path} from its name; pass --format jsonl|csv|parquet")


def read_records(path: Path, fmt: Format | None = None) -> Iterator[SourceRecord]:
    fmt = fmt or detect_format(path)
    reader = {"jsonl": _jsonl, "csv": _csv, "parquet": _parquet}[fmt]
    yield from reader(path)


def _jsonl(path: Path) -> Iterator[SourceRecord]:
    with path.open("rb") as handle:
        for position, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            yield parse_json_line(position, line)


def parse_json_line(position: int, line: bytes) -> SourceRecord:
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as error:
        return SourceRecord(position, None, f"invalid UTF-8 at byte offset {error.start}",
                            line.decode("utf-8", "replace")[:RAW_TEXT_LIMIT])
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        return SourceRecord(position, None, f"malformed JSON: {error.msg} at column {error.colno}", text[:RAW_TEXT_LIMIT])
    if not isinstance(value, dict):
        return SourceRecord(position, None, f"expected a JSON object, got {type(value).__name__}", text[:RAW_TEXT_LIMIT])
    return SourceRecord(position, value)


def _csv(path: Path) -> Iterator[SourceRecord]:
    # surrogateescape keeps invalid bytes visible per row instead of failing the whole file
    with path.open("r", encoding="utf-8", errors="surrogateescape", newline="") as handle:
        rows = csv.DictReader(handle)
        for row in rows:
            position = rows.line_num
            bad = [key for key, value in row.items() if _has_surrogates(key) or _has_surrogates(value)]
            if bad:
                raw = json.dumps(row, ensure_ascii=False, default=str).encode("utf-8", "replace").decode()
                yield SourceRecord(position, None, f"invalid UTF-8 in column(s) {bad}", raw[:RAW_TEXT_LIMIT])
            elif None in row:
                yield SourceRecord(position, None, f"row has {len(row[None])} more value(s) than the header",
                                   json.dumps(row, ensure_ascii=False, default=str)[:RAW_TEXT_LIMIT])
            else:
                yield SourceRecord(position, dict(row))


def _has_surrogates(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _parquet(path: Path, batch_rows: int = 4096) -> Iterator[SourceRecord]:
    import pyarrow.parquet as pq

    position = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=batch_rows):
        for row in batch.to_pylist():
            position += 1
            yield SourceRecord(position, row)
