"""End-to-end ingest throughput: lingodex against OpenSearch embedding the documents itself, same titles, one run.

    deploy/local/opensearch.sh ml-natives      # once: lets ml-commons deploy a local model offline
    python bench/ingest.py --shopee ../shared/data/shopee/dev.csv [--limit 10000] [--no-ml-commons]

Stages, each on the same real titles (past the 17k real ones, colour and size
variants of them, each a product of its own: --limit 100000):
1. parse: the CSV streamed through the field mapping, validation, normalisation
   and language identification (Shopee titles declare no language);
2. embed: the configured encoder (ONNX int8 on a CPU) alone, in this process;
3. bulk: those documents with their vectors bulk-indexed into a fresh version;
   1-3 are lingodex's stages measured apart (the pipeline overlaps them);
4. `lingodex ingest` as a user runs it: worker processes over the embedded
   broker, refresh + alias swap included (--new-version: every title embedded);
5. the same load again: every document unchanged, nothing embedded;
6. OpenSearch's way: the same documents (stage 1's, without vectors) bulk-sent
   through a `text_embedding` ingest pipeline running the same ONNX graph in
   ml-commons (bench/ml_commons.py), the client's parse time (stage 1) added;
7. the same again with `skip_existing: true` (OpenSearch's own way of not
   re-embedding unchanged documents), against stage 5.

Prints docs/s for each and the ratio 4 : 6. Needs `make opensearch-up`.
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

MAPPING = "fields: {id: posting_id, title: title}\nunknown: ignore\n"


# Colour and size variants of a real title: how marketplaces list one product many times.
VARIANTS = ["", " - Hitam", " - Putih", " - Merah", " Size M", " Size L", " Original"]


def titles_csv(source: Path, limit: int, target: Path) -> int:
    """Write up to ``limit`` products: the real titles first, then their variants (new ids) if more are asked for."""
    with source.open(encoding="utf-8", newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["title"].strip()]
    products = [{"posting_id": f"{row['posting_id']}{'-' + str(v) if v else ''}", "title": row["title"] + suffix}
                for v, suffix in enumerate(VARIANTS) for row in rows][:limit]
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["posting_id", "title"])
        writer.writeheader()
        writer.writerows(products)
    return len(products)


def timed(work, *args):  # noqa: ANN001, ANN202 - a stopwatch around any call
    start = time.perf_counter()
    result = work(*args)
    return time.perf_counter() - start, result


def parse(catalog: Path, mapping: Path) -> list:
    from lingodex.ingest.catalog.field_mapping import FieldMapping
    from lingodex.ingest.catalog.language import LanguageDetector
    from lingodex.ingest.catalog.readers import read_records
    from lingodex.ingest.catalog.validate import RecordValidator
    from lingodex.settings import load_settings

    options = load_settings().ingest
    validator = RecordValidator(FieldMapping.load(mapping), LanguageDetector(options.detect_languages,
                                options.min_language_confidence), options.max_description_chars)
    prepared = [validator.check(source) for source in read_records(catalog)]
    rejected = [item for item in prepared if not hasattr(item, "product")]
    if rejected:
        raise RuntimeError(f"{len(rejected)} titles rejected, e.g. {rejected[0]}")
    return prepared


def embed(records: list) -> tuple[float, list[list[float]]]:
    from lingodex.encoder import load_encoder
    from lingodex.ingest.index.documents import embedding_text
    from lingodex.settings import load_settings

    encoder = load_encoder(load_settings().encoder)
    texts = [embedding_text(record) for record in records]
    encoder.encode_passages(texts[:256])  # session warm-up, not timed by the caller's ratio
    start = time.perf_counter()
    vectors = encoder.encode_passages(texts)
    return time.perf_counter() - start, [vector.tolist() for vector in vectors]


def documents(records: list, vectors: list[list[float]] | None) -> list[dict[str, Any]]:
    """The documents a worker would index (an empty vector when OpenSearch is to embed them)."""
    from lingodex.ingest.index.documents import to_document
    from lingodex.ingest.index.mappings import PRODUCTS, language_fields

    analyzed = language_fields(PRODUCTS)
    vectors = vectors if vectors is not None else [[] for _ in records]
    return [to_document(record, vector, analyzed) for record, vector in zip(records, vectors, strict=True)]


def fresh_index(client, name: str) -> None:  # noqa: ANN001
    from lingodex.encoder.factory import describe_encoder
    from lingodex.ingest.index.mappings import PRODUCTS, EncoderIdentity, index_body
    from lingodex.settings import load_settings

    settings = load_settings()
    if client.indices.exists(index=name):
        client.indices.delete(index=name)
    body = index_body(PRODUCTS, encoder=EncoderIdentity(*describe_encoder(settings.encoder)),
                      vectors=settings.ingest.vectors)
    body["settings"]["index"].update({"refresh_interval": "-1", "number_of_replicas": 0})  # as a full load runs
    client.indices.create(index=name, body=body)


def bulk_only(client, index: str, docs: list[dict[str, Any]], batch: int) -> float:  # noqa: ANN001
    from lingodex.ingest.index.indexer import bulk_index

    fresh_index(client, index)
    start = time.perf_counter()
    for offset in range(0, len(docs), batch):
        outcome = bulk_index(client, index, docs[offset:offset + batch])
        if outcome.rejected:
            raise RuntimeError(f"bulk refused {outcome.rejected[0]}")
    client.indices.refresh(index=index)
    return time.perf_counter() - start


def cli_ingest(catalog: Path, mapping: Path, index: str, *options: str) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "lingodex.cli", "ingest", str(catalog), "--index", index,
                           "--fields", str(mapping), *options],
                          capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"}, check=True)
    return time.perf_counter() - start, done.stdout


def ml_commons(client, records: list, vectors_by_id: dict[str, list[float]], index: str, batch: int,  # noqa: ANN001
               clients: int, scratch: Path) -> tuple[float, float, float]:
    """Seconds to register + deploy, to bulk every document through the text_embedding pipeline, and to do it again."""
    from bench import ml_commons as ml

    from lingodex.encoder.export.onnx_export import ExportSpec, exported_model
    from lingodex.encoder.models.model_source import resolve_model_dir
    from lingodex.encoder.profile import load_profile
    from lingodex.ingest.index.documents import embedding_text
    from lingodex.settings import load_settings

    settings = load_settings().encoder
    profile = load_profile(settings.profile)
    export_dir = exported_model(resolve_model_dir(profile, settings.models_dir), profile,
                                ExportSpec(precision="int8", int8_weights=settings.int8_weights), settings.onnx_cache_dir)
    setup_start = time.perf_counter()
    model_id = ml.register_model(client, ml.model_zip(export_dir, scratch / "model.zip"), name=profile.name,
                                 dimension=profile.dimension, max_length=profile.max_tokens)
    ml.deploy_model(client, model_id)
    setup_s = time.perf_counter() - setup_start
    try:
        docs = documents(records, None)
        for doc, record in zip(docs, records, strict=True):
            del doc["embedding"]
            doc[ml.TEXT_FIELD] = profile.passage_prefix + embedding_text(record)
        fresh_index(client, index)
        seconds = []
        for skip_existing in (False, True):  # each run at its best: a first load needs no lookups, a re-run does
            ml.create_pipeline(client, "lingodex-bench-text-embedding", model_id, batch_size=batch,
                               skip_existing=skip_existing)
            shares = [docs[i::clients] for i in range(clients)]
            start = time.perf_counter()
            with ThreadPoolExecutor(clients) as pool:
                list(pool.map(lambda share: ml.bulk_through_pipeline(client, index, "lingodex-bench-text-embedding",
                                                                     share, batch), shares))
            seconds.append(time.perf_counter() - start)
            if client.count(index=index)["count"] != len(docs):
                raise RuntimeError("ml-commons path lost documents")
        same_vectors(client, index, vectors_by_id)
        return setup_s, seconds[0], seconds[1]
    finally:
        ml.undeploy_and_delete(client, model_id)


def same_vectors(client, index: str, ours: dict[str, list[float]], sample: int = 200) -> None:  # noqa: ANN001
    """Refuse the comparison unless ml-commons produced our vectors (same graph, same text, same pooling)."""
    import numpy as np

    ids = list(ours)[:sample]
    docs = client.mget(index=index, body={"ids": ids}, params={"_source_includes": "embedding"})["docs"]
    theirs = np.array([doc["_source"]["embedding"] for doc in docs])
    cosine = (theirs * np.array([ours[i] for i in ids])).sum(axis=1) / np.linalg.norm(theirs, axis=1)
    print(f"ml-commons vs lingodex vectors: mean cosine {cosine.mean():.5f}, min {cosine.min():.5f} ({len(ids)} docs)")
    if cosine.min() < 0.99:
        raise RuntimeError("ml-commons did not compute the same embeddings; the comparison would not be like for like")


def main() -> None:
    from lingodex.connection import opensearch_client
    from lingodex.settings import load_settings

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shopee", type=Path, required=True, help="Shopee CSV (posting_id,title,label_group)")
    parser.add_argument("--limit", type=int, default=10_000)
    parser.add_argument("--index", default="bench-ingest")
    parser.add_argument("--ml-commons", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--ml-clients", type=int, default=2, help="concurrent bulk clients for the ml-commons path")
    args = parser.parse_args()
    settings = load_settings()
    client = opensearch_client(settings.opensearch)
    batch = settings.ingest.batch_size
    rows: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as scratch:
        catalog, mapping = Path(scratch) / "shopee.csv", Path(scratch) / "shopee.yaml"
        n = titles_csv(args.shopee, args.limit, catalog)
        mapping.write_text(MAPPING)
        rows["1 parse (validate, language ID)"], records = timed(parse, catalog, mapping)
        rows["2 embed (encoder alone)"], vectors = embed(records)
        rows["3 bulk (vectors precomputed)"] = bulk_only(client, f"{args.index}-bulk", documents(records, vectors), batch)
        client.indices.delete(index=f"{args.index}-bulk")
        client.indices.delete(index=f"{args.index}-v*", ignore_unavailable=True)  # no vectors left to reuse
        rows["4 lingodex ingest --new-version"], first_out = cli_ingest(catalog, mapping, args.index, "--new-version")
        rows["5 lingodex ingest, unchanged re-run"], again_out = cli_ingest(catalog, mapping, args.index)
        if args.ml_commons:
            by_id = {record.id: vector for record, vector in zip(records, vectors, strict=True)}
            setup_s, bulk_s, again_s = ml_commons(client, records, by_id, f"{args.index}-ml-commons", batch,
                                                  args.ml_clients, Path(scratch))
            rows["6 ml-commons text_embedding (+ stage 1 parse)"] = bulk_s + rows["1 parse (validate, language ID)"]
            rows["7 ml-commons again, skip_existing (+ stage 1 parse)"] = again_s + rows["1 parse (validate, language ID)"]
            print(f"ml-commons register + deploy: {setup_s:.0f} s (not counted)")
            client.indices.delete(index=f"{args.index}-ml-commons")
    print(first_out.strip().splitlines()[-3:], again_out.strip().splitlines()[-3:], sep="\n")
    print(f"{n} titles\n| stage | seconds | docs/s |\n| --- | --- | --- |")
    for name, seconds in rows.items():
        print(f"| {name} | {seconds:.1f} | {n / seconds:.0f} |")
    if args.ml_commons:
        ours, theirs = rows["4 lingodex ingest --new-version"], rows["6 ml-commons text_embedding (+ stage 1 parse)"]
        print(f"lingodex ingest vs OpenSearch-side embedding: {theirs / ours:.2f}x")


if __name__ == "__main__":
    main()
