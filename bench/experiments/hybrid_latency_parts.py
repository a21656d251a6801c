"""Where a hybrid query's time goes at concurrency 1: encoding, each sub-query alone (page of 10 and of the fusion
window), and the hybrid query on the cluster. Run after `bench/search_latency.py --keep-index`, on its index.

The end-to-end rows start from the query text: a lexical page (no encoding), and hybrid two ways — encode, then the
hybrid query on the cluster (what `search` does today), or the lexical window sent to the node *while* the query is
encoded here, the dense window after, fused in this process (encoding and the lexical sub-query overlap on the two
cores instead of running one after the other).

    python bench/experiments/hybrid_latency_parts.py --shopee ../shared/data/shopee/dev.csv [--queries 300]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from bench.search_latency import INDEX, catalog, queries  # noqa: E402 - after the path is set


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shopee", type=Path, required=True)
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()

    from lingodex.searching import build_searcher
    from lingodex.settings import load_settings
    from lingodex.search_templates import fusion
    from lingodex.search_templates.searcher import fuse
    from lingodex.search_templates.templates import DENSE, LEXICAL

    searcher = build_searcher(load_settings())
    docs = catalog(args.shopee, searcher.client.count(index=INDEX)["count"], searcher.detector.detect)
    texts = queries(docs, args.queries, random.Random(1))
    prepared = [searcher.prepare(text, index=INDEX) for text in texts]
    pool = ThreadPoolExecutor(max_workers=1)

    def lexical_page(text: str) -> None:
        searcher.search(INDEX, text, strategy="lexical")

    def encoded_then_on_cluster(text: str) -> None:
        query, _, params = searcher.prepare(text, index=INDEX)
        searcher.fused_on_cluster(INDEX, query, params)

    def lexical_while_encoding(text: str) -> None:
        bare, _, params = searcher.prepare(text, index=INDEX, embed=False)
        lexical = pool.submit(searcher.sub_query_many, INDEX, LEXICAL, [(bare, params)])
        query, _, _ = searcher.prepare(text, index=INDEX)  # detects the language again: counted against this path
        dense = searcher.sub_query_many(INDEX, DENSE, [(query, params)])
        fusion.ordered(fuse([*lexical.result(), *dense], params))[:10]
    for query, _, params in prepared[:20]:  # warm-up
        searcher.fused_on_cluster(INDEX, query, params)
    timings: dict[str, list[float]] = {}

    def timed(name: str, work: Callable[..., object], *args: object) -> None:
        started = time.perf_counter()
        work(*args)
        timings.setdefault(name, []).append((time.perf_counter() - started) * 1000)

    for text, (query, _, params) in zip(texts, prepared, strict=True):
        timed("end to end: lexical page (no encoding)", lexical_page, text)
        timed("end to end: hybrid, encode then on the cluster", encoded_then_on_cluster, text)
        timed("end to end: hybrid, lexical window sent while encoding, dense after, fused here",
              lexical_while_encoding, text)
        page, window = replace(query, size=10), replace(query, size=params.window)
        deep = f"{params.window} hits (the window)"
        timed("encode the query", searcher.encoder.encode_queries, [query.text])
        timed("lexical, 10 hits", searcher.one_sub_query, INDEX, page, params, LEXICAL)
        timed(f"lexical, {deep}", searcher.one_sub_query, INDEX, window, params, LEXICAL)
        timed("dense, 10 hits", searcher.one_sub_query, INDEX, page, params, DENSE)
        timed(f"dense, {deep}", searcher.one_sub_query, INDEX, window, params, DENSE)
        timed("hybrid on the cluster (both windows, fused)", searcher.fused_on_cluster, INDEX, query, params)
        timed("hybrid fused here (_msearch of both)", searcher.fused_here, INDEX, query, params)
    print("| step | p50 ms | p99 ms |\n| --- | --- | --- |")
    for name, values in timings.items():
        print(f"| {name} | {np.percentile(values, 50):.1f} | {np.percentile(values, 99):.1f} |")


if __name__ == "__main__":
    main()
