"""Property: whatever a catalog file holds, reading, validating and building documents never raises.

Every record read comes out accepted (a document that UTF-8, JSON and the task message can carry) or
rejected with a reason; none ends in the validator's safety net ("could not be checked"), which
would mean an unforeseen failure. Values are arbitrary JSON with arbitrary Unicode (lone surrogates,
controls, invisibles), nesting up to 10,000 levels and texts up to 10 MB.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from lingodex.ingest.index.documents import PreparedRecord, to_document
from lingodex.ingest.catalog.field_mapping import FieldMapping
from lingodex.ingest.catalog.language import LanguageDetector
from lingodex.ingest.catalog.readers import MAX_RECORD_BYTES, read_records
from lingodex.ingest.catalog.schema import CatalogProduct
from lingodex.ingest.catalog.validate import RecordValidator, Rejection

ANY_CHARACTER = st.characters(exclude_categories=())  # surrogates, controls and format characters included
TEXT = st.text(ANY_CHARACTER, max_size=40) | st.sampled_from(["", " ", "\u200b\u200f", "<b>x</b>", "pt-BR", "en", "NaN"])
SCALAR = st.none() | st.booleans() | st.integers() | st.floats() | TEXT
JSON_VALUE = st.recursive(SCALAR, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
                          max_leaves=20)
FIELD_NAME = st.sampled_from(sorted(CatalogProduct.model_fields)) | TEXT
LANGUAGE_TAG = st.sampled_from(["en", "de", "pt-BR", "pt", "zh-Hans", "zh-Hant", "xx", "en_US"])
TITLE = TEXT | st.dictionaries(LANGUAGE_TAG | TEXT, TEXT | JSON_VALUE, max_size=3) | JSON_VALUE
RECORD = st.fixed_dictionaries({"id": st.text(ANY_CHARACTER, max_size=300) | st.integers() | JSON_VALUE,
                                "title": TITLE}, optional={"description": TITLE, "attributes": JSON_VALUE,
                                                           "price": SCALAR, "lang": TEXT | LANGUAGE_TAG}) \
    .flatmap(lambda record: st.dictionaries(FIELD_NAME, JSON_VALUE, max_size=4).map(lambda extra: {**extra, **record}))


def _nest(value: Any, depth: int, *, as_list: bool) -> Any:
    for _ in range(depth):
        value = [value] if as_list else {"k": value}
    return value


@st.composite
def large(draw: st.DrawFn) -> dict[str, Any]:
    """A record with one field of up to 10 MB of one drawn character."""
    size, character = draw(st.integers(0, 10_000_000)), draw(ANY_CHARACTER)
    return {"id": "large", "title": "Kettle", draw(st.sampled_from(["title", "description", "brand", "other"])):
            character * (size // max(1, len(character.encode("utf-8", "surrogatepass"))))}


@pytest.fixture(scope="module")
def validator() -> RecordValidator:
    return RecordValidator(FieldMapping(), LanguageDetector(["en", "de", "ja", "id"], 0.5), max_description_chars=5000)


def outcomes(path: Path, validator: RecordValidator) -> list[PreparedRecord | Rejection]:
    results = [validator.check(source) for source in read_records(path)]
    for result in results:
        if isinstance(result, PreparedRecord):
            json.dumps(to_document(result, [0.1, 0.2], ["en", "de"]), ensure_ascii=False).encode("utf-8")
            result.model_dump_json().encode("utf-8")  # the task message
        else:
            assert result.reason and "could not be checked" not in result.reason, result.reason
    return results


def write_lines(tmp_path: Path, records: list[Any]) -> Path:
    path = tmp_path / "catalog.jsonl"
    path.write_text("".join(json.dumps(record) + "\n" for record in records))  # ensure_ascii: surrogates as \ud800
    return path


PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                             HealthCheck.too_slow,
                                                                             HealthCheck.data_too_large])


@PROPERTY
@given(records=st.lists(RECORD | JSON_VALUE, min_size=1, max_size=5))
def test_arbitrary_json_lines_are_each_accepted_or_rejected_with_a_reason(
        records: list[Any], validator: RecordValidator, tmp_path: Path) -> None:
    validator._first_seen.clear()
    assume(not (isinstance(records[0], list) and any(isinstance(item, dict) for item in records[0])))  # refused: below
    assert len(outcomes(write_lines(tmp_path, records), validator)) == len(records)


def test_a_file_holding_one_json_array_of_products_is_refused_with_the_command_to_convert_it(tmp_path: Path) -> None:
    path = tmp_path / "catalog.json"
    path.write_text('[\n  {"id": "1", "title": "Kettle"},\n  {"id": "2", "title": "Toaster"}\n]\n')
    with pytest.raises(ValueError, match=r"one JSON array.*jq -c '\.\[\]' catalog.json > catalog.jsonl"):
        list(read_records(path))


@settings(PROPERTY, max_examples=25)
@example(depth=10_000, as_list=False, field="attributes", leaf=1)
@example(depth=10_000, as_list=True, field="title", leaf="Kettle")
@given(depth=st.integers(0, 10_000), as_list=st.booleans(), field=FIELD_NAME, leaf=SCALAR)
def test_nesting_up_to_ten_thousand_levels_is_a_rejection_not_a_crash(
        depth: int, as_list: bool, field: str, leaf: Any, validator: RecordValidator, tmp_path: Path) -> None:
    """(The record is built here: hypothesis would print a 10,000-level value recursively.)"""
    validator._first_seen.clear()
    path = tmp_path / "deep.jsonl"
    record = {"id": "deep", "title": "Kettle", field: _nest(leaf, depth, as_list=as_list)}
    path.write_text(_nested_json(record) + "\n")
    assert len(outcomes(path, validator)) == 1


@settings(PROPERTY, max_examples=12)
@example(record={"id": "large", "title": "Kettle", "description": "<p>Steel</p> " * 800_000})
@example(record={"id": "large", "title": "Kettle", "brand": "\ud800" * 1_500_000})
@given(record=large())
def test_texts_up_to_ten_megabytes_are_accepted_or_rejected_with_a_reason(
        record: dict[str, Any], validator: RecordValidator, tmp_path: Path) -> None:
    validator._first_seen.clear()
    assert len(outcomes(write_lines(tmp_path, [record]), validator)) == 1


@PROPERTY
@given(cells=st.lists(st.lists(st.text(ANY_CHARACTER.filter(lambda c: c != "\x00") | st.sampled_from('",\n\r'),
                                       max_size=20), max_size=4), max_size=6))
def test_arbitrary_csv_text_is_read_row_by_row_without_raising(
        cells: list[list[str]], validator: RecordValidator, tmp_path: Path) -> None:
    validator._first_seen.clear()
    path = tmp_path / "catalog.csv"
    body = "\n".join(",".join(row) for row in cells)
    path.write_bytes(b"id,title,price\n" + body.encode("utf-8", "surrogatepass"))
    outcomes(path, validator)


def test_a_line_over_the_record_limit_is_rejected_and_the_next_one_read(validator: RecordValidator,
                                                                         tmp_path: Path) -> None:
    path = tmp_path / "catalog.jsonl"
    path.write_text(json.dumps({"id": "big", "title": "x" * MAX_RECORD_BYTES}) + "\n" + '{"id": "ok", "title": "Kettle"}\n')
    big, ok = outcomes(path, validator)
    assert isinstance(big, Rejection) and "longer than" in big.reason
    assert isinstance(ok, PreparedRecord) and ok.position == 2


def _nested_json(value: Any) -> str:
    """json.dumps recurses, so very deep values are written by hand (the reader must cope, not the test)."""
    if isinstance(value, list):
        depth, inner = 0, value
        while isinstance(inner, list):
            depth, inner = depth + 1, inner[0]
        return "[" * depth + _nested_json(inner) + "]" * depth
    if isinstance(value, dict) and set(value) == {"k"}:
        depth, inner = 0, value
        while isinstance(inner, dict) and set(inner) == {"k"}:
            depth, inner = depth + 1, inner["k"]
        return '{"k": ' * depth + _nested_json(inner) + "}" * depth
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(key)}: {_nested_json(item)}" for key, item in value.items()) + "}"
    return json.dumps(value)
