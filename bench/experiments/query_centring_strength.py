"""Would a per-language strength for the query-side centroid, tuned on judgments, fix the languages centring hurts?

    python bench/experiments/query_centring_strength.py --tatoeba ../shared/data/tatoeba [--reference 200]

Research, not product code. The mixed-language Tatoeba pool of language_centring.py (every sentence of every
pair, both sides; each sentence the query for its translation, its own sentence excluded), exact search.
Documents are centred as ingest centres them (each minus its detected language's passage mean). A query is
``q - alpha[lang] * query_mean[lang]``: alpha 1 is what lingodex ships, 0 no query-side centring. Alpha is a
query-time parameter (documents are not touched), so `lingodex tune` could choose it per language like a fusion
weight: here it is chosen per detected query language on the stable 70 % tuning split and scored on the 30 %
held out, against alpha 1 everywhere and plain vectors.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from bench.experiments.language_centring import (  # noqa: E402 - after the path is set
    centre, detected, embedded, means_by_language, read_pairs, top10_without_self, translation,
    translation_reciprocal_ranks, unit)
from lingodex.search_templates.relevance.choice import split  # noqa: E402
from lingodex.search_templates.relevance.evaluation import JudgedQuery  # noqa: E402

ALPHAS = (0.0, 0.25, 0.5, 0.75, 1.0)


def reciprocal_ranks(ids: list[str], queries: np.ndarray, docs: np.ndarray) -> np.ndarray:
    """MRR@10 contribution of every query: its translation's reciprocal rank, its own sentence excluded."""
    return translation_reciprocal_ranks(ids, top10_without_self(queries, docs))


def main() -> None:
    from lingodex.encoder import load_encoder
    from lingodex.ingest.catalog.language import LanguageDetector
    from lingodex.settings import load_settings

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tatoeba", type=Path, required=True)
    parser.add_argument("--reference", type=int, default=200)
    args = parser.parse_args()
    settings = load_settings()
    encoder = load_encoder(settings.encoder)
    detect = LanguageDetector(settings.ingest.detect_languages, settings.ingest.min_language_confidence).detect
    pool, _ = read_pairs(args.tatoeba, args.reference)
    ids, texts, truth = [p[0] for p in pool], [p[1] for p in pool], [p[2] for p in pool]
    docs = embedded("pool-passages", texts, encoder.encode_passages)
    queries = embedded("pool-queries", texts, encoder.encode_queries)
    langs = detected("pool", texts, detect)
    centred_docs = centre(docs, langs, means_by_language(docs, langs))
    query_means = means_by_language(queries, langs)
    shift = np.stack([query_means.get(lang, query_means["*"]) for lang in langs])
    rr = {alpha: reciprocal_ranks(ids, unit(queries - alpha * shift), centred_docs) for alpha in ALPHAS}
    plain = reciprocal_ranks(ids, queries, docs)

    judged = [JudgedQuery(doc_id, text, lang, {translation(doc_id): 1}, frozenset({doc_id}))
              for doc_id, text, lang in zip(ids, texts, langs, strict=True)]
    tuning, held_out = split(judged, 0.3)
    row_of = {doc_id: row for row, doc_id in enumerate(ids)}
    by_lang: dict[str, list[int]] = defaultdict(list)
    for query in tuning:
        by_lang[query.lang].append(row_of[query.id])
    chosen = {lang: max(ALPHAS, key=lambda alpha: (rr[alpha][rows].mean(), alpha)) for lang, rows in by_lang.items()}
    held_rows = [row_of[query.id] for query in held_out]
    tuned = np.array([rr[chosen.get(langs[row], 1.0)][row] for row in held_rows])
    full = rr[1.0][held_rows]
    print(f"{len(tuning)} tuning, {len(held_out)} held-out queries; alpha per detected language: "
          + ", ".join(f"{lang} {alpha}" for lang, alpha in sorted(chosen.items())))
    print("\n| true query language | held-out queries | plain | alpha 1 (shipped) | alpha per language (tuned) |")
    print("| --- | --- | --- | --- | --- |")
    held_by_truth: dict[str, list[int]] = defaultdict(list)
    for position, row in enumerate(held_rows):
        held_by_truth[truth[row]].append(position)
    print(f"| **all** | {len(held_rows)} | {plain[held_rows].mean():.3f} | {full.mean():.3f} | {tuned.mean():.3f} |")
    for lang, positions in sorted(held_by_truth.items()):
        rows = [held_rows[p] for p in positions]
        print(f"| {lang} | {len(rows)} | {plain[rows].mean():.3f} | {full[positions].mean():.3f} | "
              f"{tuned[positions].mean():.3f} |")


if __name__ == "__main__":
    main()
