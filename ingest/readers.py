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
BOM = b"\xef\xbb\xbf"


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
            if position == 1:
                _refuse_other_encodings(path, line)
                line = line.removeprefix(BOM)  # editors on Windows start files with one
            if not line.strip():
                continue
            yield parse_json_line(position, line)


def _refuse_other_encodings(path: Path, first_line: bytes) -> None:
    """UTF-16/32 files read as UTF-8 would reject every record one by one; say it once instead."""
    if first_line.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in first_line[:64]:
        raise ValueError(f"{path} looks UTF-16 or UTF-32 encoded; lingodex reads UTF-8: convert it first "
                         "(e.g. `iconv -f UTF-16 -t UTF-8`)")


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
    """Rows by header; a row with too many or too few values is rejected; an empty cell is an absent field.

    utf-8-sig drops a leading byte-order mark (else it would stick to the first column's name and every row
    would lack that field); surrogateescape keeps invalid bytes visible per row instead of failing the file.
    """
    with path.open("rb") as probe:
        _refuse_other_encodings(path, probe.readline())
    with path.open("r", encoding="utf-8-sig", errors="surrogateescape", newline="") as handle:
        rows = csv.DictReader(handle)
        header = rows.fieldnames or []
        repeated = sorted({name for name in header if header.count(name) > 1})
        if repeated:
            raise ValueError(f"{path}: the header names column(s) {repeated} more than once; which value is meant "
                             "is ambiguous, so nothing was loaded. Rename the columns.")
        for row in rows:
            position = rows.line_num
            bad = [key for key, value in row.items() if _has_surrogates(key) or _has_surrogates(value)]
            missing = sum(value is None for value in row.values())
            if bad:
                yield SourceRecord(position, None, f"invalid UTF-8 in column(s) {bad}", _raw_row(row))
            elif None in row:
                yield SourceRecord(position, None, f"row has {len(row[None])} more value(s) than the header",
                                   _raw_row(row))
            elif missing:
                yield SourceRecord(position, None, f"row has {missing} value(s) fewer than the header's "
                                                   f"{len(header)} columns", _raw_row(row))
            else:
                yield SourceRecord(position, {key: value for key, value in row.items() if value.strip()})


def _raw_row(row: dict[Any, Any]) -> str:
    """A rejected CSV row as JSON text for its dead letter (invalid bytes replaced)."""
    return json.dumps(row, ensure_ascii=False, default=str).encode("utf-8", "replace").decode()[:RAW_TEXT_LIMIT]


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
