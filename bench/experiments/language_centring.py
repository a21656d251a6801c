"""Does removing each language's mean vector stop e5 from preferring the query's own language?

    python bench/experiments/language_centring.py --tatoeba ../shared/data/tatoeba \
        [--shopee ../shared/data/shopee/dev.csv] [--reference 200]

Research, not product code: exact search in numpy over vectors embedded with
the configured encoder (cached under /tmp/lingodex-centring), languages as
lingodex's detector gives them at ingest and at query time.

Mixed-language pool: every sentence of every Tatoeba pair, both sides, in one
pool (19 languages and English); each sentence is the query for its
translation, its own sentence excluded. The first ``--reference`` sentences of
each pair are kept out of the pool: they stand in for the reference sentences
the project ships, to estimate centroids of languages a catalog lacks.

Variants (all exact search):
- plain: the vectors as the encoder gives them;
- catalog: each document minus its language's mean over the pool, re-normalised;
  each query minus the pool mean of its detected language (the global mean when
  the pool has too few documents of that language);
- reference: the same with means from the reference sentences only;
- query-side: catalog means for documents, the reference *query* means (the
  sentences embedded with the query prefix) for queries;
- lir-k: catalog centring, then each language's top k principal directions
  (of its centred documents) projected out of its documents and queries;
- abtt-d, diagonal whitening, per-language diagonal: after catalog-q
  centring, the top d global principal directions removed, or each dimension
  divided by its spread (overall, or within the language).
Per pair (one language per index, as bench/search.py's Tatoeba rows) and
Shopee (one catalog, Indonesian/English: nDCG@10 title-to-title, held-out
30 %), plain vs centred: catalogs that are not mixed must not lose.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from lingodex.search_templates.relevance.choice import split  # noqa: E402
from lingodex.search_templates.relevance.evaluation import JudgedQuery, evaluate, ranking  # noqa: E402
from search import TATOEBA  # noqa: E402  (bench/search.py: the Tatoeba pair files and their languages)

PAIRS = tuple(TATOEBA)
CACHE = Path("/tmp/lingodex-centring")
MIN_DOCS = 20


def unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def rows_by_language(langs: list[str]) -> dict[str, list[int]]:
    by_lang: dict[str, list[int]] = defaultdict(list)
    for row, lang in enumerate(langs):
        by_lang[lang].append(row)
    return by_lang


def means_by_language(vectors: np.ndarray, langs: list[str]) -> dict[str, np.ndarray]:
    means = {lang: vectors[rows].mean(axis=0) for lang, rows in rows_by_language(langs).items() if len(rows) >= MIN_DOCS}
    means["*"] = vectors.mean(axis=0)
    return means


def centre(vectors: np.ndarray, langs: list[str], means: dict[str, np.ndarray], alpha: float = 1.0) -> np.ndarray:
    return unit(vectors - alpha * np.stack([means.get(lang, means["*"]) for lang in langs]))


def top_k(queries: np.ndarray, docs: np.ndarray, k: int, chunk: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    indices, scores = [], []
    for start in range(0, len(queries), chunk):
        block = queries[start:start + chunk] @ docs.T
        part = np.argpartition(-block, k, axis=1)[:, :k]
        part_scores = np.take_along_axis(block, part, axis=1)
        order = np.argsort(-part_scores, axis=1)
        indices.append(np.take_along_axis(part, order, axis=1))
        scores.append(np.take_along_axis(part_scores, order, axis=1))
    return np.concatenate(indices), np.concatenate(scores)


def embedded(name: str, texts: list[str], encode) -> np.ndarray:  # noqa: ANN001 - an encoder method
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"{name}-{len(texts)}.npy"
    if not path.exists():
        np.save(path, encode(texts))
    return np.load(path)


def cached_pool(size: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The mixed pool's passage vectors, query vectors and detected languages, as run_tatoeba cached them."""
    langs = (CACHE / f"pool-{size}.langs").read_text(encoding="utf-8").split("\n")
    return np.load(CACHE / f"pool-passages-{size}.npy"), np.load(CACHE / f"pool-queries-{size}.npy"), langs


def detected(name: str, texts: list[str], detect) -> list[str]:  # noqa: ANN001
    path = CACHE / f"{name}-{len(texts)}.langs"
    if not path.exists():
        path.write_text("\n".join(detect(text).code for text in texts), encoding="utf-8")
    return path.read_text(encoding="utf-8").split("\n")


def read_pairs(directory: Path, reference: int) -> tuple[list[tuple[str, str, str]], list[tuple[str, str]]]:
    """Pool (id, text, true language) and reference (text, true language) sentences."""
    pool, ref = [], []
    for pair in PAIRS:
        other = (directory / f"tatoeba.{pair}-eng.{pair}").read_text(encoding="utf-8").splitlines()
        english = (directory / f"tatoeba.{pair}-eng.eng").read_text(encoding="utf-8").splitlines()
        for i, (x, en) in enumerate(zip(other, english, strict=True)):
            if i < reference:
                ref += [(x, pair), (en, "eng")]
            else:
                pool += [(f"{pair}:{i}:x", x, pair), (f"{pair}:{i}:en", en, "eng")]
    return pool, ref


def translation(doc_id: str) -> str:
    pair, i, side = doc_id.split(":")
    return f"{pair}:{i}:{'en' if side == 'x' else 'x'}"


def top10_without_self(queries: np.ndarray, docs: np.ndarray) -> list[list[int]]:
    """Each query's first 10 documents by exact search, its own sentence (the same row) left out."""
    top, _ = top_k(queries, docs, 11)
    return [[hit for hit in hits if hit != row][:10] for row, hits in enumerate(top)]


def translation_reciprocal_ranks(ids: list[str], tops: list[list[int]]) -> np.ndarray:
    """Per query, 1 / the rank of its translation among its hits (0 when absent)."""
    position = {doc_id: row for row, doc_id in enumerate(ids)}
    return np.array([next((1 / rank for rank, hit in enumerate(hits, 1) if hit == position[translation(ids[row])]), 0.0)
                     for row, hits in enumerate(tops)])


def per_query_scores(ids: list[str], truth: list[str], queries: np.ndarray,
                     docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per query: its translation's reciprocal rank in the top 10 and the top 10's same-language share (own sentence out)."""
    tops = top10_without_self(queries, docs)
    same = np.array([sum(truth[hit] == truth[row] for hit in hits) / 10 for row, hits in enumerate(tops)])
    return translation_reciprocal_ranks(ids, tops), same


def tatoeba_scores(ids: list[str], truth: list[str], queries: np.ndarray, docs: np.ndarray) -> dict[str, tuple]:
    """Per query's true language: MRR@10, R@10, same-language share of the top 10 (own sentence excluded)."""
    stats: dict[str, list[tuple[float, float, float]]] = defaultdict(list)
    for row, (rr, same) in enumerate(zip(*per_query_scores(ids, truth, queries, docs), strict=True)):
        stats[truth[row]].append((rr, 1.0 if rr else 0.0, same))
    table = {lang: tuple(np.mean(values, axis=0)) for lang, values in stats.items()}
    table["all"] = tuple(np.mean([v for values in stats.values() for v in values], axis=0))
    return table


def language_spread(vectors: np.ndarray, langs: list[str]) -> np.ndarray:
    """Each row's language's per-dimension standard deviation (the overall one for rare languages)."""
    spread = {lang: vectors[rows].std(axis=0) for lang, rows in rows_by_language(langs).items() if len(rows) >= MIN_DOCS}
    overall = vectors.std(axis=0)
    return np.stack([spread.get(lang, overall) for lang in langs])


def lir(vectors: np.ndarray, langs: list[str], basis: dict[str, np.ndarray]) -> np.ndarray:
    out = vectors.copy()
    for row, lang in enumerate(langs):
        if lang in basis:
            directions = basis[lang]
            out[row] -= directions.T @ (directions @ out[row])
    return unit(out)


def language_bases(vectors: np.ndarray, langs: list[str], k: int) -> dict[str, np.ndarray]:
    return {lang: np.linalg.svd(vectors[rows] - vectors[rows].mean(axis=0), full_matrices=False)[2][:k]
            for lang, rows in rows_by_language(langs).items() if len(rows) >= MIN_DOCS}


def run_tatoeba(directory: Path, reference: int, encoder, detect) -> None:  # noqa: ANN001
    pool, ref = read_pairs(directory, reference)
    ids, texts, truth = [p[0] for p in pool], [p[1] for p in pool], [p[2] for p in pool]
    docs = embedded("pool-passages", texts, encoder.encode_passages)
    queries = embedded("pool-queries", texts, encoder.encode_queries)
    langs = detected("pool", texts, detect)
    ref_texts = [text for text, _ in ref]
    ref_docs = embedded("reference-passages", ref_texts, encoder.encode_passages)
    ref_queries = embedded("reference-queries", ref_texts, encoder.encode_queries)
    ref_langs = detected("reference", ref_texts, detect)
    print(f"pool {len(ids)} sentences, reference {len(ref_texts)}; detected languages "
          f"{Counter(langs).most_common(25)}")
    catalog = means_by_language(docs, langs)
    reference_means = means_by_language(ref_docs, ref_langs)
    reference_query_means = means_by_language(ref_queries, ref_langs)
    variants = {
        "plain": (docs, queries),
        "catalog": (centre(docs, langs, catalog), centre(queries, langs, catalog)),
        "reference": (centre(docs, langs, reference_means), centre(queries, langs, reference_means)),
        "query-side": (centre(docs, langs, catalog), centre(queries, langs, reference_query_means)),
    }
    catalog_queries = means_by_language(queries, langs)
    for alpha in (0.5, 0.75, 1.0):
        variants[f"catalog-q {alpha}"] = (centre(docs, langs, catalog, alpha), centre(queries, langs, catalog_queries, alpha))
    variants["reference-q"] = (centre(docs, langs, reference_means), centre(queries, langs, reference_query_means))
    true_docs, true_queries = means_by_language(docs, truth), means_by_language(queries, truth)
    variants["true-lang-q"] = (centre(docs, truth, true_docs), centre(queries, truth, true_queries))
    shifted_docs = docs - np.stack([catalog.get(lang, catalog["*"]) for lang in langs])
    shifted_queries = queries - np.stack([catalog_queries.get(lang, catalog_queries["*"]) for lang in langs])
    for d in (1, 2, 4, 8):  # "all but the top": global principal directions of the centred vectors removed
        both = np.concatenate([variants["catalog-q 1.0"][0], variants["catalog-q 1.0"][1]])
        top = np.linalg.svd(both[::3] - both.mean(axis=0), full_matrices=False)[2][:d]
        variants[f"abtt-{d}"] = tuple(unit(x - (x @ top.T) @ top) for x in variants["catalog-q 1.0"])
    spread = np.concatenate([shifted_docs, shifted_queries]).std(axis=0)
    variants["diagonal whitening"] = (unit(shifted_docs / spread), unit(shifted_queries / spread))
    variants["per-language diagonal"] = (unit(shifted_docs / language_spread(shifted_docs, langs)),
                                         unit(shifted_queries / language_spread(shifted_queries, langs)))
    centred_docs, centred_queries = variants["catalog"]
    for k in (1, 3):
        basis = language_bases(centred_docs, langs, k)
        variants[f"lir-{k}"] = (lir(centred_docs, langs, basis), lir(centred_queries, langs, basis))
    results = {name: tatoeba_scores(ids, truth, q, d) for name, (d, q) in variants.items()}
    languages = sorted(results["plain"])
    print("\nMRR@10 (same-language share of the top 10) by the query's true language\n")
    print("| lang | " + " | ".join(results) + " |\n|" + " --- |" * (len(results) + 1))
    for lang in languages:
        cells = [f"{results[name][lang][0]:.3f} ({results[name][lang][2]:.2f})" for name in results]
        print(f"| {lang} | " + " | ".join(cells) + " |")
    print("\nR@10 overall: " + ", ".join(f"{name} {results[name]['all'][1]:.3f}" for name in results))


Variants = dict[str, tuple[np.ndarray, np.ndarray]]


def run_shopee(path: Path, encoder, detect) -> None:  # noqa: ANN001
    def plain_and_catalog(docs: np.ndarray, queries: np.ndarray, langs: list[str]) -> Variants:
        means = means_by_language(docs, langs)
        return {"plain": (docs, queries), "catalog": (centre(docs, langs, means), centre(queries, langs, means))}

    shopee_scores(path, encoder, detect, plain_and_catalog)


def shopee_scores(path: Path, encoder, detect,  # noqa: ANN001
                  variants_of: Callable[[np.ndarray, np.ndarray, list[str]], Variants]) -> None:
    """Title to title on Shopee (held-out 30 %, own title out): nDCG@10 of each variant of the cached vectors."""
    shopee = shopee_held_out(path, lambda texts: detected("shopee", texts, detect))
    docs = embedded("shopee-passages", shopee.titles, encoder.encode_passages)
    queries = embedded("shopee-queries", shopee.titles, encoder.encode_queries)
    for name, (d, q) in variants_of(docs, queries, shopee.langs).items():
        report = shopee_report(shopee, d, q)
        cells = ", ".join(f"{lang} {metrics['ndcg@10']:.3f}" for lang, metrics in report.per_language.items())
        print(f"shopee {name}: all {report.overall['ndcg@10']:.4f}; {cells}", flush=True)


class ShopeeQueries(NamedTuple):
    ids: list[str]
    titles: list[str]
    langs: list[str]  # each title's detected language
    held_out: list[JudgedQuery]


def shopee_held_out(path: Path, languages_of: Callable[[list[str]], list[str]]) -> ShopeeQueries:
    """Shopee's titles (blank ones dropped) and the held-out 30 % of the title queries with a group mate: the mates
    relevant, the query's own listing excluded."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["title"].strip()]
    ids = [row["posting_id"] for row in rows]
    titles = [row["title"] for row in rows]
    groups: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        groups[row["label_group"]].append(row["posting_id"])
    langs = languages_of(titles)
    judged = [JudgedQuery(doc_id, title, lang, {mate: 1 for mate in groups[row["label_group"]] if mate != doc_id},
                          frozenset({doc_id}))
              for doc_id, title, row, lang in zip(ids, titles, rows, langs, strict=True)
              if len(groups[row["label_group"]]) > 1]
    return ShopeeQueries(ids, titles, langs, split(judged, 0.3)[1])


def shopee_report(shopee: ShopeeQueries, docs: np.ndarray, queries: np.ndarray) -> Any:
    """trec_eval-style metrics of exact search: each held-out query's vector (a row of ``queries``) against ``docs``."""
    ids, held_out = shopee.ids, shopee.held_out
    position = {doc_id: row for row, doc_id in enumerate(ids)}
    top, scores = top_k(queries[[position[query.id] for query in held_out]], docs, 101)
    run = {query.id: ranking(query.without_excluded([(ids[i], float(s)) for i, s in zip(t, sc, strict=True)])[:100])
           for query, t, sc in zip(held_out, top, scores, strict=True)}
    return evaluate(held_out, run, {query.id: query.lang for query in held_out})


def arguments_encoder_detector(description: str | None) -> tuple[argparse.Namespace, Any, Callable[[str], Any]]:
    """--tatoeba, --shopee, --reference; the configured encoder; lingodex's language detector as ingest runs it."""
    from lingodex.encoder import load_encoder
    from lingodex.ingest.catalog.language import LanguageDetector
    from lingodex.settings import load_settings

    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tatoeba", type=Path, required=True)
    parser.add_argument("--shopee", type=Path)
    parser.add_argument("--reference", type=int, default=200)
    args = parser.parse_args()
    settings = load_settings()
    detector = LanguageDetector(settings.ingest.detect_languages, settings.ingest.min_language_confidence)
    return args, load_encoder(settings.encoder), detector.detect


def main() -> None:
    args, encoder, detect = arguments_encoder_detector(__doc__)
    run_tatoeba(args.tatoeba, args.reference, encoder, detect)
    per_pair(args.tatoeba, args.reference)
    if args.shopee:
        run_shopee(args.shopee, encoder, detect)



def per_pair(directory: Path, reference: int) -> None:
    """Tatoeba as bench/search.py runs it (one pair per index, one language per index), plain vs centred, exact search.

    Documents: one side of the pair; their centroid is the catalog's (all of them); the query side's language is
    absent from the index, so its centroid is the reference one, as lingodex does.
    """
    pool, ref = read_pairs(directory, reference)
    ids, truth = [p[0] for p in pool], [p[2] for p in pool]
    docs, queries, _ = cached_pool(len(pool))
    ref_langs = [lang for _, lang in ref]
    ref_queries = np.load(CACHE / f"reference-queries-{len(ref)}.npy")
    ref_query_means = means_by_language(ref_queries, ref_langs)
    print("\nper pair, MRR@10 plain → centred (query side → document side)\n")
    deltas = []
    for pair in PAIRS:
        for query_side, doc_side in (("x", "en"), ("en", "x")):
            d_rows = [i for i, doc_id in enumerate(ids) if doc_id.startswith(f"{pair}:") and doc_id.endswith(f":{doc_side}")]
            q_rows = [i for i, doc_id in enumerate(ids) if doc_id.startswith(f"{pair}:") and doc_id.endswith(f":{query_side}")]
            d_lang, q_lang = truth[d_rows[0]], truth[q_rows[0]]
            d, q = docs[d_rows], queries[q_rows]
            doc_mean = d.mean(axis=0)
            q_mean = ref_query_means.get(q_lang, ref_query_means["*"])
            scores = []
            for dd, qq in ((d, q), (unit(d - doc_mean), unit(q - q_mean))):
                top, _ = top_k(qq, dd, 10)
                scores.append(np.mean([next((1 / r for r, hit in enumerate(row, 1) if hit == i), 0.0)
                                       for i, row in enumerate(top)]))
            deltas.append(scores[1] - scores[0])
            print(f"{q_lang}→{d_lang}: {scores[0]:.3f} → {scores[1]:.3f}")
    print(f"mean change {np.mean(deltas):+.4f}, worst {min(deltas):+.4f}, rows losing > 0.005: "
          f"{sum(delta < -0.005 for delta in deltas)} of {len(deltas)}")


if __name__ == "__main__":
    main()
