"""A faster student for a catalog: the teacher's own layers, fewer of them, trained to embed as the teacher does.

On a CPU the encoder's cost grows with its depth, so the cheapest student keeps the teacher's architecture, its
tokenizer and word embeddings, and every other layer (evenly spaced, the first and the last always kept): it starts
close to the teacher and needs only the catalog's own texts to catch up. Two objectives, in alternating batches
(sentence-transformers' multi-dataset trainer):

* **distillation**: the student's pooled embedding of each text regresses onto the teacher's (MSELoss, on the
  un-normalised embeddings, as sentence-transformers' distillation recipe does). Every text is taught twice, with
  the query and with the passage prefix, because lingodex embeds a title both ways (title-to-title search);
  parallel sentences are taught too, so that languages the catalog lacks keep their place;
* **contrastive**: the catalog pairs with in-batch negatives (MultipleNegativesRankingLoss), as in fine-tuning,
  so the student also learns the task and not only the teacher's geometry.

The output is a plain Hugging Face directory with fewer ``num_hidden_layers``, a profile and a card, like
`lingodex finetune`'s: export, reindex and eval take it as any model.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from lingodex.encoder.finetune import (FinetuneError, FinetuneSpec, TrainingData, run_trainer, sentence_model,
                                       shuffled_dataset, write_card, write_profile)
from lingodex.encoder.models.model_source import model_fingerprint
from lingodex.encoder.profile import ModelProfile

log = logging.getLogger(__name__)
AGREEMENT_SAMPLE = 1000  # texts on which the student's agreement with the teacher is measured, before and after


@dataclass(frozen=True)
class StudentSpec:
    """Hyper-parameters. A pruned student starts further from its optimum than a fine-tune: a higher learning rate."""

    layers: int = 6
    epochs: int = 1
    batch_size: int = 32
    learning_rate: float = 1e-4
    warmup_ratio: float = 0.1
    max_tokens: int = 64
    seed: int = 13
    name: str = ""  # default <teacher>-student<layers>


@dataclass(frozen=True)
class StudentResult:
    model_dir: Path
    profile_path: Path
    layers_kept: list[int]  # the teacher's layer indices the student started from
    distilled_texts: int
    agreement: tuple[float, float]  # mean cosine to the teacher's embeddings on a sample of the texts, before/after
    losses: list[float]
    seconds: float


def kept_layers(teacher_layers: int, student_layers: int) -> list[int]:
    """Evenly spaced layer indices, first and last included: 6 of 12 → [0, 2, 4, 7, 9, 11]."""
    if not 1 <= student_layers < teacher_layers:
        raise FinetuneError(f"a student needs between 1 and {teacher_layers - 1} layers (the teacher has "
                            f"{teacher_layers}); got {student_layers}")
    if student_layers == 1:
        return [teacher_layers - 1]
    step = (teacher_layers - 1) / (student_layers - 1)
    return [round(n * step) for n in range(student_layers)]


def student_layers_of(teacher_dir: Path, layers: int) -> list[int]:
    """The teacher's layers a student of ``layers`` starts from, read from its config: checked before any training."""
    config = json.loads((teacher_dir / "config.json").read_text(encoding="utf-8"))
    return kept_layers(int(config["num_hidden_layers"]), layers)


def distill(teacher_dir: Path, profile: ModelProfile, data: TrainingData, output: Path,
            spec: StudentSpec | None = None, *, extra_texts: Sequence[str] = ()) -> StudentResult:
    """Build a student of ``spec.layers`` layers from the teacher in ``teacher_dir`` and train it on ``data``.

    The texts taught are the corpus (the catalog's titles), both sides of the parallel pairs and ``extra_texts``
    (unlabelled: any sentences in the languages the student must keep, such as the reference sentences shipped for
    centring); the contrastive batches come from ``data.pairs``.
    """
    spec = spec or StudentSpec()
    texts = sorted({text for _, text in data.corpus} | {text for pair in data.parallel for text in pair}
                   | set(extra_texts))
    if not texts:
        raise FinetuneError("distillation needs texts: give a catalog (its titles are what the student learns)")
    model_spec = FinetuneSpec(max_tokens=spec.max_tokens, seed=spec.seed)
    teacher = sentence_model(teacher_dir, profile, model_spec)
    prefixed = [prefix + text for text in texts for prefix in dict.fromkeys((profile.query_prefix, profile.passage_prefix))]
    log.info(f"embedding {len(prefixed):,} texts with the teacher")
    targets = _unnormalised(teacher).encode(prefixed, batch_size=64, convert_to_numpy=True, show_progress_bar=True)
    del teacher
    student = _unnormalised(sentence_model(teacher_dir, profile, model_spec))
    layers = _prune(student, spec.layers)
    sample = slice(0, len(prefixed), max(1, len(prefixed) // AGREEMENT_SAMPLE))
    before = _agreement(student, prefixed[sample], targets[sample])
    started = time.perf_counter()
    losses = _train(student, profile, data.pairs, prefixed, targets.tolist(), spec)
    seconds = time.perf_counter() - started
    agreement = (before, _agreement(student, prefixed[sample], targets[sample]))
    log.info(f"student's mean cosine to the teacher: {agreement[0]:.4f} -> {agreement[1]:.4f}")
    output.mkdir(parents=True, exist_ok=True)
    student[0].save(str(output))
    name = spec.name or f"{profile.name}-student{spec.layers}"
    profile_path = write_profile(output, profile, name)
    result = StudentResult(output, profile_path, layers, len(prefixed), agreement, losses, seconds)
    _write_card(result, teacher_dir, profile, name, spec, len(data.pairs))
    log.info(f"distilled {profile.name} ({len(layers)} of its layers) -> {name} in {seconds:.0f} s")
    return result


def _agreement(student: Any, texts: list[str], targets: Any) -> float:
    """Mean cosine between the student's and the teacher's embeddings of the same prefixed texts."""
    import numpy as np

    mine = student.encode(texts, batch_size=64, convert_to_numpy=True, normalize_embeddings=True)
    theirs = targets / np.linalg.norm(targets, axis=1, keepdims=True)
    return float(np.mean(np.sum(mine * theirs, axis=1)))


def _unnormalised(model: Any) -> Any:
    """The model without its Normalize module: MSE on unit vectors gives the student almost no gradient."""
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(modules=[model[0], model[1]], device=model.device)


def _prune(model: Any, layers: int) -> list[int]:
    """Keep ``layers`` of the transformer's encoder layers, in place; the config says how many are left."""
    import torch

    encoder = model[0].auto_model.encoder
    keep = kept_layers(len(encoder.layer), layers)
    encoder.layer = torch.nn.ModuleList([encoder.layer[n] for n in keep])
    model[0].auto_model.config.num_hidden_layers = layers
    return keep


def _train(model: Any, profile: ModelProfile, pairs: Sequence[tuple[str, str]], texts: list[str],
           targets: list[list[float]], spec: StudentSpec) -> list[float]:
    from datasets import Dataset
    from sentence_transformers.losses import MSELoss, MultipleNegativesRankingLoss

    datasets: dict[str, Any] = {"distill": Dataset.from_dict({"sentence": texts, "label": targets}).shuffle(seed=spec.seed)}

    class SummedMSELoss(MSELoss):
        """Squared error summed over the dimensions, where the library averages them: 384× larger, on the scale of
        the contrastive loss, which otherwise drowns it (measured: the student drifted away from its teacher)."""

        def forward(self, sentence_features: Any, labels: Any) -> Any:
            return super().forward(sentence_features, labels) * labels.shape[-1]

    losses: dict[str, Any] = {"distill": SummedMSELoss(model)}
    prompts: dict[str, dict[str, str]] = {}  # the distillation texts carry their prefixes already
    if len(pairs) >= spec.batch_size:  # the pairs get them as in fine-tuning
        datasets["catalog"] = shuffled_dataset(pairs, spec.seed)
        losses["catalog"] = MultipleNegativesRankingLoss(model)
        prompts["catalog"] = {"anchor": profile.query_prefix, "positive": profile.passage_prefix}
    steps = sum(len(dataset) for dataset in datasets.values()) // spec.batch_size
    return run_trainer(model, datasets, losses, spec, steps=steps, prompts=prompts or None)


def _write_card(result: StudentResult, teacher_dir: Path, profile: ModelProfile, name: str, spec: StudentSpec,
                pairs: int) -> None:
    output, layers, texts, seconds = result.model_dir, result.layers_kept, result.distilled_texts, result.seconds
    fingerprint = model_fingerprint(teacher_dir)
    card: dict[str, Any] = {
        "name": name,
        "teacher": {"profile": profile.name, "source": str(teacher_dir), "fingerprint": fingerprint},
        "student": {"layers_kept": layers, "cosine_to_teacher": {"before": round(result.agreement[0], 4),
                                                                  "after": round(result.agreement[1], 4)}},
        "data": {"distilled_texts": texts, "pairs": pairs}, "spec": asdict(spec), "seconds": round(seconds, 1)}
    write_card(output, card, f"Distilled by lingodex from {profile.name} ({teacher_dir}, fingerprint {fingerprint}): "
               f"its layers {layers} kept, trained to reproduce its embeddings of {texts} prefixed texts (MSE) and on "
               f"{pairs} catalog pairs (MultipleNegativesRankingLoss); {spec.epochs} epoch(s), batch {spec.batch_size}, "
               f"learning rate {spec.learning_rate}, seed {spec.seed}, {seconds:.0f} s. Prefixes as the teacher: "
               f"queries {profile.query_prefix!r}, passages {profile.passage_prefix!r}; {profile.pooling} pooling.")
