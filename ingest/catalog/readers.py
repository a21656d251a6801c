"""Stream catalog files record by record: JSON Lines, CSV and Parquet, never loaded whole.

Each record carries its position (line, CSV row's first line, or Parquet row, 1-based) so that
a rejection can name it. Whatever is wrong with one record (invalid UTF-8, malformed JSON,
a lone surrogate, nesting too deep, a line or CSV cell too large, an unclosed quote) is
yielded as an error record, not raised: one bad record never stops the rest. Only a file
that cannot be read as a whole (UTF-16, one big JSON array, a CSV header naming a column
twice) is refused before anything is loaded.

Limits, documented in README.md: a record of at most ``MAX_RECORD_BYTES``, nested at most
``MAX_NESTING`` levels, a CSV cell of at most ``MAX_CSV_FIELD_CHARS`` characters.
"""

from __future__ import annotations

import csv
import json
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal

Format = Literal["jsonl", "csv", "parquet"]
SUFFIXES: dict[str, Format] = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv",
                               ".parquet": "parquet", ".pq": "parquet"}
RAW_TEXT_LIMIT = 10_000  # characters of an unparseable record kept for the dead-letter file
MAX_RECORD_BYTES = 10 * 1024 * 1024  # one JSON line; a product is kilobytes, so more is a broken file
MAX_NESTING = 32  # levels of objects/arrays in one record; deeper is no catalog (and recursion trouble downstream)
MAX_CSV_FIELD_CHARS = 1024 * 1024  # one CSV cell (the csv module's own default, 131,072, cuts long HTML descriptions)
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
        for position, line in enumerate(_lines(handle, MAX_RECORD_BYTES), start=1):
            if position == 1 and line is not None:
                _refuse_other_encodings(path, line)
                line = line.removeprefix(BOM)  # editors on Windows start files with one
                _refuse_json_array(path, line)
            if line is None:
                yield SourceRecord(position, None, f"line is longer than {MAX_RECORD_BYTES:,} bytes, the most one "
                                                   "record may take; nothing of it was read")
            elif line.strip():
                yield parse_json_line(position, line)


def _lines(handle: IO[bytes], limit: int) -> Iterator[bytes | None]:
    """The file's lines; None for a line over ``limit`` bytes, which is skipped without holding it in memory."""
    while line := handle.readline(limit + 1):
        if len(line) <= limit or line.endswith(b"\n"):
            yield line
            continue
        while (rest := handle.readline(limit)) and not rest.endswith(b"\n"):
            pass
        yield None


def _refuse_other_encodings(path: Path, first_line: bytes) -> None:
    """UTF-16/32 files read as UTF-8 would reject every record one by one; say it once instead."""
    if (first_line.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in first_line[:64]):
        raise ValueError(f"{path} looks UTF-16 or UTF-32 encoded; lingodex reads UTF-8: convert it first "
                         "(e.g. `iconv -f UTF-16 -t UTF-8`)")


def _refuse_json_array(path: Path, first_line: bytes) -> None:
    """A .json export holding one array of products, read line by line, would be all errors; say it once instead.

    Refused when the first line opens an array that does not close on it (a pretty-printed array) or is an
    array of objects. Any other non-object line is one bad record like any other.
    """
    if not first_line.lstrip().startswith(b"["):
        return
    try:
        value = json.loads(first_line)
    except (ValueError, RecursionError):
        value = None
    if value is None or any(isinstance(item, dict) for item in value):
        target = f"{path.stem}.jsonl" if path.suffix.lower() != ".jsonl" else f"{path.stem}.lines.jsonl"
        raise ValueError(f"{path} holds one JSON array, but lingodex reads JSON Lines (one object per line); "
                         f"convert it first, e.g. `jq -c '.[]' {path.name} > {target}`")


def parse_json_line(position: int, line: bytes) -> SourceRecord:
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as error:
        return SourceRecord(position, None, f"invalid UTF-8 at byte offset {error.start}",
                            line.decode("utf-8", "replace")[:RAW_TEXT_LIMIT])
    raw = text[:RAW_TEXT_LIMIT]
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        return SourceRecord(position, None, f"malformed JSON: {error.msg} at column {error.colno}", raw)
    except RecursionError:
        return SourceRecord(position, None, f"nested deeper than {MAX_NESTING} levels", raw)
    except ValueError as error:  # e.g. an integer of more than 4,300 digits
        return SourceRecord(position, None, f"unreadable JSON value: {error}", raw)
    if not isinstance(value, dict):
        return SourceRecord(position, None, f"expected a JSON object, got {type(value).__name__}", raw)
    problem = structure_problem(value)
    if problem:
        return SourceRecord(position, None, problem, raw)
    return SourceRecord(position, value)


def structure_problem(record: dict[str, Any]) -> str | None:
    """Why a parsed record cannot travel on (too deep, text UTF-8 cannot encode), or None.

    Iterative, so that depth itself cannot exhaust the stack. A lone surrogate comes from a JSON escape
    such as \\ud800 with no partner; the record parses, but no UTF-8 document or message can carry it.
    """
    stack: list[tuple[Any, str, int]] = [(record, "", 0)]
    while stack:
        value, path, depth = stack.pop()
        if depth > MAX_NESTING:
            return f"{_short(path)}: nested deeper than {MAX_NESTING} levels"
        if isinstance(value, str):
            if _has_surrogates(value):
                return f"{path or 'record'}: holds a lone surrogate (a \\ud800-\\udfff escape without its pair), " \
                       "which is not text UTF-8 can encode"
        elif isinstance(value, dict):
            for key, item in value.items():
                child = f"{path}.{key}" if path else str(key)
                if _has_surrogates(key):
                    return f"{child.encode('utf-8', 'backslashreplace').decode()}: a field name holds a lone surrogate"
                stack.append((item, child, depth + 1))
        elif isinstance(value, list):
            stack.extend((item, f"{path}[{number}]", depth + 1) for number, item in enumerate(value))
    return None


def _short(path: str, limit: int = 60) -> str:
    return path if len(path) <= limit else f"{path[:limit]}..."


def _csv(path: Path) -> Iterator[SourceRecord]:
    """Rows by header; a row with too many or too few values is rejected; an empty cell is an absent field.

    utf-8-sig drops a leading byte-order mark (else it would stick to the first column's name and every row
    would lack that field); surrogateescape keeps invalid bytes visible per row instead of failing the file.
    """
    with path.open("rb") as probe:
        _refuse_other_encodings(path, probe.readline())
    with path.open("r", encoding="utf-8-sig", errors="surrogateescape", newline="") as handle:
        rows = _csv_rows(handle)
        first = next(rows, None)
        if first is None or first[1] is None:  # empty, or a header that is not CSV
            return
        header = first[1]
        repeated = sorted({name for name in header if header.count(name) > 1})
        if repeated:
            raise ValueError(f"{path}: the header names column(s) {repeated} more than once; which value is meant "
                             "is ambiguous, so nothing was loaded. Rename the columns.")
        for position, values, problem, raw in rows:
            yield _csv_record(position, header, values, problem, raw)


def _csv_record(position: int, header: list[str], values: list[str] | None, problem: str, raw: str) -> SourceRecord:
    if values is None:
        return SourceRecord(position, None, problem, raw.encode("utf-8", "replace").decode()[:RAW_TEXT_LIMIT])
    row: dict[Any, Any] = dict(zip(header, values, strict=False))
    if len(values) > len(header):
        row[None] = values[len(header):]
    bad = [key for key, value in row.items() if _has_surrogates(key) or _has_surrogates(value)]
    if bad:
        return SourceRecord(position, None, f"invalid UTF-8 in column(s) {bad}", raw_text(row))
    if len(values) > len(header):
        return SourceRecord(position, None, f"row has {len(values) - len(header)} more value(s) than the header",
                            raw_text(row))
    if len(values) < len(header):
        return SourceRecord(position, None, f"row has {len(header) - len(values)} value(s) fewer than the header's "
                                            f"{len(header)} columns", raw_text(row))
    return SourceRecord(position, {key: value for key, value in row.items() if value.strip()})


def _csv_rows(handle: IO[str]) -> Iterator[tuple[int, list[str] | None, str, str]]:
    """(first line number, values or None, problem, raw first line) per CSV record, the header first.

    Strict parsing, so that an unclosed or stray quote is an error instead of silently swallowing the
    following rows into one cell. The record that failed is reported at its first line, and the lines
    it had swallowed are read again as rows of their own: every row of the file is accounted for.
    """
    csv.field_size_limit(MAX_CSV_FIELD_CHARS)
    lines = _ReplayableLines(handle)
    reader = csv.reader(lines, strict=True)
    while True:
        lines.start_record()
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            consumed = lines.consumed
            if not consumed:
                return
            yield consumed[0][0], None, _csv_problem(error, consumed), consumed[0][1]
            lines.replay(consumed[1:])
            continue
        if lines.consumed:
            yield lines.consumed[0][0], values, "", ""


def _csv_problem(error: csv.Error, consumed: list[tuple[int, str]]) -> str:
    first, last = consumed[0][0], consumed[-1][0]
    span = f"line {first}" if first == last else f"lines {first}-{last}; the lines after its first are read again"
    return f"unparseable CSV row ({span}): {error} (an unclosed or stray quote?)"


class _ReplayableLines:
    """Physical lines with their numbers, remembering those of the current record so they can be read again."""

    def __init__(self, handle: IO[str]) -> None:
        self._numbered = enumerate(handle, start=1)
        self._again: deque[tuple[int, str]] = deque()
        self.consumed: list[tuple[int, str]] = []

    def __iter__(self) -> _ReplayableLines:
        return self

    def __next__(self) -> str:
        line = self._again.popleft() if self._again else next(self._numbered)
        self.consumed.append(line)
        return line[1]

    def start_record(self) -> None:
        self.consumed = []

    def replay(self, lines: list[tuple[int, str]]) -> None:
        self._again.extendleft(reversed(lines))


def raw_text(record: dict[Any, Any]) -> str:
    """A rejected record as JSON text for its dead letter (invalid bytes replaced, cut to RAW_TEXT_LIMIT)."""
    return json.dumps(record, ensure_ascii=False, default=str).encode("utf-8", "replace").decode()[:RAW_TEXT_LIMIT]


def _has_surrogates(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _parquet(path: Path, batch_rows: int = 4096) -> Iterator[SourceRecord]:
    """Rows as dicts; a map column becomes a dict (a repeated key keeps its last value), a struct a dict."""
    import pyarrow.parquet as pq

    position = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=batch_rows):
        for row in batch.to_pylist(maps_as_pydicts="lossy"):
            position += 1
            yield SourceRecord(position, row)


def count_records(path: Path, fmt: Format | None = None) -> int:
    """About how many records the file holds, for progress and ETA: one pass over its bytes, no parsing.

    Lines for JSON Lines and CSV (minus the header; a cell spanning lines makes it an overestimate), the row
    count from the footer for Parquet.
    """
    fmt = fmt or detect_format(path)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return pq.ParquetFile(path).metadata.num_rows
    lines, last = 0, b"\n"
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    lines += last != b"\n"  # a last line without its newline
    return max(0, lines - (fmt == "csv"))
