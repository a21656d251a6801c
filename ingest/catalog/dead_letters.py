"""Rejected records, one JSON object per line, that `lingodex replay` can re-submit after a fix.

Each letter names the source file, the record's position in it, the stage that
rejected it, the field and the reason, and carries the record itself (or the
raw text when it could not be parsed) so that fixing the letter file in place
and replaying it is enough.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict
from pathlib import Path

from lingodex.ingest.catalog.readers import RAW_TEXT_LIMIT, SourceRecord, parse_json_line
from lingodex.ingest.catalog.validate import Rejection


def write_dead_letters(path: Path, source: str, job_id: str, rejections: Iterable[Rejection]) -> int:
    """Append ``rejections``; a job without any leaves no file behind."""
    rejections = list(rejections)
    if not rejections:
        return 0
    written = 0
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        for rejection in rejections:
            handle.write(json.dumps({"source": source, "job": job_id, **asdict(rejection)}, ensure_ascii=False) + "\n")
            written += 1
    return written


def dead_letter_source(path: Path) -> str | None:
    """The catalog file the letters came from (their first line says)."""
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                return json.loads(line).get("source")
    return None


def replay_records(path: Path, *, include_duplicates: bool = False) -> Iterator[SourceRecord]:
    """The letters as source records at their original positions; a fixed ``raw`` is parsed again.

    A duplicate-id letter would overwrite the record that was kept, so it is
    rejected again unless ``include_duplicates`` says that the later record wins.
    """
    with path.open(encoding="utf-8") as handle:
        for line_number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            letter = json.loads(line)
            position = int(letter.get("position") or line_number)
            if letter.get("stage") == "duplicate" and not include_duplicates:
                record = letter.get("record") or json.loads(letter.get("raw") or "null")
                yield SourceRecord(position, None, f"{letter['reason']}; replay with --include-duplicates to let it "
                                   "replace that record", json.dumps(record, ensure_ascii=False), stage="duplicate")
            elif letter["reason"].startswith("invalid UTF-8") and "\ufffd" in (letter.get("raw") or ""):
                yield SourceRecord(position, None, f"{letter['reason']}: U+FFFD still marks the undecodable bytes; "
                                   "fix the text before replaying", letter.get("raw"))
            elif letter.get("stage") == "duplicate" and letter.get("record") is None:
                yield parse_json_line(position, (letter.get("raw") or "").encode("utf-8"))
            elif letter.get("record") is not None:
                yield SourceRecord(position, letter["record"])
            else:
                yield parse_json_line(position, (letter.get("raw") or "")[:RAW_TEXT_LIMIT].encode("utf-8"))
