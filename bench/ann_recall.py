"""Recall of the k-NN sub-query against exact search, and what each HNSW setting costs.

    python bench/ann_recall.py --shopee ../shared/data/shopee/dev.csv --tatoeba ../shared/data/tatoeba \
        [--queries 500] [--configs 16:128,32:256,48:512] [--query-settings 100,100:200,100:500,200,500,1000]

Corpus: every Shopee dev title and every sentence of every Tatoeba pair (both
sides, duplicates dropped): about 55,000 real texts in 20 languages, embedded
as passages with the configured encoder (cached under --cache). Queries: a
sample of those texts embedded as queries. The exact top 100 is brute force in
numpy over the very vectors that were indexed (cosine; OpenSearch's cosinesimil
score is (1 + cos) / 2, the same order).

Each HNSW config (m:ef_construction) gets an index holding only the shipped
`embedding` field with that method, loaded in bulk and refreshed (as a load
leaves it), then force-merged to one segment (as a long-lived index tends to
become, and the hardest case for a graph: one big graph instead of several
small ones searched apart). For each query-time `k` and optional
`method_parameters.ef_search` (k:ef; `size` stays 100) it reports recall@100 = |ANN top 100 ∩ exact top 100| / 100, and latency per
query sent one at a time after 50 warm-up queries (p50/p95 ms), and the
build (bulk load + refresh) and merge times.
"""

from __future__ import annotations

import argparse
import csv
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

TOP = 100
INDEX = "bench-ann-recall"


def corpus(shopee: Path, tatoeba: Path) -> list[str]:
    """Shopee titles and Tatoeba sentences, each text once."""
    with shopee.open(encoding="utf-8", newline="") as handle:
        texts = [row["title"] for row in csv.DictReader(handle) if row["title"].strip()]
    for path in sorted(tatoeba.glob("tatoeba.*-eng.*")):
        texts += [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return list(dict.fromkeys(texts))


def embedded(encoder, texts: list[str], cache: Path, name: str, queries: bool = False) -> np.ndarray:  # noqa: ANN001
    path = cache / f"{name}-{len(texts)}-{encoder.fingerprint[:12]}.npy"
    if path.exists():
        return np.load(path)
    encode = encoder.encode_queries if queries else encoder.encode_passages
    vectors = np.concatenate([encode(texts[start:start + 2000]) for start in range(0, len(texts), 2000)])
    cache.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


def vector_field(m: int, ef_construction: int, dimension: int) -> dict:
    """The shipped mapping's `embedding` field with this HNSW method."""
    from lingodex.ingest.index.mappings import PRODUCTS, EncoderIdentity, index_body
    from lingodex.settings import VectorSettings

    vectors = VectorSettings(m=m, ef_construction=ef_construction)
    body = index_body(PRODUCTS, encoder=EncoderIdentity("bench", "bench", dimension), vectors=vectors)
    return body["mappings"]["properties"]["embedding"]


def build(client, vectors: np.ndarray, m: int, ef_construction: int) -> float:  # noqa: ANN001
    from opensearchpy import helpers

    client.indices.delete(index=INDEX, ignore_unavailable=True)
    client.indices.create(index=INDEX, body={
        "settings": {"index": {"knn": True, "number_of_shards": 1, "number_of_replicas": 0}},
        "mappings": {"properties": {"embedding": vector_field(m, ef_construction, vectors.shape[1])}}})
    started = time.perf_counter()
    helpers.bulk(client, ({"_index": INDEX, "_id": str(i), "embedding": vector.tolist()}
                          for i, vector in enumerate(vectors)), chunk_size=500, request_timeout=600)
    client.indices.refresh(index=INDEX)
    return time.perf_counter() - started


def segments(client) -> int:  # noqa: ANN001
    return len(client.cat.segments(index=INDEX, format="json"))


def measure(client, queries: np.ndarray, exact: list[set[str]], k: int, ef_search: int | None) -> dict:  # noqa: ANN001
    recalls, latencies = [], []
    for vector, truth in zip(queries, exact, strict=True):
        knn = {"vector": vector.tolist(), "k": k}
        if ef_search:
            knn["method_parameters"] = {"ef_search": ef_search}
        started = time.perf_counter()
        response = client.search(index=INDEX, body={"size": TOP, "_source": False, "query": {"knn": {"embedding": knn}}})
        latencies.append((time.perf_counter() - started) * 1000)
        recalls.append(len({hit["_id"] for hit in response["hits"]["hits"]} & truth) / TOP)
    latencies.sort()
    return {"recall": statistics.fmean(recalls), "min recall": min(recalls),
            "p50": latencies[len(latencies) // 2], "p95": latencies[int(len(latencies) * 0.95)]}


def main() -> None:
    from lingodex.encoder import load_encoder
    from lingodex.connection import opensearch_client
    from lingodex.settings import load_settings

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shopee", type=Path, required=True)
    parser.add_argument("--tatoeba", type=Path, required=True)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--configs", default="16:128,32:256,48:512", help="m:ef_construction, comma-separated")
    parser.add_argument("--query-settings", default="100,100:200,100:500,200,500,1000",
                        help="query-time k or k:ef_search, comma-separated (size stays 100)")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/lingodex-ann-recall"))
    parser.add_argument("--no-merge", action="store_true", help="skip the force-merged measurement")
    args = parser.parse_args()
    settings = load_settings()
    client = opensearch_client(settings.opensearch)
    encoder = load_encoder(settings.encoder)
    texts = corpus(args.shopee, args.tatoeba)
    started = time.perf_counter()
    passages = embedded(encoder, texts, args.cache, "passages")
    print(f"{len(texts)} texts embedded ({time.perf_counter() - started:.0f} s, cached in {args.cache})", flush=True)
    sample = random.Random(20261130).sample(range(len(texts)), args.queries)
    queries = embedded(encoder, [texts[i] for i in sample], args.cache, "queries", queries=True)
    exact = [set(map(str, np.argsort(-(passages @ query))[:TOP])) for query in queries]
    query_settings = [(int(k), int(ef[0]) if ef else None)
                      for k, *ef in (setting.split(":") for setting in args.query_settings.split(","))]
    print("| m | ef_construction | build s | segments | k | ef_search | recall@100 | min | p50 ms | p95 ms |\n"
          + "| --- " * 10 + "|")
    for config in args.configs.split(","):
        m, ef_construction = (int(part) for part in config.split(":"))
        seconds = build(client, passages, m, ef_construction)
        states = [("loaded", seconds)]
        if not args.no_merge:
            states.append(("merged", None))
        for state, took in states:
            if state == "merged":
                merge_started = time.perf_counter()
                client.indices.forcemerge(index=INDEX, max_num_segments=1, request_timeout=3600)
                took = time.perf_counter() - merge_started
            count = segments(client)
            measure(client, queries[:50], exact[:50], TOP, None)  # warm-up: the first queries load the graph
            for k, ef_search in query_settings:
                row = measure(client, queries, exact, k, ef_search)
                print(f"| {m} | {ef_construction} | {took:.0f} ({state}) | {count} | {k} | {ef_search or '-'} | "
                      f"{row['recall']:.3f} | "
                      f"{row['min recall']:.2f} | {row['p50']:.1f} | {row['p95']:.1f} |", flush=True)
    client.indices.delete(index=INDEX, ignore_unavailable=True)


if __name__ == "__main__":
    main()
