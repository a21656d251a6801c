"""Query translation: cached, failure-tolerant, and rendered as one extra lexical clause."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from lingodex.search_templates.query_builder import SearchQuery, template_params
from lingodex.search_templates.search_params import Boosts, LanguageParams
from lingodex.search_templates.translation import HuggingFaceTranslator, Translators


class Counting:
    def __init__(self, fail: bool = False) -> None:
        self.calls, self.fail = 0, fail

    def supports(self, source: str, target: str) -> bool:
        return (source, target) == ("pt", "en")

    def translate(self, text: str, source: str, target: str) -> str:
        self.calls += 1
        if self.fail:
            raise RuntimeError("model file unreadable")
        return f"<{text} in {target}>"


def test_a_repeated_query_is_translated_once() -> None:
    backend = Counting()
    translators = Translators([backend])
    assert translators.translate("fone", "pt", "en") == translators.translate("fone", "pt", "en") == "<fone in en>"
    assert backend.calls == 1


def test_the_least_recently_used_translation_leaves_a_full_cache() -> None:
    backend = Counting()
    translators = Translators([backend], cache_size=1)
    for text in ("a", "b", "a"):
        translators.translate(text, "pt", "en")
    assert backend.calls == 3


def test_a_pair_no_backend_supports_is_not_translated() -> None:
    assert Translators([Counting()]).translate("Kopfhörer", "de", "en") is None


def test_a_failing_translator_gives_no_translation_and_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        assert Translators([Counting(fail=True)]).translate("fone", "pt", "en") is None
    assert "searching untranslated" in caplog.text and "model file unreadable" in caplog.text


def test_a_translation_becomes_a_clause_on_the_agnostic_field_and_its_languages_title() -> None:
    query = SearchQuery("fone de ouvido", "pt", [0.0], translations=(("en", "headphones"),))
    params = template_params(query, LanguageParams(boosts=Boosts(translation=0.7)), ["en", "pt"])
    assert params["translations"] == [{"text": "headphones", "field": "title.en", "boost": 0.7}]


def test_a_translation_boost_of_zero_leaves_the_clause_out() -> None:
    query = SearchQuery("fone de ouvido", "pt", [0.0], translations=(("en", "headphones"),))
    assert template_params(query, LanguageParams(boosts=Boosts(translation=0.0)), ["en", "pt"])["translations"] == []


def test_a_local_hugging_face_seq2seq_model_translates_offline(tmp_path: Path) -> None:
    """A tiny random BART with a word-level tokenizer stands in for a user's Marian/NLLB directory."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import BartConfig, BartForConditionalGeneration, PreTrainedTokenizerFast

    words = ["<pad>", "<s>", "</s>", "<unk>", "fone", "de", "ouvido", "headphones"]
    tokenizer = Tokenizer(models.WordLevel({word: i for i, word in enumerate(words)}, unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    PreTrainedTokenizerFast(tokenizer_object=tokenizer, pad_token="<pad>", bos_token="<s>", eos_token="</s>",
                            unk_token="<unk>").save_pretrained(tmp_path)
    config = BartConfig(vocab_size=len(words), d_model=16, encoder_layers=1, decoder_layers=1,
                        encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=32, decoder_ffn_dim=32,
                        max_position_embeddings=32, pad_token_id=0, bos_token_id=1, eos_token_id=2,
                        decoder_start_token_id=2, forced_eos_token_id=2)
    BartForConditionalGeneration(config).save_pretrained(tmp_path)

    translator = HuggingFaceTranslator({"pt-en": tmp_path}, max_new_tokens=4)
    assert translator.supports("pt", "en") and not translator.supports("en", "pt")
    translated = translator.translate("fone de ouvido", "pt", "en")
    assert isinstance(translated, str)
    assert set(translated.split()) <= set(words[3:]), "random weights: any of the model's words, but only those"
