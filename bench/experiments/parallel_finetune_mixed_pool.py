"""Can a short fine-tune on the shipped reference translations stop e5 preferring the query's own language?

    python bench/experiments/parallel_finetune_mixed_pool.py --tatoeba ../shared/data/tatoeba \
        [--shopee ../shared/data/shopee/dev.csv] [--reference 200] [--variants in-batch,mined] [--epochs 1]

Research, not product code (issue #20: centred dense is 1.39x plain dense MRR@10 in one mixed-language index, the
target 1.5x, and Hindi is below plain). Centring removes each language's mean; what is left of the bias lives in the
model. Here the base model is fine-tuned (encoder/finetune.py, as `lingodex finetune`) on the reference translations
only: the first ``--reference`` lines of each Tatoeba pair (19 languages <-> English), the lines whose foreign side
lingodex ships for centring; the pool below never contains them.

- ``in-batch``: the translation pairs both ways, MultipleNegativesRankingLoss with the batch's other sentences as
  negatives (what `lingodex finetune --parallel` mixes in);
- ``mined``: the same pairs, each with one hard negative: the reference sentence (of another line) the base model
  ranks highest for the anchor, below the margin. Under the language bias that is mostly a sentence of the anchor's
  own language, the exact mistake the mixed pool punishes; the share of same-language negatives is printed.

Measured, exact search, every model in fp32 (sentence-transformers, the profile's prefixes), on the pool of
bench/experiments/language_centring.py: every Tatoeba sentence past the reference lines, both sides, in one pool;
each sentence the query for its translation, its own sentence out; MRR@10 (same-language share of the top 10) per
true query language, plain and centred as lingodex centres (documents minus their detected language's passage mean,
queries minus its query-prefix mean, both from the pool). With --shopee, the catalog the model must not spoil:
title to title on the held-out 30 % of Shopee queries, nDCG@10, centred.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from finetune import encode  # noqa: E402  (bench/finetune.py: a model directory's fp32 vectors)
from language_centring import (CACHE, centre, detected, means_by_language, per_query_scores, read_pairs,  # noqa: E402
                               ShopeeQueries, shopee_held_out, shopee_report)

from lingodex.encoder.finetune import FinetuneSpec, TrainingData, finetune  # noqa: E402
from lingodex.encoder.models.model_source import resolve_model_dir  # noqa: E402
from lingodex.encoder.profile import ModelProfile, load_profile  # noqa: E402


def reference_data(ref: list[tuple[str, str]], mined: bool) -> TrainingData:
    """The reference lines as training data: (foreign, English) pairs; for mining, both directions with line groups."""
    pairs = [(ref[row][0], ref[row + 1][0]) for row in range(0, len(ref), 2)]  # read_pairs interleaves the two sides
    if not mined:
        return TrainingData(pairs=(), parallel=pairs, description={"reference lines": len(pairs)})
    lines = [f"{ref[row][1]}:{row}" for row in range(0, len(ref), 2)]
    both = [*pairs, *((english, foreign) for foreign, english in pairs)]
    corpus = [*zip(lines, (f for f, _ in pairs), strict=True), *zip(lines, (e for _, e in pairs), strict=True)]
    return TrainingData(pairs=both, pair_groups=[*lines, *lines], corpus=corpus,
                        description={"reference lines": len(pairs)})


def pool_scores(model_dir: Path, profile: ModelProfile, pool: list[tuple[str, str, str]],
                langs: list[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per query: reciprocal rank of its translation and same-language share, plain and centred."""
    ids, texts, truth = [p[0] for p in pool], [p[1] for p in pool], [p[2] for p in pool]
    docs = encode(model_dir, profile, texts, profile.passage_prefix)
    queries = encode(model_dir, profile, texts, profile.query_prefix)
    centred = centre(docs, langs, means_by_language(docs, langs)), centre(queries, langs, means_by_language(queries, langs))
    return {"plain": per_query_scores(ids, truth, queries, docs),
            "centred": per_query_scores(ids, truth, centred[1], centred[0])}


def shopee_ndcg(model_dir: Path, profile: ModelProfile, shopee: ShopeeQueries) -> dict[str, float]:
    """Title to title, held-out 30 % of the queries, own title out, centred: nDCG@10 overall and per language."""
    langs = shopee.langs
    docs = encode(model_dir, profile, shopee.titles, profile.passage_prefix)
    queries = encode(model_dir, profile, shopee.titles, profile.query_prefix)
    docs, queries = centre(docs, langs, means_by_language(docs, langs)), centre(queries, langs, means_by_language(queries, langs))
    report = shopee_report(shopee, docs, queries)
    return {"all": report.overall["ndcg@10"], **{lang: m["ndcg@10"] for lang, m in report.per_language.items()}}


def same_language_share(data: TrainingData, negatives: list[str], language_of: dict[str, str]) -> float:
    return float(np.mean([language_of.get(anchor) == language_of.get(negative)
                          for (anchor, _), negative in zip(data.pairs, negatives, strict=True)]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tatoeba", type=Path, required=True)
    parser.add_argument("--shopee", type=Path)
    parser.add_argument("--reference", type=int, default=200)
    parser.add_argument("--variants", default="in-batch,mined")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--output", type=Path, default=CACHE / "parallel-finetune")
    args = parser.parse_args()

    from lingodex.encoder.finetune import hard_negatives, sentence_model
    from lingodex.ingest.catalog.language import LanguageDetector
    from lingodex.settings import load_settings

    settings = load_settings()
    profile = load_profile(settings.encoder.profile)
    base = resolve_model_dir(profile, settings.encoder.models_dir)
    detect = LanguageDetector(settings.ingest.detect_languages, settings.ingest.min_language_confidence).detect
    pool, ref = read_pairs(args.tatoeba, args.reference)
    langs = detected("pool", [text for _, text, _ in pool], detect)
    shopee = shopee_held_out(args.shopee, lambda titles: detected("shopee", titles, detect)) if args.shopee else None
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: pool {len(pool)} sentences, "
          f"{len(ref) // 2} reference lines for training", flush=True)
    models = {"base": base}
    spec = FinetuneSpec(epochs=args.epochs)
    for variant in args.variants.split(","):
        mined = variant == "mined"
        data = reference_data(ref, mined)
        variant_spec = replace(spec, hard_negatives=mined)
        if mined:  # the share of mined negatives in the anchor's own language: is the bias what they teach?
            language_of = {text: lang for text, lang in ref}
            negatives = hard_negatives(sentence_model(base, profile, variant_spec), profile, data, variant_spec)
            print(f"{variant}: {same_language_share(data, negatives, language_of):.2f} of the mined negatives share "
                  "the anchor's language", flush=True)
        result = finetune(base, profile, data, args.output / variant, variant_spec)
        print(f"{variant}: {result.steps} logged losses {result.losses[0]:.3f} -> {result.losses[-1]:.3f}, "
              f"{result.seconds:.0f} s", flush=True)
        models[variant] = result.model_dir
    truth = np.array([lang for _, _, lang in pool])
    results = {}
    for name, model_dir in models.items():
        started = time.perf_counter()
        results[name] = pool_scores(model_dir, profile, pool, langs)
        ndcg = shopee_ndcg(model_dir, profile, shopee) if shopee else {}
        print(f"{name}: plain {results[name]['plain'][0].mean():.4f}, centred {results[name]['centred'][0].mean():.4f}"
              + ("; Shopee centred nDCG@10 " + ", ".join(f"{k} {v:.4f}" for k, v in ndcg.items()) if ndcg else "")
              + f" ({time.perf_counter() - started:.0f} s)", flush=True)
    columns = [(name, kind) for name in models for kind in ("plain", "centred")]
    base_plain = results["base"]["plain"][0]
    print("\nMRR@10 (same-language share of the top 10) by true query language; last column: best / base plain\n")
    print("| query lang | queries | " + " | ".join(f"{name} {kind}" for name, kind in columns) + " | ratio |")
    print("|" + " --- |" * (len(columns) + 3))
    for lang in ["all", *sorted(set(truth))]:
        rows = np.ones(len(truth), dtype=bool) if lang == "all" else truth == lang
        cells = [results[name][kind][0][rows].mean() for name, kind in columns]
        shares = [results[name][kind][1][rows].mean() for name, kind in columns]
        print(f"| {lang} | {rows.sum()} | " + " | ".join(f"{c:.3f} ({s:.2f})" for c, s in zip(cells, shares, strict=True))
              + f" | {max(cells) / base_plain[rows].mean():.2f}x |")


if __name__ == "__main__":
    main()
