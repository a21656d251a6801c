"""Catalog files are streamed record by record; unreadable records are reported, not raised."""

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lingodex.ingest.catalog.dead_letters import replay_records, write_dead_letters
from lingodex.ingest.catalog.readers import MAX_CSV_FIELD_CHARS, detect_format, read_records
from lingodex.ingest.catalog.validate import Rejection


def test_jsonl_records_carry_their_line_numbers_and_blank_lines_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text('{"id": 1}\n\n{"id": 2}\n')
    assert [(r.position, r.fields) for r in read_records(path)] == [(1, {"id": 1}), (3, {"id": 2})]


def test_malformed_json_is_an_error_record_and_reading_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text('{"id": 1\n{"id": 2}\n')
    first, second = read_records(path)
    assert first.fields is None and "malformed JSON" in first.error and first.raw == '{"id": 1\n'
    assert second.fields == {"id": 2}


def test_invalid_utf8_is_an_error_record_naming_the_byte(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_bytes(b'{"id": "\xff\xfe"}\n{"id": "ok"}\n')
    first, second = read_records(path)
    assert first.error == "invalid UTF-8 at byte offset 8"
    assert second.fields == {"id": "ok"}


def test_a_json_line_that_is_not_an_object_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text('{"id": 1}\n[1, 2]\n')
    assert list(read_records(path))[1].error == "expected a JSON object, got list"


def test_csv_rows_are_dicts_by_header_and_bad_bytes_reject_only_their_row(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes(b'id,title\n1,Kettle\n2,"bad \xff"\n3,Toaster\n')
    records = list(read_records(path))
    assert [r.fields for r in records if r.fields] == [{"id": "1", "title": "Kettle"}, {"id": "3", "title": "Toaster"}]
    assert records[1].error == "invalid UTF-8 in column(s) ['title']"


def test_parquet_is_read_in_row_batches(tmp_path: Path) -> None:
    path = tmp_path / "c.parquet"
    pq.write_table(pa.table({"id": ["a", "b", "c"], "price": [1.0, 2.0, None]}), path, row_group_size=2)
    assert [(r.position, r.fields["id"]) for r in read_records(path)] == [(1, "a"), (2, "b"), (3, "c")]


def test_unknown_file_types_ask_for_a_format() -> None:
    with pytest.raises(ValueError, match="--format"):
        detect_format(Path("catalog.xml"))


def test_dead_letters_replay_the_record_or_the_fixed_raw_text_at_the_original_position(tmp_path: Path) -> None:
    letters = tmp_path / "dl.jsonl"
    write_dead_letters(letters, "c.jsonl", "job1", [
        Rejection(7, "validate", "title: missing", field="title", record={"id": "x"}),
        Rejection(9, "read", "malformed JSON", raw='{"id": "y"'),
    ])
    lines = [json.loads(line) for line in letters.read_text().splitlines()]
    assert lines[0]["source"] == "c.jsonl" and lines[0]["reason"] == "title: missing"
    lines[1]["raw"] = '{"id": "y", "title": "fixed"}'  # what a user does before replaying
    letters.write_text("".join(json.dumps(line) + "\n" for line in lines))
    assert [(r.position, r.fields) for r in replay_records(letters)] == [(7, {"id": "x"}), (9, {"id": "y", "title": "fixed"})]


def test_a_duplicate_letter_is_replayed_as_a_rejection_unless_duplicates_are_let_through(tmp_path: Path) -> None:
    letters = tmp_path / "dl.jsonl"
    write_dead_letters(letters, "c.jsonl", "job1", [
        Rejection(9, "duplicate", "duplicate id 'a': first seen at position 1", record={"id": "a", "title": "v2"})])
    held = next(replay_records(letters))
    assert (held.fields, held.stage) == (None, "duplicate") and "--include-duplicates" in held.error
    assert next(replay_records(letters, include_duplicates=True)).fields == {"id": "a", "title": "v2"}


def test_an_invalid_utf8_letter_is_not_replayed_until_its_text_is_fixed(tmp_path: Path) -> None:
    letters = tmp_path / "dl.jsonl"
    write_dead_letters(letters, "c.jsonl", "job1", [
        Rejection(6, "read", "invalid UTF-8 at byte offset 3", raw='{"id": "caf\ufffd"}')])
    assert "fix the text" in next(replay_records(letters)).error


def test_a_byte_order_mark_does_not_stick_to_the_first_csv_column(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes(b"\xef\xbb\xbfid,title\n1,Kettle\n")
    assert [r.fields for r in read_records(path)] == [{"id": "1", "title": "Kettle"}]


def test_a_byte_order_mark_before_the_first_json_line_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"id": 1}\n')
    assert [r.fields for r in read_records(path)] == [{"id": 1}]


def test_a_csv_row_with_fewer_values_than_the_header_is_rejected_with_its_row(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("id,title,brand\n1,Kettle,Acme\n2,Toaster\n")
    first, second = read_records(path)
    assert first.fields == {"id": "1", "title": "Kettle", "brand": "Acme"}
    assert (second.position, second.fields, second.error) == (3, None, "row has 1 value(s) fewer than the header's 3 columns")


def test_a_csv_header_naming_a_column_twice_is_refused_before_any_row(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("id,title,title\n1,Kettle,Toaster\n")
    with pytest.raises(ValueError, match=r"\['title'\] more than once"):
        next(read_records(path))


def test_empty_and_whitespace_csv_cells_are_absent_fields(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("id,title,price,brand\n1,Kettle,  ,\n")
    assert next(read_records(path)).fields == {"id": "1", "title": "Kettle"}


@pytest.mark.parametrize("name", ["c.csv", "c.jsonl"])
def test_a_utf16_file_is_refused_with_what_to_do(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes('id,title\n1,Kettle\n'.encode("utf-16"))
    with pytest.raises(ValueError, match="UTF-16 or UTF-32 encoded.*iconv"):
        next(read_records(path))


def test_an_unclosed_csv_quote_rejects_its_row_and_the_rows_it_swallowed_are_read_again(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text('id,title\n1,Kettle\n2,"Toaster\n3,Lamp\n4,Fan\n')
    records = list(read_records(path))
    assert [(r.position, r.fields) for r in records if r.fields] == [(2, {"id": "1", "title": "Kettle"}),
                                                                      (4, {"id": "3", "title": "Lamp"}),
                                                                      (5, {"id": "4", "title": "Fan"})]
    assert records[1].position == 3 and records[1].error.startswith("unparseable CSV row (lines 3-5")
    assert records[1].raw == '2,"Toaster\n'


def test_a_csv_cell_over_the_field_limit_rejects_only_its_row(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text(f'id,title\n1,"{"x" * (MAX_CSV_FIELD_CHARS + 1)}"\n2,Kettle\n')
    big, kettle = read_records(path)
    assert "field larger than field limit" in big.error and kettle.fields == {"id": "2", "title": "Kettle"}


def test_a_multi_line_csv_cell_is_one_record_at_its_first_line(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text('id,description\n1,"two\nlines"\n2,one\n')
    assert [(r.position, r.fields["id"]) for r in read_records(path)] == [(2, "1"), (4, "2")]


def test_parquet_maps_become_objects(tmp_path: Path) -> None:
    path = tmp_path / "c.parquet"
    pq.write_table(pa.table({"id": ["a"], "attributes": pa.array([[("colour", "red")]], pa.map_(pa.string(), pa.string()))}),
                   path)
    assert next(read_records(path)).fields == {"id": "a", "attributes": {"colour": "red"}}


@pytest.mark.parametrize(("line", "reason"), [
    (r'{"id": "1", "title": "a\ud800"}', "title: holds a lone surrogate"),
    ('{"id": "1", "a": ' + "[" * 40 + "]" * 40 + "}", "nested deeper than 32 levels"),
    ('{"id": ' + "9" * 5000 + "}", "unreadable JSON value"),
], ids=["lone-surrogate", "too-deep", "huge-integer"])
def test_json_a_record_cannot_carry_is_an_error_record(tmp_path: Path, line: str, reason: str) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text(line + '\n{"id": "ok"}\n')
    bad, ok = read_records(path)
    assert bad.fields is None and reason in bad.error and ok.fields == {"id": "ok"}
