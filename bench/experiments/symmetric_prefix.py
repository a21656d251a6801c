"""Title-to-title search: does e5's `query: ` prefix on the documents too beat `query:`/`passage:`?

    python bench/experiments/symmetric_prefix.py --shopee ../shared/data/shopee/dev.csv \
        [--tatoeba ../shared/data/tatoeba --languages de,ja,id]

Research, not product code. Exact search in numpy (no ANN in the way) over
every Shopee dev title, every title a query for the other titles of its
product group, its own title excluded, scored on the held-out 30 % of the
stable split; and Tatoeba X→en per pair (one relevant translation). Documents
are embedded once with `passage: ` (the shipped profile) and once with
`query: ` (the multilingual-e5-small-symmetric profile); queries always with
`query: `. The README's choice of profile per task rests on these rows.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from lingodex.search_templates.relevance.choice import split  # noqa: E402
from lingodex.search_templates.relevance.evaluation import JudgedQuery, evaluate, ranking  # noqa: E402

TATOEBA = {"deu": "de", "jpn": "ja", "ind": "id", "cmn": "zh", "ara": "ar", "spa": "es"}


def exact_run(judged: list[JudgedQuery], queries: np.ndarray, docs: np.ndarray, ids: list[str]) -> dict:
    run = {}
    for query, vector in zip(judged, queries, strict=True):
        scores = docs @ vector
        top = np.argsort(-scores)[:101]
        hits = [(ids[i], float(scores[i])) for i in top]
        run[query.id] = ranking(query.without_excluded(hits)[:100])
    return run


def main() -> None:
    from lingodex.encoder import load_encoder
    from lingodex.settings import load_settings

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shopee", type=Path, required=True)
    parser.add_argument("--tatoeba", type=Path)
    args = parser.parse_args()
    encoder = load_encoder(load_settings().encoder)
    with args.shopee.open(encoding="utf-8", newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["title"].strip()]
    groups: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        groups[row["label_group"]].append(row["posting_id"])
    ids = [row["posting_id"] for row in rows]
    titles = [row["title"] for row in rows]
    as_queries = encoder.encode_queries(titles)
    as_passages = encoder.encode_passages(titles)
    judged = [JudgedQuery(row["posting_id"], row["title"], None,
                          {other: 1 for other in groups[row["label_group"]] if other != row["posting_id"]},
                          exclude=frozenset({row["posting_id"]})) for row in rows]
    _, held = split(judged, 0.3)
    position = {doc_id: i for i, doc_id in enumerate(ids)}
    held_queries = as_queries[[position[query.id] for query in held]]
    print("| task | documents `passage: ` | documents `query: ` |\n| --- | --- | --- |")
    cells = [evaluate(held, exact_run(held, held_queries, docs, ids), {}).overall["ndcg@10"]
             for docs in (as_passages, as_queries)]
    print(f"| Shopee title → group (nDCG@10, {len(held)} held-out) | {cells[0]:.3f} | {cells[1]:.3f} |", flush=True)
    if args.tatoeba:
        for iso3, lang in TATOEBA.items():
            foreign = (args.tatoeba / f"tatoeba.{iso3}-eng.{iso3}").read_text(encoding="utf-8").splitlines()
            english = (args.tatoeba / f"tatoeba.{iso3}-eng.eng").read_text(encoding="utf-8").splitlines()
            doc_ids = [str(i) for i in range(len(english))]
            judged = [JudgedQuery(f"{lang}-{i}", text, lang, {str(i): 1}) for i, text in enumerate(foreign)]
            queries = encoder.encode_queries(foreign)
            cells = [evaluate(judged, exact_run(judged, queries, docs, doc_ids), {}).overall["mrr@10"]
                     for docs in (encoder.encode_passages(english), encoder.encode_queries(english))]
            print(f"| Tatoeba {lang}→en (MRR@10, {len(judged)}) | {cells[0]:.3f} | {cells[1]:.3f} |", flush=True)


if __name__ == "__main__":
    main()
