"""Retrieval quality of lexical, dense, hybrid (default parameters) and hybrid (tuned) per language, in one run.

    python bench/search.py --tatoeba ../shared/data/tatoeba --shopee ../shared/data/shopee/dev.csv \
        [--queries-per-language 200] [--shopee-queries 2000]

Datasets (indexed with the configured encoder and the products mapping into
the local node, `make opensearch-up`):
- Tatoeba as cross-lingual search, both directions per language pair: the
  1,000 English sentences indexed and each X sentence the query for its
  translation (X→en), and the reverse (en→X). One relevant document each.
- Shopee dev titles: all titles indexed; each sampled title the query, the
  other titles of its group (same product) relevant, the title itself not.

Each query's lexical and dense windows (100 deep) are fetched once; lexical
and dense are those lists, hybrid is fused from them with the cluster's
arithmetic (tested equal to the neural-search pipeline). Queries are split
per dataset-language by a stable hash: `lingodex tune`'s grid picks the tuned
parameters on 70 % and every column is reported on the held-out 30 %.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from encoder import Encoder  # noqa: E402
from search_templates.evaluation import JudgedQuery, evaluate  # noqa: E402
from search_templates.searcher import HybridSearcher  # noqa: E402

TATOEBA = {"ara": "ar", "cmn": "zh", "deu": "de", "fra": "fr", "heb": "he", "hin": "hi", "ind": "id", "ita": "it",
           "jpn": "ja", "kor": "ko", "nld": "nl", "pol": "pl", "por": "pt", "rus": "ru", "spa": "es", "swe": "sv",
           "tha": "th", "tur": "tr", "vie": "vi"}
METRICS = ("ndcg@10", "recall@10")


def index_texts(searcher: HybridSearcher, encoder: Encoder, index: str, docs: list[tuple[str, str, str]]) -> None:
    """(id, text, lang) as products with that title, embedded in this process (ingest speed is bench/ingest.py's)."""
    from ingest.batch import embed_records
    from ingest.documents import PreparedRecord
    from ingest.indexer import bulk_index, recreate_index
    from ingest.language import LanguageGuess
    from ingest.mappings import PRODUCTS, EncoderIdentity, index_body
    from ingest.schema import CatalogProduct

    identity = EncoderIdentity(encoder.model_id, encoder.fingerprint, encoder.dimension)
    recreate_index(searcher.client, index, index_body(PRODUCTS, encoder=identity))
    for start in range(0, len(docs), 500):
        prepared = [PreparedRecord(position=i, product=CatalogProduct(id=doc_id, title=text),
                                   language=LanguageGuess(lang, 1.0, "declared"))
                    for i, (doc_id, text, lang) in enumerate(docs[start:start + 500], start=start + 1)]
        embedded = embed_records(prepared, encoder, {}, index, searcher.analyzed)
        outcome = bulk_index(searcher.client, index, embedded["documents"])
        if outcome.rejected:
            raise RuntimeError(f"{index}: refused {outcome.rejected[:2]}")
    searcher.client.indices.refresh(index=index)


def read_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def tatoeba_tasks(directory: Path, per_language: int, rng: random.Random, only: set[str]):  # noqa: ANN201
    """(name, lang, documents, judged queries) for X→en and en→X of every pair."""
    for iso3, lang in TATOEBA.items():
        if only and lang not in only:
            continue
        foreign = read_lines(directory / f"tatoeba.{iso3}-eng.{iso3}")
        english = read_lines(directory / f"tatoeba.{iso3}-eng.eng")
        sample = sorted(rng.sample(range(len(foreign)), min(per_language, len(foreign))))
        yield (f"tatoeba {lang}→en", lang, [(str(i), text, "en") for i, text in enumerate(english)],
               [JudgedQuery(f"{lang}-{i}", foreign[i], lang, {str(i): 1}) for i in sample])
        yield (f"tatoeba en→{lang}", "en", [(str(i), text, lang) for i, text in enumerate(foreign)],
               [JudgedQuery(f"en-{i}", english[i], "en", {str(i): 1}) for i in sample])


def shopee_task(path: Path, queries: int, rng: random.Random, detect):  # noqa: ANN001, ANN201
    with path.open(encoding="utf-8", newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["title"].strip()]
    groups: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        groups[row["label_group"]].append(row["posting_id"])
    languages = {row["posting_id"]: detect(row["title"]).code for row in rows}
    docs = [(row["posting_id"], row["title"], languages[row["posting_id"]]) for row in rows]
    candidates = [row for row in rows if len(groups[row["label_group"]]) > 1]
    judged = [JudgedQuery(row["posting_id"], row["title"], languages[row["posting_id"]],
                          {other: 1 for other in groups[row["label_group"]] if other != row["posting_id"]})
              for row in rng.sample(candidates, min(queries, len(candidates)))]
    return "shopee", docs, judged


def report(name: str, searcher: HybridSearcher, index: str, judged: list[JudgedQuery]) -> list[dict]:
    """Rows per query language: the four strategies on held-out queries, and what tuning chose."""
    from search_templates.tuning import choose, fetch_windows, score, split, sub_query_run

    windows, languages = fetch_windows(searcher, index, judged, 100)
    by_language: dict[str, list[JudgedQuery]] = defaultdict(list)
    for query in judged:
        by_language[languages[query.id]].append(query)
    rows = []
    for lang, queries in sorted(by_language.items()):
        tuning, held = split(queries, 0.3)
        if len(tuning) < 20 or len(held) < 10:
            continue
        default = searcher.params.for_language(lang)
        tuned = choose(lang, tuning, held, windows, languages, default).chosen
        row = {"dataset": name, "lang": lang, "held_out": len(held), "chosen": describe(tuned)}
        for column, run in (("lexical", sub_query_run(held, windows, 0)), ("dense", sub_query_run(held, windows, 1))):
            row[column] = evaluate(held, run, languages).overall
        row["hybrid"] = score(held, windows, languages, default).overall
        row["tuned"] = score(held, windows, languages, tuned).overall
        rows.append(row)
        print(format_row(row), flush=True)
    return rows


def describe(params) -> str:  # noqa: ANN001
    if params.fusion == "rrf":
        return f"rrf {params.rank_constant}, w{params.window}"
    return f"{params.normalization}/{params.combination.split('_')[0]} {params.lexical_weight:.1f}, w{params.window}"


def format_row(row: dict) -> str:
    cells = [f"{row[column][metric]:.3f}" for metric in METRICS for column in ("lexical", "dense", "hybrid", "tuned")]
    best_single = max(row["lexical"]["ndcg@10"], row["dense"]["ndcg@10"])
    verdict = "≥" if row["tuned"]["ndcg@10"] >= best_single else "<"
    return f"| {row['dataset']} | {row['lang']} | {row['held_out']} | " + " | ".join(cells) + f" | {verdict} | {row['chosen']} |"


def main() -> None:
    from encoder import load_encoder
    from lingodex.searching import build_searcher
    from lingodex.settings import load_settings

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tatoeba", type=Path, required=True)
    parser.add_argument("--shopee", type=Path, required=True)
    parser.add_argument("--queries-per-language", type=int, default=200)
    parser.add_argument("--shopee-queries", type=int, default=2000)
    parser.add_argument("--languages", default="", help="comma-separated Tatoeba languages (default: all 19)")
    parser.add_argument("--no-shopee", action="store_true")
    parser.add_argument("--keep-indices", action="store_true")
    args = parser.parse_args()
    settings = load_settings()
    encoder = load_encoder(settings.encoder)
    searcher = build_searcher(settings, encoder=encoder)
    rng = random.Random(20261122)
    started = time.time()
    print("| dataset | lang | held-out q | nDCG@10 lexical | dense | hybrid | tuned | R@10 lexical | dense | hybrid "
          "| tuned | tuned ≥ best single | tuned parameters |\n|" + " --- |" * 14)
    only = {lang for lang in args.languages.split(",") if lang}
    tasks = list(tatoeba_tasks(args.tatoeba, args.queries_per_language, rng, only))
    if not args.no_shopee:
        name, docs, judged = shopee_task(args.shopee, args.shopee_queries, rng, searcher.detector.detect)
        tasks.append((name, None, docs, judged))
    rows = []
    for number, (name, _, docs, judged) in enumerate(tasks):
        index = f"bench-search-{number}"
        index_texts(searcher, encoder, index, docs)
        rows += report(name, searcher, index, judged)
        if not args.keep_indices:
            searcher.client.indices.delete(index=index)
    wins = sum(row["tuned"]["ndcg@10"] >= max(row["lexical"]["ndcg@10"], row["dense"]["ndcg@10"]) for row in rows)
    print(f"\ntuned hybrid ≥ the better of lexical and dense (nDCG@10, held-out) in {wins} of {len(rows)} rows; "
          f"{time.time() - started:.0f} s")


if __name__ == "__main__":
    main()
