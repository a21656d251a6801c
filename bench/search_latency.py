"""Search latency on a 100k-product index: lexical, dense and hybrid, query embedding included, in-process and over HTTP.

    python bench/search_latency.py --shopee ../shared/data/shopee/dev.csv [--products 100000] [--seconds 20]
        [--concurrency 1,4,16] [--keep-index]

The index: the 17,213 real Shopee dev titles and their colour/size variants
(bench/ingest.py's, each a product of its own) up to ``--products``, languages
detected, embedded in this process and bulk-loaded with lingodex's mapping,
language centroids and hubness scores (bench/search.py's ``index_texts``), so
every query runs the full shipped path. Queries: 2,000 distinct prefixes (2–6
words) of real titles, so no run repeats a query often enough to be cached
anywhere.

For each strategy, path and concurrency: a closed load loop — ``c`` clients,
each sending its next query when the last one answered — for ``--seconds``
after a 3 s warm-up; p50/p95/p99 latency and throughput. Paths:
- **Python API**: ``HybridSearcher.search`` from ``c`` threads in this process
  (what `lingodex search` runs, minus the encoder's load);
- **HTTP**: ``POST /search`` on a `lingodex serve` process, from ``c`` client
  threads here (httpx; the load generator shares the machine's cores).
Ratios: hybrid p99 / lexical p99 per path and concurrency (target at c=1: ≤ 1.5×). First, at c = 1, the
three strategies interleaved query by query for ``--paired-seconds`` per path: on a shared two-core machine
separate 20 s runs drift apart by more than the difference asked about (two runs of the same configuration gave
1.60× and 0.93×), so the c = 1 ratios come from this paired run.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import random
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.ingest import VARIANTS  # noqa: E402 - after the path is set
from bench.latency import start_server  # noqa: E402
from bench.search import index_texts  # noqa: E402

STRATEGIES = ("lexical", "dense", "hybrid")
INDEX = "bench-latency"
WARM_UP_S = 3.0


def catalog(path: Path, products: int, detect: Callable) -> list[tuple[str, str, str]]:
    """(id, title, detected language): the real titles, then their variants, up to ``products``."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["title"].strip()]
    languages = {row["posting_id"]: detect(row["title"]).code for row in rows}
    docs = [(f"{row['posting_id']}{'-' + str(v) if v else ''}", row["title"] + suffix, languages[row["posting_id"]])
            for v, suffix in enumerate(VARIANTS) for row in rows]
    if len(docs) < products:
        raise SystemExit(f"{path} gives {len(docs)} products with variants, fewer than --products {products}")
    return docs[:products]


def queries(docs: list[tuple[str, str, str]], count: int, rng: random.Random) -> list[str]:
    """Distinct 2–6 word prefixes of real titles: what shoppers type, never the same twice in a row."""
    found: set[str] = set()
    while len(found) < count:
        words = rng.choice(docs)[1].split()
        found.add(" ".join(words[:rng.randint(2, 6)]))
    return sorted(found, key=lambda _: rng.random())


def load_loop(send: Callable[[str], None], texts: list[str], concurrency: int, seconds: float) -> tuple[np.ndarray, float]:
    """(latencies in ms, queries/s) of ``concurrency`` closed-loop clients over ``seconds`` after a warm-up."""
    latencies: list[float] = []
    lock = threading.Lock()
    counter = iter(range(10**9))
    measure_from = time.perf_counter() + WARM_UP_S
    stop_at = measure_from + seconds

    def client() -> None:
        while (now := time.perf_counter()) < stop_at:
            with lock:
                text = texts[next(counter) % len(texts)]
            send(text)
            if now >= measure_from:
                with lock:
                    latencies.append((time.perf_counter() - now) * 1000)

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return np.asarray(latencies), len(latencies) / seconds


def paired_loop(sends: dict[str, Callable[[str], None]], texts: list[str], seconds: float) -> dict[str, np.ndarray]:
    """Latencies in ms per strategy at c = 1, the strategies interleaved query by query (their order rotating), so
    that whatever slows the machine for a while slows every strategy alike: the ratios are paired, not two runs'."""
    names = list(sends)
    found: dict[str, list[float]] = {name: [] for name in names}
    measure_from = time.perf_counter() + WARM_UP_S
    stop_at = measure_from + seconds
    number = 0
    while (now := time.perf_counter()) < stop_at:
        text = texts[number % len(texts)]
        for name in names[number % len(names):] + names[:number % len(names)]:
            started = time.perf_counter()
            sends[name](text)
            if now >= measure_from:
                found[name].append((time.perf_counter() - started) * 1000)
        number += 1
    return {name: np.asarray(values) for name, values in found.items()}


def print_paired(path: str, found: dict[str, np.ndarray]) -> None:
    lexical = np.percentile(found["lexical"], [50, 99])
    for name, values in found.items():
        p50, p99 = np.percentile(values, [50, 99])
        print(f"| {path} | {name} | {len(values)} | {p50:.1f} | {p99:.1f} | {p50 / lexical[0]:.2f}× | "
              f"{p99 / lexical[1]:.2f}× |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shopee", type=Path, required=True)
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--concurrency", default="1,4,16")
    parser.add_argument("--keep-index", action="store_true", help="leave the index for a re-run (which reuses it)")
    parser.add_argument("--paired-seconds", type=float, default=60, help="the interleaved c = 1 run, per path")
    parser.add_argument("--paired-only", action="store_true", help="only the interleaved c = 1 runs")
    parser.add_argument("--merge-segments", type=int, default=0,
                        help="force-merge the index to at most this many segments before measuring (0: as loaded)")
    args = parser.parse_args()
    levels = [int(level) for level in args.concurrency.split(",")]

    from lingodex.encoder import load_encoder
    from lingodex.ingest.index.index_versions import merge_segments
    from lingodex.searching import build_searcher
    from lingodex.settings import load_settings

    settings = load_settings()
    encoder = load_encoder(settings.encoder)
    searcher = build_searcher(settings, encoder=encoder)
    client = searcher.client
    rng = random.Random(20261130)
    docs = catalog(args.shopee, args.products, searcher.detector.detect)
    if client.indices.exists(index=INDEX) and client.count(index=INDEX)["count"] == len(docs):
        print(f"{INDEX}: reusing its {len(docs):,} products", flush=True)
    else:
        started = time.time()
        index_texts(searcher, encoder, INDEX, docs, centring=True)
        print(f"{INDEX}: {len(docs):,} products indexed in {time.time() - started:.0f} s", flush=True)
    if args.merge_segments:
        started = time.time()
        merge_segments(client, INDEX, args.merge_segments)  # what a load does before a version serves
        print(f"{INDEX}: force-merged to {args.merge_segments} segment(s) in {time.time() - started:.0f} s", flush=True)
    segments = len(client.cat.segments(index=INDEX, format="json"))
    print(f"{INDEX}: {segments} segments", flush=True)
    texts = queries(docs, 2000, rng)
    info = client.info()["version"]["number"]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; OpenSearch {info}; encoder {encoder.model_id} "
          f"({settings.encoder.precision}); {args.seconds:.0f} s per run after {WARM_UP_S:.0f} s warm-up\n", flush=True)
    python_sends = {strategy: (lambda text, strategy=strategy: searcher.search(INDEX, text, size=10,
                                                                               strategy=strategy))
                    for strategy in STRATEGIES}
    with tempfile.TemporaryDirectory() as scratch:
        process, url = start_server(5.0, Path(scratch))
        try:
            with httpx.Client(base_url=url, timeout=60) as http:
                def post(text: str, strategy: str) -> None:
                    http.post("/search", json={"text": text, "index": INDEX, "size": 10,
                                               "strategy": strategy}).raise_for_status()
                http_sends = {strategy: (lambda text, strategy=strategy: post(text, strategy)) for strategy in STRATEGIES}
                print(f"c = 1, strategies interleaved query by query, {args.paired_seconds:.0f} s per path\n\n"
                      "| path | strategy | queries | p50 ms | p99 ms | p50 / lexical | p99 / lexical |\n"
                      "| --- | --- | --- | --- | --- | --- | --- |", flush=True)
                print_paired("Python API", paired_loop(python_sends, texts, args.paired_seconds))
                print_paired("HTTP /search", paired_loop(http_sends, texts, args.paired_seconds))
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)
    if args.paired_only:
        return
    print("\n| path | strategy | c | p50 ms | p95 ms | p99 ms | queries/s |\n| --- | --- | --- | --- | --- | --- | --- |",
          flush=True)
    p99: dict[tuple[str, str, int], float] = {}

    def run(path: str, send_for: Callable[[str], Callable[[str], None]]) -> None:
        for strategy in STRATEGIES:
            for level in levels:
                latencies, rate = load_loop(send_for(strategy), texts, level, args.seconds)
                p50, p95, p99[path, strategy, level] = np.percentile(latencies, [50, 95, 99])
                print(f"| {path} | {strategy} | {level} | {p50:.1f} | {p95:.1f} | {p99[path, strategy, level]:.1f} | "
                      f"{rate:.1f} |", flush=True)

    run("Python API", lambda strategy: lambda text: searcher.search(INDEX, text, size=10, strategy=strategy))
    with tempfile.TemporaryDirectory() as scratch:
        process, url = start_server(5.0, Path(scratch))
        try:
            with httpx.Client(base_url=url, timeout=60, limits=httpx.Limits(max_connections=64)) as http:
                def send_for(strategy: str) -> Callable[[str], None]:
                    def send(text: str) -> None:
                        http.post("/search", json={"text": text, "index": INDEX, "size": 10,
                                                   "strategy": strategy}).raise_for_status()
                    return send
                run("HTTP /search", send_for)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)
    print("\n| path | c | hybrid p99 / lexical p99 | dense p99 / lexical p99 |\n| --- | --- | --- | --- |")
    for path in ("Python API", "HTTP /search"):
        for level in levels:
            lexical = p99[path, "lexical", level]
            print(f"| {path} | {level} | {p99[path, 'hybrid', level] / lexical:.2f}× | "
                  f"{p99[path, 'dense', level] / lexical:.2f}× |")
    if not args.keep_index:
        client.indices.delete(index=INDEX)


if __name__ == "__main__":
    main()
