"""Adapt the encoder to a catalog: contrastive fine-tuning on (query, product) pairs, with sentence-transformers.

The loss is sentence-transformers' MultipleNegativesRankingLoss: for each pair, the other products of the batch
are its negatives, so pairs alone (no labelled negatives) teach the model which products belong together. (Two
pairs of one group in a batch make a false negative; with small groups among thousands it is rare, and the
NO_DUPLICATES sampler keeps one text from appearing twice in a batch.) The profile's prefixes
are kept: anchors are embedded as queries (``query: ``), positives as passages (``passage: ``), exactly as
lingodex searches. With hard negatives, each pair also carries the product the base model ranks highest for
its anchor among those of other groups (sentence-transformers' ``mine_hard_negatives``): the loss then learns
from the near misses that in-batch negatives rarely are. A candidate scoring within ``negative_margin`` of the
positive is skipped, since another group may well list the same product. With ``negatives_from="lexical"``
BM25 ranks the candidates instead (encoder/lexical_negatives.py): the near misses of keyword search. Parallel sentence pairs (any
language with English) can be mixed in so that cross-lingual alignment survives the catalog's own languages. With ``lora``, peft trains low-rank adapters on the attention
and feed-forward projections and merges them back: the output is a plain Hugging Face model either way.

The output directory loads like any other model: config, weights, tokenizer, a model card
(``lingodex-finetune.json`` and README.md) and ``profile.yaml``, whose ``source`` is the directory itself, for
``encoder.profile`` (then `lingodex model export` and `lingodex reindex`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

import yaml

from lingodex.encoder.errors import EncoderError
from lingodex.encoder.models.model_source import model_fingerprint
from lingodex.encoder.profile import ModelProfile

if TYPE_CHECKING:  # torch and sentence-transformers load only when a model is trained
    from sentence_transformers import SentenceTransformer

log = logging.getLogger(__name__)
CARD = "lingodex-finetune.json"
PROFILE_FILE = "profile.yaml"
LORA_TARGETS = ["query", "key", "value", "dense"]  # XLM-R / BERT module names: attention and feed-forward


class FinetuneError(EncoderError):
    """Training cannot start or did not produce a model (no pairs, a base model that is not a transformer)."""


@dataclass(frozen=True)
class FinetuneSpec:
    """Hyper-parameters; the defaults suit e5-small on a CPU (a few thousand pairs in minutes)."""

    epochs: int = 1
    batch_size: int = 32
    learning_rate: float = 2e-5
    warmup_ratio: float = 0.1
    max_tokens: int = 64  # product titles and short queries: longer inputs are cut
    seed: int = 13
    lora: bool = False
    lora_rank: int = 16
    hard_negatives: bool = False  # one mined negative per catalog pair (needs pair_groups and corpus)
    negative_margin: float = 0.05  # a candidate must score below (1 - margin) x the positive's score
    negatives_from: Literal["model", "lexical"] = "model"  # who ranks the candidates: the base model, or BM25
    name: str = ""  # the new profile's name; default <base>-ft-<data hash>


@dataclass(frozen=True)
class TrainingData:
    """What the model learns from: catalog pairs (query or title, product title) and parallel sentence pairs."""

    pairs: Sequence[tuple[str, str]]
    parallel: Sequence[tuple[str, str]] = ()
    description: dict[str, Any] = field(default_factory=dict)  # where the pairs came from, for the model card
    pair_groups: Sequence[str] = ()  # each pair's group, for hard negatives: never a text of the anchor's own group
    corpus: Sequence[tuple[str, str]] = ()  # (group, text): where hard negatives are mined

    def fingerprint(self) -> str:
        digest = hashlib.sha256()
        for anchor, positive in [*self.pairs, *self.parallel]:
            digest.update(anchor.encode() + b"\x00" + positive.encode() + b"\x01")
        return digest.hexdigest()[:12]


@dataclass(frozen=True)
class FinetuneResult:
    model_dir: Path
    profile_path: Path
    steps: int
    losses: list[float]  # the trainer's logged training losses, in order
    seconds: float


def finetune(base_dir: Path, profile: ModelProfile, data: TrainingData, output: Path, spec: FinetuneSpec | None = None,
             *, on_log: Callable[[dict[str, float]], None] | None = None) -> FinetuneResult:
    """Train a copy of the model in ``base_dir`` on ``data`` and write it, with its card and profile, to ``output``."""
    spec = spec or FinetuneSpec()
    if not data.pairs and not data.parallel:
        raise FinetuneError("no training pairs: give a catalog with a grouping field, or judgments")
    model = sentence_model(base_dir, profile, spec)
    negatives = hard_negatives(model, profile, data, spec) if spec.hard_negatives else None
    if spec.lora:
        _with_lora(model, spec)
    started = time.perf_counter()
    losses = _train(model, profile, data, spec, on_log, negatives)
    seconds = time.perf_counter() - started
    if not losses:  # the no-duplicates sampler could not fill one batch: nothing was learnt, say so
        raise FinetuneError(f"no training step ran: batches of {spec.batch_size} could not be formed without a text "
                            "repeated in one batch (hard negatives shared by many pairs); lower --batch-size")
    transformer: Any = model[0]
    if spec.lora:
        transformer.auto_model = transformer.auto_model.merge_and_unload()  # a plain model again, adapters folded in
    output.mkdir(parents=True, exist_ok=True)
    transformer.save(str(output))  # the transformer and tokenizer only: a plain Hugging Face directory
    name = spec.name or f"{profile.name}-ft-{data.fingerprint()}"
    profile_path = write_profile(output, profile, name)
    _write_card(output, base_dir, profile, name, data, spec, losses, seconds)
    log.info(f"fine-tuned {profile.name} -> {name} in {seconds:.0f} s; profile {profile_path}")
    return FinetuneResult(output, profile_path, len(losses), losses, seconds)


def sentence_model(base_dir: Path, profile: ModelProfile, spec: FinetuneSpec) -> SentenceTransformer:
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.models import Normalize, Pooling, Transformer

    torch.manual_seed(spec.seed)
    transformer = Transformer(str(base_dir), max_seq_length=min(spec.max_tokens, profile.max_tokens),
                              model_args={"local_files_only": True}, tokenizer_args={"local_files_only": True})
    if profile.pooling not in ("mean", "cls"):
        raise FinetuneError(f"profile {profile.name}: pooling {profile.pooling!r} is not one fine-tuning supports")
    pooling = Pooling(transformer.get_word_embedding_dimension(), pooling_mode=profile.pooling)
    modules = [transformer, pooling, *([Normalize()] if profile.normalize else [])]
    return SentenceTransformer(modules=modules, device="cuda" if torch.cuda.is_available() else "cpu")


def _with_lora(model: Any, spec: FinetuneSpec) -> None:
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(r=spec.lora_rank, lora_alpha=2 * spec.lora_rank, lora_dropout=0.05, target_modules=LORA_TARGETS)
    model[0].auto_model = get_peft_model(model[0].auto_model, config)


def hard_negatives(model: SentenceTransformer, profile: ModelProfile, data: TrainingData, spec: FinetuneSpec) -> list[str]:
    """One negative per catalog pair, ranked by the base model or by BM25 (encoder/lexical_negatives.py)."""
    if spec.negatives_from == "model":
        return mine_negatives(model, profile, data, spec.negative_margin)
    _check_mining_data(data)
    from lingodex.encoder.lexical_negatives import lexical_negatives

    negatives, fallback = lexical_negatives(data.pairs, data.pair_groups, data.corpus, spec.negative_margin, spec.seed)
    log.info(f"BM25 hard negatives for {len(negatives) - fallback} of {len(negatives)} pairs "
             f"(margin {spec.negative_margin})")
    return negatives


def _check_mining_data(data: TrainingData) -> None:
    if len(data.pair_groups) != len(data.pairs) or not data.corpus:
        raise FinetuneError("hard negatives need each pair's group and a corpus of (group, text) to mine")


def mine_negatives(model: SentenceTransformer, profile: ModelProfile, data: TrainingData, margin: float,
                   candidates: int = 10) -> list[str]:
    """For each catalog pair, the highest-ranked text of another group below the margin, by the model as it is.

    sentence-transformers' miner ranks the corpus for each anchor (with the profile's prefixes) and applies the
    margin; the anchor's own group is filtered here, which the miner cannot know. A pair with no candidate left
    gets a random text of another group: every row needs a negative.
    """
    from datasets import Dataset
    from sentence_transformers.util import mine_hard_negatives

    _check_mining_data(data)
    group_of: dict[str, set[str]] = {}
    for group, text in data.corpus:
        group_of.setdefault(text, set()).add(group)
    texts = list(group_of)
    mined = mine_hard_negatives(
        Dataset.from_dict({"anchor": [a for a, _ in data.pairs], "positive": [p for _, p in data.pairs]}), model,
        corpus=texts, num_negatives=candidates, range_max=max(candidates, min(100, len(texts) // 2)),
        relative_margin=margin, sampling_strategy="top",
        query_prompt=profile.query_prefix, corpus_prompt=profile.passage_prefix, output_format="n-tuple",
        include_positives=False, verbose=False)
    by_anchor: dict[tuple[str, str], list[str]] = {}
    for row in mined:
        by_anchor[(row["anchor"], row["positive"])] = [row[f"negative_{n}"] for n in range(1, candidates + 1)]
    chooser = random.Random(0)
    negatives, fallback = [], 0
    for (anchor, positive), group in zip(data.pairs, data.pair_groups, strict=True):
        found = next((text for text in by_anchor.get((anchor, positive), []) if group not in group_of.get(text, ())), None)
        if found is None:  # rare: a linear scan is fine
            fallback += 1
            found = chooser.choice([text for text in texts if group not in group_of[text]])
        negatives.append(found)
    log.info(f"hard negatives mined for {len(negatives) - fallback} of {len(negatives)} pairs (margin {margin})")
    return negatives


def _train(model: Any, profile: ModelProfile, data: TrainingData, spec: FinetuneSpec,
           on_log: Callable[[dict[str, float]], None] | None, negatives: Sequence[str] | None = None) -> list[float]:
    from sentence_transformers.losses import MultipleNegativesRankingLoss
    from sentence_transformers.training_args import BatchSamplers

    rows = [*data.pairs, *data.parallel, *((positive, anchor) for anchor, positive in data.parallel)]
    if len(rows) < spec.batch_size:
        raise FinetuneError(f"{len(rows)} training pairs are fewer than one batch ({spec.batch_size}); lower the "
                            "batch size or give more groups")
    dataset: Any = shuffled_dataset(rows, spec.seed)
    if negatives is not None:  # catalog triplets and parallel pairs: two datasets, batches drawn from one at a time
        parallel = rows[len(data.pairs):]
        triplets = [(anchor, positive, negative) for (anchor, positive), negative in zip(data.pairs, negatives, strict=True)]
        dataset = {"catalog": shuffled_dataset(triplets, spec.seed), **({"parallel": shuffled_dataset(parallel, spec.seed)} if parallel else {})}
    prompts = {"anchor": profile.query_prefix, "positive": profile.passage_prefix, "negative": profile.passage_prefix}
    return run_trainer(model, dataset, MultipleNegativesRankingLoss(model), spec, steps=len(rows) // spec.batch_size,
                       prompts=prompts, batch_sampler=BatchSamplers.NO_DUPLICATES, on_log=on_log)


class TrainerSpec(Protocol):
    """The hyper-parameters every lingodex training run sets (FinetuneSpec, StudentSpec)."""

    @property
    def epochs(self) -> int: ...
    @property
    def batch_size(self) -> int: ...
    @property
    def learning_rate(self) -> float: ...
    @property
    def warmup_ratio(self) -> float: ...
    @property
    def seed(self) -> int: ...


def run_trainer(model: Any, dataset: Any, loss: Any, spec: TrainerSpec, *, steps: int, prompts: dict[str, Any] | None,
                batch_sampler: Any = None, on_log: Callable[[dict[str, float]], None] | None = None) -> list[float]:
    """sentence-transformers' trainer as lingodex runs it: seeded, no checkpoints, a progress bar, about 20 logged
    losses over the ``steps`` of an epoch; returns them in order (``dataset``/``loss``: one, or dicts by name)."""
    import tempfile

    from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments
    from sentence_transformers.training_args import BatchSamplers
    from transformers import TrainerCallback

    losses: list[float] = []

    class Losses(TrainerCallback):
        def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, float] | None = None, **_: Any) -> None:
            if logs and "loss" in logs:
                losses.append(float(logs["loss"]))
                if on_log is not None:
                    on_log(logs)

    with tempfile.TemporaryDirectory(prefix="lingodex-train-") as scratch:
        arguments = SentenceTransformerTrainingArguments(
            output_dir=scratch, num_train_epochs=spec.epochs, per_device_train_batch_size=spec.batch_size,
            learning_rate=spec.learning_rate, warmup_ratio=spec.warmup_ratio, seed=spec.seed, data_seed=spec.seed,
            batch_sampler=batch_sampler or BatchSamplers.BATCH_SAMPLER, prompts=prompts,
            logging_steps=max(1, steps // 20), save_strategy="no", report_to=[], dataloader_drop_last=True,
            disable_tqdm=False)
        trainer = SentenceTransformerTrainer(model=model, args=arguments, train_dataset=dataset, loss=loss,
                                             callbacks=[Losses()])
        trainer.train()
    return losses


def shuffled_dataset(rows: Sequence[tuple[str, ...]], seed: int) -> Any:
    """Rows as a datasets.Dataset with columns anchor, positive (and negative), shuffled by ``seed``."""
    from datasets import Dataset

    shuffled = list(rows)
    random.Random(seed).shuffle(shuffled)
    columns = ("anchor", "positive", "negative")[:len(shuffled[0])] if shuffled else ("anchor", "positive")
    return Dataset.from_dict({column: [row[n] for row in shuffled] for n, column in enumerate(columns)})


def write_profile(output: Path, base: ModelProfile, name: str) -> Path:
    profile = {**base.model_dump(), "name": name, "source": str(output.resolve())}
    path = output / PROFILE_FILE
    path.write_text(f"# fine-tuned from {base.name} by `lingodex finetune`; set encoder.profile to this file\n"
                    + yaml.safe_dump(profile, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def _write_card(output: Path, base_dir: Path, base: ModelProfile, name: str, data: TrainingData, spec: FinetuneSpec,
                losses: list[float], seconds: float) -> None:
    card: dict[str, Any] = {"name": name, "base": {"profile": base.name, "source": base.source, "fingerprint": model_fingerprint(base_dir)},
            "data": {"pairs": len(data.pairs), "parallel_pairs": len(data.parallel), "hash": data.fingerprint(),
                     **data.description},
            "spec": asdict(spec), "loss": {"first": losses[0] if losses else None, "last": losses[-1] if losses else None},
            "seconds": round(seconds, 1)}
    write_card(output, card, f"Fine-tuned by lingodex from {base.name} ({base.source}, fingerprint "
               f"{card['base']['fingerprint']}) on {len(data.pairs)} catalog pairs and {len(data.parallel)} parallel "
               f"sentence pairs (data hash {card['data']['hash']}) with sentence-transformers' "
               f"MultipleNegativesRankingLoss{' and LoRA adapters, merged' if spec.lora else ''}; {spec.epochs} "
               f"epoch(s), batch {spec.batch_size}, learning rate {spec.learning_rate}, seed {spec.seed}, "
               f"{seconds:.0f} s. Prefixes as the base: queries {base.query_prefix!r}, passages "
               f"{base.passage_prefix!r}; {base.pooling} pooling.")


def write_card(output: Path, card: dict[str, Any], summary: str) -> None:
    """The model card twice: as JSON for tools (lingodex-finetune.json), as a README for people."""
    (output / CARD).write_text(json.dumps(card, indent=2, ensure_ascii=False), encoding="utf-8")
    (output / "README.md").write_text(f"# {card['name']}\n\n{summary} Details: {CARD}.\n", encoding="utf-8")
