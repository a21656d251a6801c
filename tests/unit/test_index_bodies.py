"""Index mapping files and the documents built for them."""

import pytest

from lingodex.ingest.index.documents import PreparedRecord, embedding_text, field_for, to_document
from lingodex.ingest.catalog.language import LanguageGuess
from lingodex.ingest.index.mappings import EncoderIdentity, index_body, language_fields
from lingodex.ingest.catalog.schema import CatalogProduct
from lingodex.settings import VectorSettings

E5 = EncoderIdentity("multilingual-e5-small", "abc123", 384, "multilingual-e5-small-int8-x")
REQUIRED_ANALYZERS = {
    "en": "english", "es": "spanish", "fr": "french", "de": "german", "it": "italian", "pt": "portuguese",
    "nl": "dutch", "ru": "russian", "ar": "arabic", "hi": "hindi", "tr": "turkish", "id": "indonesian",
    "th": "thai", "ja": "lingodex_japanese", "zh": "smartcn", "ko": "nori", "other": "icu_analyzer",
}


def _record(**product) -> PreparedRecord:
    language = product.pop("language", LanguageGuess("ko", 1.0, "declared"))
    return PreparedRecord(position=1, product=CatalogProduct(**product), language=language)


def test_the_required_languages_each_have_their_own_analyzer_and_everything_else_gets_icu() -> None:
    fields = index_body("products", encoder=E5)["mappings"]["properties"]["title"]["properties"]
    assert {lang: fields[lang]["analyzer"] for lang in REQUIRED_ANALYZERS} == REQUIRED_ANALYZERS


def test_titles_in_every_language_are_copied_to_the_exact_and_the_language_agnostic_field() -> None:
    fields = index_body("products", encoder=E5)["mappings"]["properties"]["title"]["properties"]
    assert {tuple(spec.get("copy_to")) for spec in fields.values()} == {("exact", "title_all")}


def test_descriptions_in_every_language_are_copied_to_the_language_agnostic_field() -> None:
    properties = index_body("products", encoder=E5)["mappings"]["properties"]
    assert {tuple(spec.get("copy_to")) for spec in properties["description"]["properties"].values()} == {("description_all",)}
    assert properties["title_all"]["analyzer"] == properties["description_all"]["analyzer"] == "icu_analyzer"


def test_index_body_takes_dimension_and_identity_from_the_encoder() -> None:
    mappings = index_body("products", encoder=E5)["mappings"]
    assert mappings["properties"]["embedding"]["dimension"] == 384
    assert mappings["_meta"]["encoder"]["fingerprint"] == "abc123"
    assert EncoderIdentity.from_meta(mappings["_meta"]) == E5


def test_vector_method_comes_from_settings() -> None:
    vectors = VectorSettings(engine="faiss", m=32, ef_construction=256, fp16=True)
    field = index_body("products", encoder=E5, vectors=vectors)["mappings"]["properties"]["embedding"]
    assert field["method"] == {"name": "hnsw", "engine": "faiss", "parameters": {
        "m": 32, "ef_construction": 256, "encoder": {"name": "sq", "parameters": {"type": "fp16"}}}}


def test_shard_and_replica_counts_come_from_settings_when_set_and_from_the_mapping_file_otherwise() -> None:
    assert index_body("products", encoder=E5)["settings"]["index"]["number_of_replicas"] == 0
    index = index_body("products", encoder=E5, shards=3, replicas=1)["settings"]["index"]
    assert (index["number_of_shards"], index["number_of_replicas"]) == (3, 1)


def test_fp16_vectors_without_faiss_are_refused() -> None:
    with pytest.raises(ValueError, match="needs engine faiss"):
        VectorSettings(engine="lucene", fp16=True)


def test_export_precision_alone_does_not_make_vectors_incomparable() -> None:
    gpu = EncoderIdentity("multilingual-e5-small", "abc123", 384, "multilingual-e5-small-fp16-y")
    other_weights = EncoderIdentity("multilingual-e5-small", "def456", 384)
    assert E5.same_vectors_as(gpu)
    assert not E5.same_vectors_as(other_weights)


def test_index_body_returns_a_copy_each_time() -> None:
    index_body("products", encoder=E5)["mappings"]["properties"].clear()
    assert "embedding" in index_body("products", encoder=E5)["mappings"]["properties"]


def test_regional_locales_use_their_language_field_and_unknown_languages_fall_back_to_icu() -> None:
    languages = language_fields("products")
    assert field_for("en-GB", languages) == "en"
    assert field_for("JA", languages) == "ja"
    assert field_for("sw", languages) == "other"
    assert field_for("und", languages) == "other"


def test_document_holds_the_title_under_its_language_and_the_vector_as_given() -> None:
    document = to_document(_record(id="sku-1", lang="ko", title="무선 헤드폰"), [0.5, -0.5], language_fields("products"))
    assert document["title"] == {"ko": "무선 헤드폰"}
    assert document["embedding"] == [0.5, -0.5]
    assert (document["lang"], document["lang_source"]) == ("ko", "declared")


def test_per_language_titles_fill_one_field_each() -> None:
    record = _record(id="sku-2", title={"en": "Kettle", "ja": "電気ケトル", "sw": "Birika"},
                     language=LanguageGuess("en", 1.0, "declared"))
    assert to_document(record, [0.0], language_fields("products"))["title"] == {"en": "Kettle", "ja": "電気ケトル", "other": "Birika"}


def test_the_brand_is_embedded_with_the_title_unless_the_title_names_it() -> None:
    assert embedding_text(_record(id="a", lang="en", title="Noise cancelling headphones", brand="Sony")) == \
        "Sony Noise cancelling headphones"
    assert embedding_text(_record(id="b", lang="en", title="Sony WH-1000XM5", brand="SONY")) == "Sony WH-1000XM5"


def test_content_hash_changes_with_any_indexed_field_and_only_then() -> None:
    base = _record(id="a", lang="en", title="Kettle", price=10)
    assert base.content_hash == _record(id="a", lang="en", title="Kettle", price=10).content_hash
    assert base.content_hash != _record(id="a", lang="en", title="Kettle", price=11).content_hash


def test_the_id_and_attribute_values_are_searchable_as_exact_tokens() -> None:
    record = _record(id="sku-9", lang="en", title="Kettle", attributes={"gtin": "4006381333931", "model": "WK-2", "eco": True})
    assert to_document(record, [0.0], language_fields("products"))["exact"] == ["sku-9", "4006381333931", "WK-2"]
