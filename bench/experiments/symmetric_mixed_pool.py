"""`query: ` on the documents too, in a mixed-language pool: does the symmetric profile help cross-lingual search?

    python bench/experiments/symmetric_mixed_pool.py --tatoeba ../shared/data/tatoeba

Research, not product code. On one Tatoeba pair at a time (one document language) the
multilingual-e5-small-symmetric profile beats `passage: ` documents (README, "Document prefix"). A catalog in
many languages is the other case: every sentence of the 19 pairs, both sides, in one pool (lines 200 on; 0-199
are the reference sentences), each sentence's query its translation, own sentence out, exact search — the
pool of bench/experiments/language_centring.py, whose cached vectors this reads (run that first: it embeds the
pool both ways). Plain and centred per detected language, with `passage: ` and with `query: ` documents.
Outcome (BENCHMARKS.md, "Cross-lingual: language centroids"): the symmetric profile loses in a mixed pool.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from language_centring import cached_pool, centre, means_by_language, read_pairs, tatoeba_scores  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tatoeba", type=Path, required=True)
    parser.add_argument("--reference", type=int, default=200)
    args = parser.parse_args()
    pool, _ = read_pairs(args.tatoeba, args.reference)
    ids, truth = [p[0] for p in pool], [p[2] for p in pool]
    passages, queries, langs = cached_pool(len(pool))
    results = {}
    for name, docs in (("passage: documents", passages), ("query: documents", queries)):
        results[f"{name}, plain"] = tatoeba_scores(ids, truth, queries, docs)
        doc_means, query_means = means_by_language(docs, langs), means_by_language(queries, langs)
        results[f"{name}, centred"] = tatoeba_scores(ids, truth, centre(queries, langs, query_means),
                                                     centre(docs, langs, doc_means))
    print("MRR@10 (same-language share of the top 10) by the query's true language\n")
    print("| lang | " + " | ".join(results) + " |\n|" + " --- |" * (len(results) + 1))
    for lang in ["all", *sorted(lang for lang in results[next(iter(results))] if lang != "all")]:
        print(f"| {lang} | " + " | ".join(f"{table[lang][0]:.3f} ({table[lang][2]:.2f})" for table in results.values())
              + " |")


if __name__ == "__main__":
    main()
