"""A tiny fine-tune runs end to end on the real model, offline: loss falls, the result loads and exports like any model."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from lingodex.encoder.export.onnx_export import ExportSpec, exported_model
from lingodex.encoder.finetune import CARD, FinetuneSpec, TrainingData, finetune, mine_negatives, sentence_model
from lingodex.encoder.profile import ModelProfile, load_profile

PAIRS = [(f"{noun} {size}", f"{noun} {size} original") for noun in
         ("kettle", "lamp", "backpack", "headphones", "mug", "umbrella", "keyboard", "mouse")
         for size in ("small", "large", "blue", "red")]
PARALLEL = [("Hund", "dog"), ("Katze", "cat"), ("Wasserkocher", "kettle"), ("Lampe", "lamp")]


@pytest.fixture(scope="module")
def tuned(model_dir: Path, profile: ModelProfile, tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    output = tmp_path_factory.mktemp("finetuned") / "model"
    spec = FinetuneSpec(epochs=3, batch_size=8, learning_rate=1e-4, max_tokens=16, name="e5-small-test")
    yield finetune(model_dir, profile, TrainingData(PAIRS, PARALLEL, {"catalog": "fixture"}), output, spec)
    shutil.rmtree(output.parent)  # 0.5 GB, needed by this module only


def test_the_training_loss_falls(tuned) -> None:  # noqa: ANN001
    assert len(tuned.losses) >= 3 and tuned.losses[-1] < tuned.losses[0]


def test_the_model_loads_with_transformers_offline_and_differs_from_the_base(tuned, model_dir: Path) -> None:  # noqa: ANN001
    from transformers import AutoModel

    before = AutoModel.from_pretrained(model_dir, local_files_only=True).state_dict()
    after = AutoModel.from_pretrained(tuned.model_dir, local_files_only=True).state_dict()
    name = "encoder.layer.0.attention.self.query.weight"
    assert not np.allclose(before[name].numpy(), after[name].numpy())


def test_its_profile_points_at_it_and_keeps_the_base_prefixes_and_its_card_counts_the_data(
        tuned, profile: ModelProfile) -> None:  # noqa: ANN001
    import json

    written = load_profile(str(tuned.profile_path))
    assert (written.name, written.source) == ("e5-small-test", str(tuned.model_dir.resolve()))
    assert (written.query_prefix, written.passage_prefix, written.pooling) == (
        profile.query_prefix, profile.passage_prefix, profile.pooling)
    card = json.loads((tuned.model_dir / CARD).read_text())
    assert (card["data"]["pairs"], card["data"]["parallel_pairs"], card["data"]["catalog"]) == (32, 4, "fixture")


def test_it_exports_to_onnx_with_parity_like_any_model(tuned, tmp_path: Path) -> None:  # noqa: ANN001
    written = load_profile(str(tuned.profile_path))
    export_dir = exported_model(tuned.model_dir, written, ExportSpec(precision="fp32"), tmp_path)
    assert (export_dir / "model.onnx").is_file() and (export_dir / "lingodex-export.json").is_file()


def test_lora_trains_adapters_and_writes_a_plain_model(model_dir: Path, profile: ModelProfile, tmp_path: Path) -> None:
    from transformers import AutoModel

    result = finetune(model_dir, profile, TrainingData(PAIRS), tmp_path / "lora",
                      FinetuneSpec(batch_size=8, learning_rate=1e-3, max_tokens=16, lora=True))
    weights = AutoModel.from_pretrained(result.model_dir, local_files_only=True).state_dict()
    assert not any("lora" in name for name in weights) and result.losses


def grouped_data() -> TrainingData:
    """PAIRS grouped by their noun, and every text of every group as the corpus."""
    groups = [anchor.split()[0] for anchor, _ in PAIRS]
    corpus = sorted({(group, text) for group, pair in zip(groups, PAIRS, strict=True) for text in pair})
    return TrainingData(PAIRS, (), {}, pair_groups=groups, corpus=corpus)


def test_mined_negatives_are_never_texts_of_the_anchors_own_group(model_dir: Path, profile: ModelProfile) -> None:
    data = grouped_data()
    model = sentence_model(model_dir, profile, FinetuneSpec(max_tokens=16))
    negatives = mine_negatives(model, profile, data, margin=0.05)
    assert len(negatives) == len(PAIRS)
    assert all(negative.split()[0] != group for negative, group in zip(negatives, data.pair_groups, strict=True))


@pytest.mark.parametrize("source", ["model", "lexical"])
def test_training_with_hard_negatives_runs_and_the_card_says_so(model_dir: Path, profile: ModelProfile,
                                                                tmp_path: Path, source: str) -> None:
    import json

    spec = FinetuneSpec(epochs=2, batch_size=4, learning_rate=1e-4, max_tokens=16, hard_negatives=True,
                        negatives_from=source)  # type: ignore[arg-type] - the two literals
    result = finetune(model_dir, profile, grouped_data(), tmp_path / "model", spec)
    assert result.losses and result.losses[-1] < result.losses[0]
    card = json.loads((result.model_dir / CARD).read_text())["spec"]
    assert (card["hard_negatives"], card["negatives_from"]) == (True, source)


def test_a_run_whose_batches_cannot_be_formed_fails_instead_of_writing_an_untrained_model(
        model_dir: Path, profile: ModelProfile, tmp_path: Path) -> None:
    from lingodex.encoder.finetune import FinetuneError

    # BM25 gives most anchors the same few negatives, which are other pairs' texts: no batch of 8 without a repeat
    spec = FinetuneSpec(batch_size=8, max_tokens=16, hard_negatives=True, negatives_from="lexical")
    with pytest.raises(FinetuneError, match="no training step ran"):
        finetune(model_dir, profile, grouped_data(), tmp_path / "model", spec)
    assert not (tmp_path / "model").exists()
