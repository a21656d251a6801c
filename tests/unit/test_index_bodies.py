"""Index mapping files and the documents built for them."""

import numpy as np

from ingest.documents import Product, title_field, to_document
from ingest.mappings import index_body, language_fields

EXPECTED_ANALYZERS = {
    "en": "english", "es": "spanish", "fr": "french", "de": "german",
    "ja": "kuromoji", "zh": "smartcn", "ko": "nori", "other": "icu_analyzer",
}


def test_each_language_field_uses_its_language_analyzer() -> None:
    fields = index_body("products", dimension=8, model_id="m")["mappings"]["properties"]["title"]["properties"]
    assert {lang: spec["analyzer"] for lang, spec in fields.items()} == EXPECTED_ANALYZERS


def test_index_body_takes_dimension_and_model_from_the_encoder() -> None:
    mappings = index_body("products", dimension=384, model_id="intfloat/multilingual-e5-small")["mappings"]
    assert mappings["properties"]["embedding"]["dimension"] == 384
    assert mappings["_meta"]["encoder"] == {"model_id": "intfloat/multilingual-e5-small", "dimension": 384}


def test_index_body_returns_a_copy_each_time() -> None:
    index_body("products", dimension=2, model_id="a")["mappings"]["properties"].clear()
    assert "embedding" in index_body("products", dimension=2, model_id="a")["mappings"]["properties"]


def test_regional_locales_use_their_language_field_and_unknown_languages_fall_back_to_icu() -> None:
    languages = language_fields("products")
    assert title_field("en-GB", languages) == "en"
    assert title_field("JA", languages) == "ja"
    assert title_field("pt", languages) == "other"


def test_document_holds_the_title_under_its_language_and_the_vector_as_floats() -> None:
    product = Product(id="sku-1", lang="ko", title="무선 헤드폰")
    document = to_document(product, np.array([0.5, -0.5], dtype=np.float32), language_fields("products"))
    assert document == {"id": "sku-1", "lang": "ko", "title": {"ko": "무선 헤드폰"}, "embedding": [0.5, -0.5]}
