"""The int8 export with its word-embedding table fp32 or int8 (shipped: a scale per row): file size, memory,
speed, parity.

    python bench/experiments/int8_embedding_table.py --shopee ../shared/data/shopee/dev.csv [--titles 2000] \
        [--tatoeba ../shared/data/tatoeba]

The graphs are built from one fp32 export of the configured model by the shipped recipe
(encoder/export/int8_recipe.py), whose embeddings' Gather reads an int8 table with one scale per token row
(int8_embedding_table.py), and by the same recipe with the table in fp32 or with one scale for the table
(onnxruntime's quantiser). Each is loaded in its own process (peak RSS after
loading and embedding one query, as `lingodex search` does) and timed on Shopee titles in one process,
engines interleaved over rounds, best round kept. Parity: mean and minimum cosine to the fp32 graph on the
export's probe sentences (the export's bar: mean >= 0.999, min >= 0.995).

With --tatoeba, retrieval quality too, exact search, every graph on the same texts: Tatoeba acc@1 X→en
(19 languages, lines 200-599 of each pair: not the shipped reference sentences) and, on the first
--quality-titles Shopee titles, Recall@10 and MRR@10 of a title's group mates (own title excluded).
"""

from __future__ import annotations

import argparse
import csv
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

sys.path.insert(0, str(Path(__file__).parent))
from int8_recipes import variant  # noqa: E402  (the shipped recipe's steps, with choices changed)
from lingodex.encoder.export import int8_recipe  # noqa: E402
from lingodex.encoder.export.onnx_export import MODEL_FILE, export_fp32, probe_sentences, settled_int8_weights  # noqa: E402
from lingodex.encoder.export.onnx_pooling import add_pooling  # noqa: E402
from lingodex.encoder.models.model_source import resolve_model_dir  # noqa: E402
from lingodex.encoder.profile import load_profile  # noqa: E402
from lingodex.encoder.runtime.onnx_encoder import OnnxEncoder  # noqa: E402


def peak_rss_mib(profile_name: str, export_dir: Path) -> float:
    """Peak RSS (VmHWM: ru_maxrss would keep the parent's peak across fork and exec) of a fresh process that
    loads the graph and embeds one query."""
    code = ("import sys; sys.path.insert(0, sys.argv[1]); from pathlib import Path; "
            "from lingodex.encoder.profile import load_profile; "
            "from lingodex.encoder.runtime.onnx_encoder import OnnxEncoder; "
            "OnnxEncoder(load_profile(sys.argv[2]), Path(sys.argv[3]), provider='cpu').encode_queries(['red kettle']); "
            "print(next(line.split()[1] for line in open('/proc/self/status') if line.startswith('VmHWM')))")
    done = subprocess.run([sys.executable, "-c", code, str(REPO), profile_name, str(export_dir)], check=True,
                          capture_output=True, text=True)
    return int(done.stdout.split()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shopee", type=Path, required=True)
    parser.add_argument("--titles", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--work", type=Path, default=Path("/tmp/lingodex-int8-embedding-table"))
    parser.add_argument("--tatoeba", type=Path)
    parser.add_argument("--quality-titles", type=int, default=5000)
    args = parser.parse_args()
    from lingodex.settings import load_settings

    settings = load_settings()
    profile = load_profile(settings.encoder.profile)
    shutil.rmtree(args.work, ignore_errors=True)
    plain, fp32 = args.work / "plain", args.work / "fp32"
    export_fp32(resolve_model_dir(profile, settings.encoder.models_dir), plain, 18)
    shutil.copytree(plain, fp32)
    add_pooling(fp32 / MODEL_FILE, profile.pooling, profile.normalize)
    graphs = {"int8, fp32 embedding table": variant(plain, args.work / "int8-table-fp32", embedding_table="fp32"),
              "int8, int8 table, one scale": variant(plain, args.work / "int8-table", embedding_table="per_tensor"),
              "int8, int8 table, a scale per row (shipped)": int8_recipe.int8_graph(plain, args.work / "int8",
                                                                                   settled_int8_weights("auto"))}
    for path in graphs.values():
        add_pooling(path / MODEL_FILE, profile.pooling, profile.normalize)
    with args.shopee.open(encoding="utf-8", newline="") as handle:
        titles = [row["title"] for _, row in zip(range(args.titles), csv.DictReader(handle), strict=False)]
    probe = probe_sentences()
    reference = OnnxEncoder(profile, fp32, provider="cpu").encode_passages(probe)
    encoders = {name: OnnxEncoder(profile, path, provider="cpu") for name, path in graphs.items()}
    best = dict.fromkeys(graphs, 0.0)
    for _ in range(args.rounds):
        for name, encoder in encoders.items():
            started = time.perf_counter()
            encoder.encode_passages(titles)
            best[name] = max(best[name], len(titles) / (time.perf_counter() - started))
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {len(titles)} titles, {args.rounds} rounds, "
          f"this process's peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB\n")
    print("| graph | model.onnx | peak RSS, load + one query | titles/s | parity mean / min cosine |\n| --- | --- | --- | --- | --- |")
    for name, path in graphs.items():
        cosines = (encoders[name].encode_passages(probe) * reference).sum(axis=1)
        print(f"| {name} | {(path / MODEL_FILE).stat().st_size / 2**20:.0f} MiB | {peak_rss_mib(profile.name, path):.0f} MiB | "
              f"{best[name]:.0f} | {cosines.mean():.5f} / {cosines.min():.5f} |", flush=True)
    if args.tatoeba:
        quality({"fp32 graph": OnnxEncoder(profile, fp32, provider="cpu"), **encoders}, args.tatoeba, args.shopee,
                args.quality_titles)


def quality(encoders: dict, tatoeba: Path, shopee: Path, count: int) -> None:  # name -> OnnxEncoder
    """Tatoeba acc@1 per language and Shopee group-mate retrieval, each graph on the same texts."""
    import numpy as np

    pairs = sorted(path.name.split(".")[1].split("-")[0] for path in tatoeba.glob("tatoeba.*-eng.eng"))
    with shopee.open(encoding="utf-8", newline="") as handle:
        rows = [row for _, row in zip(range(count), csv.DictReader(handle), strict=False)]
    groups: dict[str, list[int]] = {}
    for row_index, row in enumerate(rows):
        groups.setdefault(row["label_group"], []).append(row_index)
    titles = [row["title"] for row in rows]
    print("\n| graph | Tatoeba mean acc@1 | " + " | ".join(pairs) + " | Shopee R@10 | Shopee MRR@10 |\n|"
          + " --- |" * (len(pairs) + 4))
    for name, encoder in encoders.items():
        accuracies = []
        for pair in pairs:
            foreign = (tatoeba / f"tatoeba.{pair}-eng.{pair}").read_text(encoding="utf-8").splitlines()[200:600]
            english = (tatoeba / f"tatoeba.{pair}-eng.eng").read_text(encoding="utf-8").splitlines()[200:600]
            found = (encoder.encode_queries(foreign) @ encoder.encode_passages(english).T).argmax(axis=1)
            accuracies.append(float((found == np.arange(len(foreign))).mean()))
        scores = encoder.encode_queries(titles) @ encoder.encode_passages(titles).T
        np.fill_diagonal(scores, -np.inf)
        top = np.argsort(-scores, axis=1)[:, :10]
        recalls, reciprocal = [], []
        for query, hits in enumerate(top):
            mates = set(groups[rows[query]["label_group"]]) - {query}
            if mates:
                recalls.append(len(mates & set(hits.tolist())) / min(len(mates), 10))
                reciprocal.append(next((1 / rank for rank, hit in enumerate(hits, 1) if hit in mates), 0.0))
        print(f"| {name} | {np.mean(accuracies):.4f} | " + " | ".join(f"{a * 100:.1f}" for a in accuracies)
              + f" | {np.mean(recalls):.4f} | {np.mean(reciprocal):.4f} |", flush=True)


if __name__ == "__main__":
    main()
