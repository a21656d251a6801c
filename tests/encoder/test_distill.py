"""A student distilled from the teacher's own layers: fewer layers, loads offline, embeds close to its teacher."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from lingodex.encoder.distill import StudentSpec, distill, kept_layers
from lingodex.encoder.export.onnx_export import ExportSpec, exported_model
from lingodex.encoder.finetune import CARD, FinetuneError, TrainingData
from lingodex.encoder.profile import ModelProfile, load_profile
from tests.encoder.test_finetune import PAIRS, PARALLEL


EXTRA = ["Der Zug kommt um acht Uhr an.", "火车八点到。"]  # unlabelled sentences in languages to keep


def catalog() -> TrainingData:
    groups = [anchor.split()[0] for anchor, _ in PAIRS]
    corpus = sorted({(group, text) for group, pair in zip(groups, PAIRS, strict=True) for text in pair})
    return TrainingData(PAIRS, PARALLEL, {}, pair_groups=groups, corpus=corpus)


@pytest.fixture(scope="module")
def student(model_dir: Path, profile: ModelProfile, tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    output = tmp_path_factory.mktemp("student") / "model"
    spec = StudentSpec(layers=4, epochs=2, batch_size=8, learning_rate=2e-4, max_tokens=16)
    yield distill(model_dir, profile, catalog(), output, spec, extra_texts=EXTRA)
    shutil.rmtree(output.parent)  # 0.4 GB, needed by this module only


def test_kept_layers_are_evenly_spaced_and_keep_the_first_and_the_last() -> None:
    assert kept_layers(12, 6) == [0, 2, 4, 7, 9, 11]
    assert kept_layers(12, 4) == [0, 4, 7, 11]
    assert kept_layers(12, 1) == [11]


def test_a_student_as_deep_as_its_teacher_is_refused() -> None:
    with pytest.raises(FinetuneError, match="between 1 and 11 layers"):
        kept_layers(12, 12)


def test_the_student_has_the_layers_asked_for_and_loads_with_transformers_offline(student) -> None:  # noqa: ANN001
    from transformers import AutoModel

    model = AutoModel.from_pretrained(student.model_dir, local_files_only=True)
    assert model.config.num_hidden_layers == 4 and len(model.encoder.layer) == 4
    assert student.layers_kept == [0, 4, 7, 11]


def test_the_student_embeds_closer_to_its_teacher_after_training(student) -> None:  # noqa: ANN001
    before, after = student.agreement
    assert after > before


def test_the_card_names_the_teacher_the_layers_kept_and_the_texts_taught(student, model_dir: Path) -> None:  # noqa: ANN001
    card = json.loads((student.model_dir / CARD).read_text())
    assert card["teacher"]["source"] == str(model_dir) and card["student"]["layers_kept"] == [0, 4, 7, 11]
    assert card["data"]["distilled_texts"] == student.distilled_texts == 2 * (64 + 8 + len(EXTRA))  # both prefixes
    assert card["student"]["cosine_to_teacher"]["after"] == round(student.agreement[1], 4)


def test_the_student_exports_to_onnx_with_parity_and_keeps_the_teachers_prefixes(student, profile: ModelProfile,  # noqa: ANN001
                                                                                  tmp_path: Path) -> None:
    written = load_profile(str(student.profile_path))
    assert (written.name, written.query_prefix, written.passage_prefix) == (
        f"{profile.name}-student4", profile.query_prefix, profile.passage_prefix)
    export_dir = exported_model(student.model_dir, written, ExportSpec(precision="fp32"), tmp_path)
    assert (export_dir / "model.onnx").is_file()
