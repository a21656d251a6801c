"""The fusion window's price and worth: hybrid latency on 100k products and Shopee relevance at windows 20, 50, 100.

    python bench/experiments/fusion_window.py --shopee ../shared/data/shopee/dev.csv [--queries 2000] [--seconds 20]

Hybrid costs both sub-queries at window depth (BENCHMARKS.md, "search latency
on 100k products"), so a smaller window is the one lever on hybrid latency
that needs no more cores. It also gives fusion fewer candidates. Measured
here side by side, the shipped parameters otherwise (k = the window, the
least it may be):
- latency: c = 1 closed loop for ``--seconds`` on bench/search_latency.py's
  100k index (built if missing, kept), lexical once, hybrid per window;
- relevance: hybrid nDCG@10 per window on the 17,213 Shopee dev titles
  (their own index), ``--queries`` titles as queries for the other titles of
  their group, each query's own title removed (as bench/search.py).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from bench.search import everywhere, index_texts, shopee_task  # noqa: E402 - after the path is set
from bench.search_latency import INDEX, catalog, load_loop, queries  # noqa: E402

WINDOWS = (20, 50, 100)
RELEVANCE_INDEX = "bench-fusion-window-shopee"


def with_window(params, window: int):  # noqa: ANN001, ANN201 - SearchParams in, SearchParams out
    """``params`` with every language's fusion window and k-NN k set to ``window``."""
    return everywhere(params, window=window, k=window)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shopee", type=Path, required=True)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args()

    from lingodex.encoder import load_encoder
    from lingodex.search_templates.relevance.evaluation import evaluate, run_queries
    from lingodex.search_templates.searcher import retriever
    from lingodex.searching import build_searcher
    from lingodex.settings import load_settings

    settings = load_settings()
    encoder = load_encoder(settings.encoder)
    searcher = build_searcher(settings, encoder=encoder)
    client = searcher.client
    docs = catalog(args.shopee, 100_000, searcher.detector.detect)
    if not (client.indices.exists(index=INDEX) and client.count(index=INDEX)["count"] == len(docs)):
        index_texts(searcher, encoder, INDEX, docs, centring=True)
    texts = queries(docs, 2000, random.Random(20261130))
    searchers = {window: searcher.with_params(with_window(searcher.params, window)) for window in WINDOWS}

    print(f"latency at c = 1 on {INDEX} ({len(docs):,} products), {args.seconds:.0f} s each", flush=True)
    print("| run | p50 ms | p99 ms | queries/s |\n| --- | --- | --- | --- |", flush=True)
    latencies, rate = load_loop(lambda text: searcher.search(INDEX, text, size=10, strategy="lexical"), texts, 1,
                                args.seconds)
    lexical_p99 = float(np.percentile(latencies, 99))
    print(f"| lexical | {np.percentile(latencies, 50):.1f} | {lexical_p99:.1f} | {rate:.0f} |", flush=True)
    for window, chosen in searchers.items():
        latencies, rate = load_loop(lambda text, chosen=chosen: chosen.search(INDEX, text, size=10), texts, 1,
                                    args.seconds)
        p99 = float(np.percentile(latencies, 99))
        print(f"| hybrid, window {window} | {np.percentile(latencies, 50):.1f} | {p99:.1f} | {rate:.0f} | "
              f"{p99 / lexical_p99:.2f}× lexical p99 |", flush=True)

    _, shopee_docs, judged = shopee_task(args.shopee, args.queries, random.Random(20261122), searcher.detector.detect)
    started = time.time()
    index_texts(searcher, encoder, RELEVANCE_INDEX, shopee_docs, centring=True)
    print(f"\n{RELEVANCE_INDEX}: {len(shopee_docs):,} titles in {time.time() - started:.0f} s; "
          f"{len(judged)} judged queries, own title removed\n", flush=True)
    print("| window | hybrid nDCG@10 | recall@10 | MRR@10 |\n| --- | --- | --- | --- |")
    for window, chosen in searchers.items():
        report = evaluate(judged, *run_queries(judged, retriever(chosen, RELEVANCE_INDEX, "hybrid")))
        print(f"| {window} | {report.overall['ndcg@10']:.4f} | {report.overall['recall@10']:.4f} | "
              f"{report.overall['mrr@10']:.4f} |", flush=True)
    client.indices.delete(index=RELEVANCE_INDEX)


if __name__ == "__main__":
    main()
