"""Wire a HybridSearcher from settings: cluster client, encoder, per-language parameters, language detector."""

from __future__ import annotations

from opensearchpy import OpenSearch

from encoder import Encoder
from lingodex.settings import Settings
from search_templates.searcher import HybridSearcher


def build_searcher(settings: Settings, client: OpenSearch | None = None, encoder: Encoder | None = None) -> HybridSearcher:
    from encoder import load_encoder
    from ingest.language import LanguageDetector
    from ingest.mappings import PRODUCTS, language_fields
    from lingodex.connection import opensearch_client
    from search_templates.search_params import load_search_params

    return HybridSearcher(
        client or opensearch_client(settings.opensearch),
        encoder or load_encoder(settings.encoder),
        load_search_params(settings.search.params_file),
        LanguageDetector(settings.ingest.detect_languages, settings.ingest.min_language_confidence),
        language_fields(PRODUCTS),
        fusion_mode=settings.search.fusion,
        max_query_chars=settings.search.max_query_chars,
    )
