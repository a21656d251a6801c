"""One record of each bad kind among good ones, through real workers into the real node: only the bad ones are lost.

Each file mixes good records with one of every per-record failure that once stopped a whole load or took
its batch mates down. The job must finish, index every good record, reject every bad one with a dead
letter giving its reason, and account for all: indexed + rejected = read.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from opensearchpy import OpenSearch

from lingodex.ingest.index.indexer import bulk_index
from lingodex.ingest.catalog.readers import MAX_NESTING, read_records
from lingodex.ingest.job import JobRecord
from lingodex.ingesting import build_ingest_job
from lingodex.settings import Settings
from tests.indices import drop_with_versions
from tests.loads import live_workers, scratch_settings

GOOD_TITLES = ["Wireless headphones", "Electric kettle", "Hiking backpack", "Running shoes", "Desk lamp"]

# (id, JSON line, what must be said about it); the id is None when the record has none to speak of
JSONL_BAD = [
    ("surrogate-title", r'{"id": "surrogate-title", "title": "Kettle \ud800"}', "lone surrogate"),
    ("surrogate-key", r'{"id": "surrogate-key", "title": "Kettle", "\udc00": "x"}', "field name holds a lone surrogate"),
    ("surrogate-attr", r'{"id": "surrogate-attr", "title": "Kettle", "attributes": {"colour": "red\udfff"}}',
     "attributes.colour: holds a lone surrogate"),
    ("deep", '{"id": "deep", "title": "Kettle", "extra": ' + "[" * 10_000 + "]" * 10_000 + "}",
     f"nested deeper than {MAX_NESTING} levels"),
    ("attributes-string", '{"id": "attributes-string", "title": "Kettle", "attributes": "red", "colour": "blue"}',
     "attributes: Input should be a valid dictionary"),
    ("attributes-pairs", '{"id": "attributes-pairs", "title": "Kettle", "attributes": [["colour", "red"]], "size": "L"}',
     "attributes: Input should be a valid dictionary"),
    ("huge-number", '{"id": "huge-number", "title": "Kettle", "price": ' + "9" * 5000 + "}", "unreadable JSON value"),
    ("long-id", json.dumps({"id": "字" * 200, "title": "Kettle"}), "600 bytes in UTF-8; OpenSearch allows at most 512"),
    ("invisible", json.dumps({"id": "invisible", "title": "\u200b\u200f\u2066\u2069"}), "invisible characters only"),
    ("bool-price", json.dumps({"id": "bool-price", "title": "Kettle", "price": True}), "price must be a number"),
    ("long-title", json.dumps({"id": "long-title", "title": "kettle " * 1000}), "at most 2,000"),
]
JSONL_GOOD_ODD = [  # shapes that must be accepted
    ("nulls-in-title", {"id": "nulls-in-title", "title": {"en": "Steel kettle", "de": None}}),
    ("variants", {"id": "variants", "title": {"pt-BR": "Chaleira elétrica", "pt-PT": "Jarro elétrico"}}),
]
CSV_LINES = [  # (line text, id of the record starting on it or None, reason or None when good)
    ("id,title,price", None, None),
    ("c1,Wireless headphones,10", "c1", None),
    ('c2,"Electric kettle with a quote that never closes,11', "c2", "unparseable CSV row"),
    ("c3,Hiking backpack,12", "c3", None),
    ("c4,Running shoes", "c4", "1 value(s) fewer than the header's 3 columns"),
    ("c5,Desk lamp,13,extra", "c5", "1 more value(s) than the header"),
    ("c6,  ,  ", "c6", "title: Field required"),
    ('c7,"' + "x" * 2_000_000 + '",14', "c7", "field larger than field limit"),
    ("c8,Coffee grinder,15", "c8", None),
]


@pytest.fixture(scope="module")
def adversarial_settings(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return scratch_settings(settings, tmp_path_factory.mktemp("adversarial-home"), batch_size=4)


@pytest.fixture(scope="module")
def workers(adversarial_settings: Settings) -> Iterator[None]:
    with live_workers(adversarial_settings):
        yield


def load(settings: Settings, path: Path, index: str) -> JobRecord:
    return build_ingest_job(settings).run(read_records(path), str(path), index)


def letters(job: JobRecord) -> dict[int, dict]:
    path = Path(job.dead_letters)
    return {entry["position"]: entry for entry in map(json.loads, path.read_text(encoding="utf-8").splitlines())}


@pytest.fixture(scope="module")
def jsonl_load(adversarial_settings: Settings, workers: None, client: OpenSearch,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[JobRecord, str, dict[int, str]]]:
    """Good and bad lines interleaved: a bad record sits in every batch of 4."""
    goods = [json.dumps({"id": f"good-{n}", "title": title, "lang": "en"}) for n, title in enumerate(GOOD_TITLES)]
    goods += [json.dumps(record) for _, record in JSONL_GOOD_ODD]
    lines, expected = [], {}
    for number, (_, line, reason) in enumerate(JSONL_BAD):
        lines += [goods[number], line] if number < len(goods) else [line]
        expected[len(lines)] = reason
    lines += goods[len(JSONL_BAD):]
    path = tmp_path_factory.mktemp("jsonl") / "catalog.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    index = "test-adversarial-jsonl"
    drop_with_versions(client, index)
    yield load(adversarial_settings, path, index), index, expected
    drop_with_versions(client, index)


def test_a_bad_record_of_every_kind_is_rejected_alone_and_every_good_one_indexed(
        jsonl_load: tuple[JobRecord, str, dict[int, str]], client: OpenSearch) -> None:
    job, index, expected = jsonl_load
    good_ids = {f"good-{n}" for n in range(len(GOOD_TITLES))} | {name for name, _ in JSONL_GOOD_ODD}
    assert job.state == "done" and job.balanced
    assert (job.counts.read, job.counts.rejected, job.counts.indexed) == (
        len(JSONL_BAD) + len(good_ids), len(JSONL_BAD), len(good_ids))
    client.indices.refresh(index=index)
    found = {hit["_id"] for hit in client.search(index=index, body={"size": 100, "_source": False})["hits"]["hits"]}
    assert found == good_ids


def test_each_bad_record_has_a_dead_letter_at_its_line_with_its_reason(
        jsonl_load: tuple[JobRecord, str, dict[int, str]]) -> None:
    job, _, expected = jsonl_load
    found = letters(job)
    assert found.keys() == expected.keys()
    for position, reason in expected.items():
        assert reason in found[position]["reason"], (position, found[position]["reason"])


def test_a_title_whose_languages_hold_nulls_keeps_the_others_and_regional_variants_are_merged(
        jsonl_load: tuple[JobRecord, str, dict[int, str]], client: OpenSearch) -> None:
    _, index, _ = jsonl_load
    assert client.get(index=index, id="nulls-in-title")["_source"]["title"] == {"en": "Steel kettle"}
    assert client.get(index=index, id="variants")["_source"]["title"] == {"pt": "Chaleira elétrica / Jarro elétrico"}


@pytest.fixture(scope="module")
def csv_load(adversarial_settings: Settings, workers: None, client: OpenSearch,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[JobRecord, str]]:
    path = tmp_path_factory.mktemp("csv") / "catalog.csv"
    path.write_bytes(b"\xef\xbb\xbf" + "\n".join(line for line, _, _ in CSV_LINES).encode() + b"\n")  # with a BOM
    index = "test-adversarial-csv"
    drop_with_versions(client, index)
    yield load(adversarial_settings, path, index), index
    drop_with_versions(client, index)


def test_csv_rows_after_an_unclosed_quote_are_read_again_and_only_the_bad_rows_are_rejected(
        csv_load: tuple[JobRecord, str], client: OpenSearch) -> None:
    job, index = csv_load
    good = {record_id for _, record_id, reason in CSV_LINES if record_id and reason is None}
    bad = {number: reason for number, (_, record_id, reason) in enumerate(CSV_LINES, start=1) if reason}
    assert job.balanced and (job.counts.read, job.counts.indexed) == (len(CSV_LINES) - 1, len(good))
    client.indices.refresh(index=index)
    found = {hit["_id"] for hit in client.search(index=index, body={"size": 100, "_source": False})["hits"]["hits"]}
    assert found == good
    rejected = letters(job)
    assert rejected.keys() == bad.keys()
    for line, reason in bad.items():
        assert reason in rejected[line]["reason"], (line, rejected[line]["reason"])


def test_parquet_maps_and_structs_with_nulls_are_read_as_objects(
        adversarial_settings: Settings, workers: None, client: OpenSearch, index_name: str, tmp_path: Path) -> None:
    path = tmp_path / "catalog.parquet"
    language = pa.struct([("en", pa.string()), ("de", pa.string())])
    pq.write_table(pa.table({
        "id": ["p1", "p2"],
        "title": pa.array([{"en": "Electric kettle", "de": None}, {"en": None, "de": "Wasserkocher"}], type=language),
        "attributes": pa.array([[("colour", "red")], None], type=pa.map_(pa.string(), pa.string())),
    }), path)
    job = load(adversarial_settings, path, index_name)
    assert (job.counts.read, job.counts.indexed, job.counts.rejected) == (2, 2, 0)
    first = client.get(index=index_name, id="p1")["_source"]
    assert (first["title"], first["attributes"]) == ({"en": "Electric kettle"}, {"colour": "red"})
    assert client.get(index=index_name, id="p2")["_source"]["title"] == {"de": "Wasserkocher"}


def test_a_document_that_makes_opensearch_refuse_the_whole_bulk_request_is_rejected_alone(
        client: OpenSearch, index_name: str) -> None:
    """Bypassing validation: a 600-byte _id fails a bulk request as a whole (400), yet its batch mates are indexed."""
    client.indices.create(index=index_name, body={"mappings": {"properties": {"title": {"type": "text"}}}})
    documents = [{"id": f"ok-{n}", "title": "Kettle"} for n in range(5)]
    documents.insert(2, {"id": "字" * 200, "title": "Kettle"})
    outcome = bulk_index(client, index_name, documents, refresh=True)
    assert outcome.indexed == 5 and [doc_id for doc_id, _ in outcome.rejected] == ["字" * 200]
    assert "OpenSearch refused the document" in outcome.rejected[0][1]
    assert client.count(index=index_name)["count"] == 5


def test_a_batch_larger_than_the_byte_cap_goes_in_several_bulk_requests(
        client: OpenSearch, index_name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ten 20 kB descriptions under a 50 kB cap: several requests to the real node, every document indexed once."""
    client.indices.create(index=index_name, body={"mappings": {"properties": {"description": {"type": "text"}}}})
    requests = []
    send = client.bulk
    monkeypatch.setattr(client, "bulk", lambda *args, **kwargs: requests.append(1) or send(*args, **kwargs))
    documents = [{"id": f"long-{n}", "description": "kettle " * 3000} for n in range(10)]
    outcome = bulk_index(client, index_name, documents, refresh=True, max_chunk_bytes=50_000)
    assert (outcome.indexed, outcome.rejected) == (10, [])
    assert len(requests) >= 4
    assert client.count(index=index_name)["count"] == 10
