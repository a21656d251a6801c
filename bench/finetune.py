"""Does fine-tuning on a catalog's own product groups find the right product more often, without losing languages?

    python bench/finetune.py --shopee ../shared/data/shopee/dev.csv --tatoeba ../shared/data/tatoeba \
        [--pairs-per-group 2] [--parallel-per-language 100] [--epochs 1] [--lora] [--hard-negatives [--negatives-from model,lexical]] \
        [--student-layers 6 [--student-epochs 1] [--student-learning-rate 1e-4] [--distill-reference]
         [--teacher <a fine-tuned model of an earlier run>]]

Shopee groups (`label_group`: listings of one product) are split 70/30 by a stable hash of the group
(ingest/training_pairs.py), never by pair. The model is trained on pairs of listings of the 70 % groups
(encoder/finetune.py, the same code as `lingodex finetune`), plus, with --parallel-per-language, Tatoeba
sentence pairs (lines 600-999 of each pair file) so that cross-lingual alignment is kept.

Measured before and after, exact search with the model as trained (sentence-transformers, fp32, the
profile's prefixes): title-to-title retrieval among the held-out 30 % (every title with a group mate is a
query, its own listing removed, the group mates relevant; nDCG@10 and Recall@10 by trec_eval's code), and
Tatoeba acc@1 (19 languages to English, lines 200-599, which neither the training nor the shipped reference
sentences use).

With --student-layers, a student with that many of the fine-tuned teacher's layers is distilled from it
(encoder/distill.py, as `lingodex finetune --student-layers`) on the training groups' titles and the parallel
sentences (with --distill-reference also the 4,000 reference sentences of 20 languages shipped for centring,
Tatoeba lines 0-199), measured the same way, and both are exported to ONNX fp32 (the precision fine-tuned models run in on a
CPU) and timed on the held-out titles, interleaved, in this one process: docs/s, model file size, and each one's
peak RSS in a fresh process that loads it and embeds one query (as `lingodex search` does).
"""

from __future__ import annotations

import argparse
import csv
import platform
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from search import TATOEBA  # noqa: E402  (bench/search.py: the Tatoeba pair files and their languages)
from lingodex.encoder.distill import StudentSpec, distill  # noqa: E402
from lingodex.encoder.finetune import FinetuneSpec, TrainingData, finetune  # noqa: E402
from lingodex.encoder.models.model_source import resolve_model_dir  # noqa: E402
from lingodex.encoder.profile import ModelProfile, load_profile  # noqa: E402
from lingodex.ingest.centring import read_reference_sentences  # noqa: E402
from lingodex.ingest.training_pairs import GroupedTexts  # noqa: E402

EVAL_LINES, TRAIN_LINES = range(200, 600), range(600, 1000)


def encode(model_dir: Path, profile: ModelProfile, texts: list[str], prefix: str) -> np.ndarray:
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.models import Normalize, Pooling, Transformer

    transformer = Transformer(str(model_dir), max_seq_length=64, model_args={"local_files_only": True},
                              tokenizer_args={"local_files_only": True})
    model = SentenceTransformer(modules=[transformer, Pooling(transformer.get_word_embedding_dimension(), profile.pooling),
                                         Normalize()], device="cpu")
    return model.encode([prefix + text for text in texts], batch_size=64, convert_to_numpy=True)


def title_retrieval(model_dir: Path, profile: ModelProfile, held: GroupedTexts) -> dict[str, float]:
    import pytrec_eval

    titles = [(group, text) for group, texts in held.groups.items() for text in texts]
    queries = encode(model_dir, profile, [text for _, text in titles], profile.query_prefix)
    passages = encode(model_dir, profile, [text for _, text in titles], profile.passage_prefix)
    scores = queries @ passages.T
    np.fill_diagonal(scores, -np.inf)  # the query's own listing is never counted
    qrels, run = {}, {}
    for i, (group, _) in enumerate(titles):
        mates = {str(j): 1 for j, (other, _) in enumerate(titles) if other == group and j != i}
        if not mates:
            continue
        top = np.argpartition(-scores[i], 100)[:100]
        qrels[str(i)] = mates
        run[str(i)] = {str(j): float(scores[i, j]) for j in top}
    measured = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut.10", "recall.10"}).evaluate(run)
    return {"queries": len(qrels), "ndcg@10": float(np.mean([m["ndcg_cut_10"] for m in measured.values()])),
            "recall@10": float(np.mean([m["recall_10"] for m in measured.values()]))}


def tatoeba_lines(folder: Path, code: str, lines: range) -> tuple[list[str], list[str]]:
    foreign = (folder / f"tatoeba.{code}-eng.{code}").read_text(encoding="utf-8").splitlines()
    english = (folder / f"tatoeba.{code}-eng.eng").read_text(encoding="utf-8").splitlines()
    return [foreign[i] for i in lines if i < len(foreign)], [english[i] for i in lines if i < len(english)]


def tatoeba_accuracy(model_dir: Path, profile: ModelProfile, folder: Path) -> dict[str, float]:
    """acc@1 of each language's sentence finding its English translation among the English side (query prefix both)."""
    found = {}
    for code, lang in TATOEBA.items():
        foreign, english = tatoeba_lines(folder, code, EVAL_LINES)
        a = encode(model_dir, profile, foreign, profile.query_prefix)
        b = encode(model_dir, profile, english, profile.query_prefix)
        found[lang] = float(np.mean(np.argmax(a @ b.T, axis=1) == np.arange(len(foreign))))
    return found


PEAK_RSS = """
import sys
from pathlib import Path
from lingodex.encoder.profile import load_profile
from lingodex.encoder.runtime.onnx_encoder import OnnxEncoder
OnnxEncoder(load_profile(sys.argv[1]), Path(sys.argv[2])).encode_queries(["sepatu lari pria"])
print(next(int(line.split()[1]) // 1024 for line in Path("/proc/self/status").read_text().splitlines()
           if line.startswith("VmHWM:")))
"""


def speed(models: dict[str, Path], texts: list[str], cache: Path, rounds: int = 3) -> dict[str, dict[str, float]]:
    """docs/s of each model's ONNX fp32 export through lingodex's encoder, rounds interleaved, best kept."""
    import subprocess

    from lingodex.encoder.export.onnx_export import ExportSpec, exported_model
    from lingodex.encoder.runtime.onnx_encoder import OnnxEncoder

    encoders, exports = {}, {}
    for name, model_dir in models.items():
        profile = load_profile(str(model_dir / "profile.yaml"))
        exports[name] = exported_model(model_dir, profile, ExportSpec("fp32"), cache)
        encoders[name] = OnnxEncoder(profile, exports[name])
        encoders[name].encode_passages(texts[:256])  # warm-up
    best = dict.fromkeys(models, 0.0)
    for _ in range(rounds):
        for name, encoder in encoders.items():
            started = time.perf_counter()
            encoder.encode_passages(texts)
            best[name] = max(best[name], len(texts) / (time.perf_counter() - started))
    rows = {}
    for name, model_dir in models.items():
        rss = subprocess.run([sys.executable, "-c", PEAK_RSS, str(model_dir / "profile.yaml"), str(exports[name])],
                             capture_output=True, text=True, check=True, cwd=REPO).stdout.split()[-1]
        rows[name] = {"docs_per_s": best[name], "model_mib": (exports[name] / "model.onnx").stat().st_size / 2**20,
                      "peak_rss_mib": float(rss)}
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shopee", type=Path, required=True)
    parser.add_argument("--tatoeba", type=Path, required=True)
    parser.add_argument("--held-out", type=float, default=0.3)
    parser.add_argument("--pairs-per-group", type=int, default=2)
    parser.add_argument("--parallel-per-language", type=int, default=100)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=2e-5)
    parser.add_argument("--lora", action="store_true")
    parser.add_argument("--hard-negatives", action="store_true",
                        help="also train with one mined hard negative per pair, side by side with in-batch negatives only")
    parser.add_argument("--negatives-from", default="model",
                        help="with --hard-negatives: who mines them, model and/or lexical (BM25), one variant each")
    parser.add_argument("--student-layers", type=int, default=0,
                        help="also distil a student with this many of the fine-tuned teacher's layers")
    parser.add_argument("--student-learning-rate", type=float, default=1e-4)
    parser.add_argument("--student-epochs", type=int, default=1)
    parser.add_argument("--distill-reference", action="store_true",
                        help="also teach the student the reference sentences shipped for centring (20 languages)")
    parser.add_argument("--teacher", type=Path,
                        help="a model fine-tuned by an earlier run with the same arguments: measured, not trained again")
    args = parser.parse_args()

    from lingodex.settings import load_settings

    settings = load_settings()
    profile = load_profile(settings.encoder.profile)
    base = resolve_model_dir(profile, settings.encoder.models_dir)
    with args.shopee.open(encoding="utf-8") as handle:
        grouped = GroupedTexts.of((row["label_group"], row["title"]) for row in csv.DictReader(handle))
    train, held = grouped.split(args.held_out)
    grouped_pairs = train.grouped_pairs(args.pairs_per_group)
    pairs = [pair for _, pair in grouped_pairs]
    parallel = []
    for code in TATOEBA:
        foreign, english = tatoeba_lines(args.tatoeba, code, TRAIN_LINES)
        parallel += list(zip(foreign, english, strict=False))[:args.parallel_per_language]
    spec = FinetuneSpec(epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.learning_rate, lora=args.lora)
    print(f"# bench/finetune.py on {platform.node()}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: "
          f"{len(train.groups)} training groups, {len(held.groups)} held-out groups; {len(pairs)} pairs, "
          f"{len(parallel)} parallel pairs; {spec}", flush=True)
    before = title_retrieval(base, profile, held), tatoeba_accuracy(base, profile, args.tatoeba)
    print(f"before: {before[0]}; Tatoeba mean acc@1 {np.mean(list(before[1].values())):.4f}", flush=True)
    data = TrainingData(pairs, parallel, pair_groups=[group for group, _ in grouped_pairs], corpus=train.texts())
    rows = {"base": before}
    variants = [("fine-tuned", spec)]
    if args.hard_negatives:
        for source in args.negatives_from.split(","):
            variants.append((f"fine-tuned, {source}-mined hard negatives",
                             replace(spec, hard_negatives=True, negatives_from=source)))
    speeds: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="lingodex-bench-ft-") as scratch:
        for name, variant in variants:
            if args.teacher and name == "fine-tuned":
                (Path(scratch) / name).symlink_to(args.teacher.resolve())
                rows[name] = (title_retrieval(args.teacher, profile, held), tatoeba_accuracy(args.teacher, profile, args.tatoeba))
                print(f"{name}: {args.teacher} (not trained again); {rows[name][0]}", flush=True)
                continue
            result = finetune(base, profile, data, Path(scratch) / name, variant)
            rows[name] = (title_retrieval(result.model_dir, profile, held),
                          tatoeba_accuracy(result.model_dir, profile, args.tatoeba))
            print(f"{name}: {result.steps} logged steps, loss {result.losses[0]:.3f} -> {result.losses[-1]:.3f}, "
                  f"{result.seconds:.0f} s; {rows[name][0]}", flush=True)
        if args.student_layers:
            teacher = Path(scratch) / "fine-tuned"
            student_name = f"student, {args.student_layers} layers"
            student = distill(teacher, profile, data, Path(scratch) / "student",
                              StudentSpec(layers=args.student_layers, learning_rate=args.student_learning_rate,
                                          batch_size=args.batch_size, epochs=args.student_epochs),
                              extra_texts=read_reference_sentences()[0] if args.distill_reference else ())
            rows[student_name] = (title_retrieval(student.model_dir, profile, held),
                                  tatoeba_accuracy(student.model_dir, profile, args.tatoeba))
            print(f"{student_name}: layers {student.layers_kept}, {student.distilled_texts} texts, cosine to the "
                  f"teacher {student.agreement[0]:.4f} -> {student.agreement[1]:.4f}, {student.seconds:.0f} s; "
                  f"{rows[student_name][0]}", flush=True)
            speeds = speed({"fine-tuned": teacher, student_name: student.model_dir},
                           [text for _, text in held.texts()][:2000], Path(scratch) / "onnx")
    print("\n| | held-out titles (queries) | nDCG@10 | Recall@10 | Tatoeba mean acc@1 | worst language change |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, (titles, tatoeba) in rows.items():
        worst = min(tatoeba, key=lambda lang: tatoeba[lang] - before[1][lang])
        print(f"| {name} | {titles['queries']} | {titles['ndcg@10']:.4f} | {titles['recall@10']:.4f} | "
              f"{np.mean(list(tatoeba.values())):.4f} | {worst} {tatoeba[worst] - before[1][worst]:+.3f} |")
    if speeds:
        print("\n| model (ONNX fp32, this CPU) | held-out titles/s | × teacher | model.onnx | peak RSS, load + one query |")
        print("| --- | --- | --- | --- | --- |")
        teacher_speed = speeds["fine-tuned"]["docs_per_s"]
        for name, row in speeds.items():
            print(f"| {name} | {row['docs_per_s']:.0f} | {row['docs_per_s'] / teacher_speed:.2f}× | "
                  f"{row['model_mib']:.0f} MiB | {row['peak_rss_mib']:.0f} MiB |")


if __name__ == "__main__":
    main()
