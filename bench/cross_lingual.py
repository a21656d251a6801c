"""Cross-lingual search in one mixed-language index: is a query pulled toward its own language?

    python bench/cross_lingual.py --tatoeba ../shared/data/tatoeba [--queries-per-side 100]

Every sentence of every Tatoeba pair (19 languages ↔ English), both sides, in
ONE products index (languages declared, order shuffled as a catalog's would
be); each sentence is the query for its translation, its own sentence
excluded. The first 200 lines of each pair are left out: the project ships
them as the reference sentences of ingest/reference/.

The pool is indexed twice on the local node (`make opensearch-up`): with the
encoder's vectors as they are, and with language centroids taken out
(ingest/centring.py, estimated as `lingodex ingest` does); both get the
isolation scores `lingodex ingest` stores (ingest/index/hubness.py). Columns,
on the held-out 30 % of a stable split of the queries: lexical; dense (plain
vectors); dense centred (k-NN scores alone); centred + hubness (the shipped
hubness_penalty); hybrid at the shipped defaults (centred, hubness); tuned
hybrid (the same; `lingodex tune`'s fusion stage on the other 70 %). MRR@10,
Recall@10 and the share of the top 10 in the query's own language, per query
language and overall.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from search import TATOEBA, fused_run, index_texts, read_lines, without_hubness  # noqa: E402

from lingodex.search_templates.relevance.evaluation import JudgedQuery, evaluate  # noqa: E402
from lingodex.search_templates.searcher import HybridSearcher  # noqa: E402

REFERENCE_LINES = 200  # ingest/reference/sentences.tsv holds these
HELD_OUT = 0.3
WIDTH = 200
COLUMNS = ("lexical", "dense", "dense centred", "centred + hubness", "hybrid", "tuned")


def mixed_pool(directory: Path) -> list[tuple[str, str, str]]:
    """(id, text, language) of both sides of every pair, past the reference lines."""
    docs = []
    for iso3, lang in TATOEBA.items():
        foreign = read_lines(directory / f"tatoeba.{iso3}-eng.{iso3}")
        english = read_lines(directory / f"tatoeba.{iso3}-eng.eng")
        for i in range(REFERENCE_LINES, len(foreign)):
            docs += [(f"{lang}:{i}:x", foreign[i], lang), (f"{lang}:{i}:en", english[i], "en")]
    return docs


def judged_queries(docs: list[tuple[str, str, str]], per_side: int, rng: random.Random) -> list[JudgedQuery]:
    """``per_side`` sentences of each side of each pair, each the query for its translation."""
    by_side: dict[tuple[str, str], list[tuple[str, str, str]]] = defaultdict(list)
    for doc in docs:
        pair, _, side = doc[0].split(":")
        by_side[(pair, side)].append(doc)
    judged = []
    for side_docs in by_side.values():
        for doc_id, text, lang in rng.sample(side_docs, min(per_side, len(side_docs))):
            pair, i, side = doc_id.split(":")
            translation = f"{pair}:{i}:{'en' if side == 'x' else 'x'}"
            judged.append(JudgedQuery(f"q-{doc_id}", text, lang, {translation: 1}, frozenset({doc_id})))
    return judged


def same_language_share(run: dict[str, dict[str, float]], queries: list[JudgedQuery], language: dict[str, str]) -> float:
    shares = []
    for query in queries:
        top = sorted(run[query.id].items(), key=lambda item: -item[1])[:10]
        shares.append(sum(language[doc] == query.lang for doc, _ in top) / max(len(top), 1))
    return sum(shares) / max(len(shares), 1)


def main() -> None:
    from lingodex.encoder import load_encoder
    from lingodex.searching import build_searcher
    from lingodex.settings import load_settings
    from lingodex.search_templates.relevance.lexical_tuning import prepare_queries
    from lingodex.search_templates.relevance.tuning import MIN_QUERIES, fetch_windows, split, sub_query_run, tune_windows

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tatoeba", type=Path, required=True)
    parser.add_argument("--queries-per-side", type=int, default=100)
    parser.add_argument("--keep-indices", action="store_true")
    args = parser.parse_args()
    settings = load_settings()
    encoder = load_encoder(settings.encoder)
    searcher: HybridSearcher = build_searcher(settings, encoder=encoder)
    rng = random.Random(20261130)
    started = time.time()
    docs = mixed_pool(args.tatoeba)
    rng.shuffle(docs)
    judged = judged_queries(docs, args.queries_per_side, rng)
    language = {doc_id: lang for doc_id, _, lang in docs}
    print(f"{len(docs)} documents in one index, {len(judged)} queries", flush=True)
    windows, languages = {}, {}
    for name, centring in (("plain", False), ("centred", True)):
        index = f"bench-cross-lingual-{name}"
        index_texts(searcher, encoder, index, docs, centring=centring)
        prepared, languages = prepare_queries(searcher, index, judged)
        windows[name], _ = fetch_windows(searcher, index, judged, WIDTH, without_hubness(searcher.params), prepared)
        if centring:
            windows["hubness"], _ = fetch_windows(searcher, index, judged, WIDTH, searcher.params, prepared)
        print(f"{name}: indexed and searched, {time.time() - started:.0f} s", flush=True)
        if not args.keep_indices:
            searcher.client.indices.delete(index=index)
    tuned, _ = tune_windows(searcher.params, judged, windows["hubness"], languages, held_out=HELD_OUT,
                            min_queries=MIN_QUERIES, min_window=searcher.params.default.window)
    _, held = split(judged, HELD_OUT)
    groups: dict[str, list[JudgedQuery]] = {"all": held}
    for query in held:
        groups.setdefault(query.lang, []).append(query)
    print("\nMRR@10 / Recall@10 / share of the top 10 in the query's language, held-out queries\n")
    print("| query lang | queries | " + " | ".join(COLUMNS) + " | centred / plain dense MRR | + hubness / plain |\n|"
          + " --- |" * 10)
    for group, queries in groups.items():
        runs = {
            "lexical": sub_query_run(queries, windows["centred"], 0),
            "dense": sub_query_run(queries, windows["plain"], 1),
            "dense centred": sub_query_run(queries, windows["centred"], 1),
            "centred + hubness": sub_query_run(queries, windows["hubness"], 1),
            "hybrid": fused_run(queries, windows["hubness"], lambda qid: searcher.params.for_language(languages[qid])),
            "tuned": fused_run(queries, windows["hubness"], lambda qid: tuned.for_language(languages[qid])),
        }
        metrics = {name: evaluate(queries, run, languages).overall for name, run in runs.items()}
        cells = [f"{metrics[name]['mrr@10']:.3f} / {metrics[name]['recall@10']:.3f} / "
                 f"{same_language_share(runs[name], queries, language):.2f}" for name in COLUMNS]
        plain = max(metrics["dense"]["mrr@10"], 1e-9)
        ratios = [metrics[name]["mrr@10"] / plain for name in ("dense centred", "centred + hubness")]
        print(f"| {group} | {len(queries)} | " + " | ".join(cells) + " | " + " | ".join(f"{r:.2f}×" for r in ratios)
              + " |", flush=True)
    print(f"\n{time.time() - started:.0f} s")


if __name__ == "__main__":
    main()
