"""After centring, does a per-language rotation learnt from a few hundred translated sentences align languages further?

    python bench/experiments/language_alignment.py --tatoeba ../shared/data/tatoeba \
        [--shopee ../shared/data/shopee/dev.csv] [--reference 200]

Research, not product code (issue #20: centred dense is 1.39x plain dense MRR@10, the target 1.5x, and Hindi is
below plain). Exact search in numpy over the vectors bench/experiments/language_centring.py caches (computed here
when absent), centred as lingodex centres them: documents minus their language's passage mean, queries minus its
query-prefix mean, both estimated from the pool.

The alignment: for each language L with reference translations (the first ``--reference`` lines of its Tatoeba
pair, kept out of the pool; lingodex already ships the foreign side of them for centring), X = L's reference
sentences and Y = their English translations, both centred by their own language's reference mean and
re-normalised. W_L is the orthogonal polar factor of (X^T Y + mu I): orthogonal Procrustes, regularised toward the
identity so that 200 pairs in 384 dimensions do not decide the directions they never span (mu -> infinity: no
map). Every vector of language L, document or query, becomes unit(v W_L); English and undetected text keep theirs.
A rotation keeps every cosine between two texts of the same language, so a catalog of one language cannot lose.

mu is chosen on the tuning queries (stable 70 % by pair line) and reported on the other 30 %, per query language.
Shopee (Indonesian/English titles, title to title, held-out 30 %): the Indonesian map (learnt on Tatoeba ind-eng)
applied to the titles detected as Indonesian, nDCG@10 centred vs centred + aligned.
"""

from __future__ import annotations

import sys
import zlib
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from language_centring import (Variants, arguments_encoder_detector, centre, detected, embedded,  # noqa: E402
                               means_by_language, per_query_scores, read_pairs, rows_by_language, shopee_scores,
                               unit)
from search import TATOEBA  # noqa: E402  (bench/search.py: Tatoeba's language codes -> the detector's)
MUS = (0.1, 0.3, 1.0, 3.0, 10.0, 30.0)


def rotations(ref: list[tuple[str, str]], ref_docs: np.ndarray, mu: float) -> dict[str, np.ndarray]:
    """Per language (ISO code): the orthogonal map of its centred reference sentences onto their English ones."""
    langs = [lang for _, lang in ref]
    centred = centre(ref_docs, langs, means_by_language(ref_docs, langs))
    rows: dict[str, list[int]] = defaultdict(list)
    for row in range(0, len(ref), 2):  # read_pairs interleaves (foreign, English)
        rows[ref[row][1]].append(row)
    maps = {}
    for pair, foreign in rows.items():
        x, y = centred[foreign], centred[[row + 1 for row in foreign]]
        u, _, vt = np.linalg.svd(x.T @ y + mu * np.eye(x.shape[1]))
        maps[TATOEBA[pair]] = u @ vt
    return maps


def aligned(vectors: np.ndarray, langs: list[str], maps: dict[str, np.ndarray]) -> np.ndarray:
    out = vectors.copy()
    for lang, rows in rows_by_language(langs).items():
        if lang in maps:
            out[rows] = vectors[rows] @ maps[lang]
    return unit(out)


def tuning_rows(ids: list[str]) -> np.ndarray:
    """Stable 70/30 split by pair line: a sentence and its translation fall on the same side."""
    return np.array([zlib.crc32(":".join(doc_id.split(":")[:2]).encode()) % 10 < 7 for doc_id in ids])


def run_tatoeba(directory: Path, reference: int, encoder, detect) -> dict[str, np.ndarray]:  # noqa: ANN001
    pool, ref = read_pairs(directory, reference)
    ids, texts, truth = [p[0] for p in pool], [p[1] for p in pool], [p[2] for p in pool]
    docs = embedded("pool-passages", texts, encoder.encode_passages)
    queries = embedded("pool-queries", texts, encoder.encode_queries)
    langs = detected("pool", texts, detect)
    ref_docs = embedded("reference-passages", [text for text, _ in ref], encoder.encode_passages)
    centred_docs = centre(docs, langs, means_by_language(docs, langs))
    centred_queries = centre(queries, langs, means_by_language(queries, langs))
    tune = tuning_rows(ids)
    variants = {"plain": (docs, queries), "centred": (centred_docs, centred_queries)}
    maps_of = {f"aligned mu {mu}": rotations(ref, ref_docs, mu) for mu in MUS}
    for name, maps in maps_of.items():
        variants[name] = (aligned(centred_docs, langs, maps), aligned(centred_queries, langs, maps))
    results = {}
    for name, (d, q) in variants.items():
        results[name] = per_query_scores(ids, truth, q, d)
        print(f"{name}: tuning MRR@10 {results[name][0][tune].mean():.4f}, "
              f"held-out {results[name][0][~tune].mean():.4f}", flush=True)
    best = max((name for name in results if name.startswith("aligned")), key=lambda name: results[name][0][tune].mean())
    print(f"\nchosen on the tuning queries: {best}\n")
    languages = sorted(set(truth))
    print("| query lang | held-out q | plain | centred | " + best + " | aligned / plain |")
    print("| --- | --- | --- | --- | --- | --- |")
    truth_array = np.array(truth)
    for lang in ["all", *languages]:
        rows = ~tune if lang == "all" else (~tune & (truth_array == lang))
        cells = [results[name][0][rows].mean() for name in ("plain", "centred", best)]
        print(f"| {lang} | {rows.sum()} | " + " | ".join(f"{c:.3f} ({results[n][1][rows].mean():.2f})"
                                                        for c, n in zip(cells, ("plain", "centred", best), strict=True))
              + f" | {cells[2] / cells[0]:.2f}x |")
    return maps_of[best]


def run_shopee(path: Path, encoder, detect, maps: dict[str, np.ndarray]) -> None:  # noqa: ANN001
    def centred_and_aligned(docs: np.ndarray, queries: np.ndarray, langs: list[str]) -> Variants:
        centred_docs = centre(docs, langs, means_by_language(docs, langs))
        centred_queries = centre(queries, langs, means_by_language(queries, langs))
        return {"centred": (centred_docs, centred_queries),
                "centred + aligned": (aligned(centred_docs, langs, maps), aligned(centred_queries, langs, maps))}

    shopee_scores(path, encoder, detect, centred_and_aligned)


def main() -> None:
    args, encoder, detect = arguments_encoder_detector(__doc__)
    maps = run_tatoeba(args.tatoeba, args.reference, encoder, detect)
    if args.shopee:
        run_shopee(args.shopee, encoder, detect, maps)


if __name__ == "__main__":
    main()
