"""Each kind of bad record is rejected with the field and reason; good records are normalised."""

from typing import Any

import pytest

from lingodex.ingest.index.documents import PreparedRecord
from lingodex.ingest.catalog.field_mapping import FieldMapping
from lingodex.ingest.catalog.language import LanguageGuess
from lingodex.ingest.catalog.readers import SourceRecord
from lingodex.ingest.catalog.validate import RecordValidator, Rejection


class FixedLanguage:
    """Stands in for lingua in unit tests: always the same guess."""

    def __init__(self, guess: LanguageGuess) -> None:
        self.guess = guess
        self.seen: list[str] = []

    def detect(self, text: str) -> LanguageGuess:
        self.seen.append(text)
        return self.guess


def validator(mapping: FieldMapping | None = None, max_description_chars: int = 1000) -> RecordValidator:
    return RecordValidator(mapping or FieldMapping(), FixedLanguage(LanguageGuess("en", 0.9, "detected")), max_description_chars)


def check(fields: dict[str, Any], v: RecordValidator | None = None, position: int = 1) -> PreparedRecord | Rejection:
    return (v or validator()).check(SourceRecord(position, fields))


@pytest.mark.parametrize(("fields", "field", "reason"), [
    ({"title": "Kettle"}, "id", "Field required"),
    ({"id": "a"}, "title", "Field required"),
    ({"id": "a", "title": "   "}, None, "title is empty after normalisation"),
    ({"id": "a", "title": "<b></b>", "description": "x"}, None, None),  # title is not HTML-stripped: kept
    ({"id": "a", "title": "Kettle", "price": "cheap"}, "price", "valid number"),
    ({"id": "a", "title": "Kettle", "price": -1}, "price", "greater than or equal to 0"),
    ({"id": True, "title": "Kettle"}, "id", "not a boolean"),
    ({"id": "a", "title": "Kettle", "lang": "english!"}, "lang", "is not a language tag"),
    ({"id": "a", "title": "Kettle", "currency": "euro"}, "currency", "should match pattern"),
    ({"id": "a", "title": ["Kettle"]}, "title", "valid string"),
    ({"id": "a", "title": "\u200b\u200f\u2066\u2069"}, None, "invisible characters only"),
    ({"id": "a", "title": "Kettle", "price": True}, "price", "not a boolean"),
    ({"id": "字" * 200, "title": "Kettle"}, "id", "600 bytes in UTF-8; OpenSearch allows at most 512"),
], ids=["missing-id", "missing-title", "blank-title", "markup-title", "price-text", "negative-price", "bool-id",
        "bad-language-tag", "bad-currency", "title-list", "invisible-title", "bool-price", "id-over-512-bytes"])
def test_bad_records_are_rejected_naming_field_and_reason(fields: dict, field: str | None, reason: str | None) -> None:
    result = check(fields)
    if reason is None:
        assert isinstance(result, PreparedRecord)
        return
    assert isinstance(result, Rejection) and result.stage == "validate"
    assert reason in result.reason
    if field:
        assert result.field is not None and result.field.startswith(field)
    assert result.record == fields


def test_unreadable_records_are_rejected_at_the_read_stage_with_their_raw_text() -> None:
    result = validator().check(SourceRecord(4, None, "malformed JSON: x", raw="{oops"))
    assert result == Rejection(4, "read", "malformed JSON: x", raw="{oops")


def test_a_repeated_id_is_rejected_pointing_at_the_first_occurrence() -> None:
    v = validator()
    assert isinstance(check({"id": "a", "title": "Kettle"}, v, position=3), PreparedRecord)
    duplicate = check({"id": "a", "title": "Kettle v2"}, v, position=8)
    assert isinstance(duplicate, Rejection) and duplicate.reason == "duplicate id 'a': first seen at position 3"
    assert duplicate.stage == "duplicate"


def test_numeric_ids_are_kept_as_text() -> None:
    assert check({"id": 42, "title": "Kettle"}).product.id == "42"


def test_text_is_nfkc_normalised_and_whitespace_collapsed_but_accents_and_scripts_kept() -> None:
    product = check({"id": "a", "title": "  Ｃａｆé   ｸﾞﾗｽ\tcrème  ", "lang": "fr"}).product
    assert product.title == "Café グラス crème"


def test_html_is_stripped_from_descriptions_only() -> None:
    product = check({"id": "a", "title": "R&D <kit>", "lang": "en",
                     "description": "<p>Fast &amp; quiet</p><script>x()</script><ul><li>2 speeds</li></ul>"}).product
    assert product.description == "Fast & quiet 2 speeds"
    assert product.title == "R&D <kit>"


def test_an_over_long_description_is_cut_at_a_word_and_counted() -> None:
    v = validator(max_description_chars=1000)
    product = check({"id": "a", "title": "Kettle", "lang": "en", "description": "word " * 1_000_000}, v).product
    assert len(product.description) <= 1000 and product.description.endswith("word")
    assert v.truncated == 1


def test_a_declared_language_is_used_without_detection() -> None:
    v = validator()
    result = check({"id": "a", "title": "Kettle", "locale": "pt_BR"}, v)
    assert result.language == LanguageGuess("pt", 1.0, "declared")
    assert v.detector.seen == []


def test_records_without_a_language_are_detected_from_title_and_description() -> None:
    v = validator()
    result = check({"id": "a", "title": "Kettle", "description": "Boils water"}, v)
    assert result.language.source == "detected"
    assert v.detector.seen == ["Kettle Boils water"]


def test_a_syntactically_valid_but_unknown_language_is_kept_and_indexed_with_icu() -> None:
    result = check({"id": "a", "title": "Kettle", "lang": "xx"})
    assert result.language.code == "xx"


def test_field_mapping_renames_reaches_into_nested_objects_and_fills_defaults() -> None:
    mapping = FieldMapping(fields={"id": "sku", "title": "name", "price": "offer.amount"}, defaults={"lang": "id"})
    product = check({"sku": "X1", "name": "Sepatu", "offer": {"amount": "12.5"}, "color": "red"},
                    validator(mapping)).product
    assert (product.id, product.title, product.price, product.lang) == ("X1", "Sepatu", 12.5, "id")
    assert product.attributes == {"color": "red"}


def test_flat_sources_give_per_language_text_as_dotted_columns() -> None:
    product = check({"id": "a", "title.en": "Kettle", "title.ja": "ケトル", "price": ""}).product
    assert product.title == {"en": "Kettle", "ja": "ケトル"} and product.price is None


def test_a_reject_policy_mapping_refuses_unmapped_fields() -> None:
    result = check({"id": "a", "title": "Kettle", "colour": "red"}, validator(FieldMapping(unknown="reject")))
    assert isinstance(result, Rejection) and "colour" in result.reason


def test_category_paths_are_split_on_the_breadcrumb_separator() -> None:
    assert check({"id": "a", "title": "Kettle", "category": "Home > Kitchen > Kettles"}).product.category == [
        "Home", "Kitchen", "Kettles"]


def test_a_mapped_field_falls_back_to_our_own_name_as_in_replayed_index_letters() -> None:
    mapping = FieldMapping(fields={"id": "sku", "title": "name"})
    assert check({"id": "X1", "title": "Kettle", "lang": "en"}, validator(mapping)).product.id == "X1"


def test_a_language_whose_title_is_only_invisible_characters_is_dropped_and_the_others_kept() -> None:
    result = check({"id": "a", "title": {"en": "Kettle", "ja": "\u200b\u200e"}})
    assert isinstance(result, PreparedRecord) and result.product.title == {"en": "Kettle"}


def test_regional_variants_of_one_language_are_merged_not_dropped() -> None:
    result = check({"id": "a", "title": {"pt-BR": "Tênis de corrida", "pt-PT": "Sapatilhas de corrida",
                                         "pt": "Tênis de corrida", "en": "Running shoes"}})
    assert isinstance(result, PreparedRecord)
    assert result.product.title == {"pt": "Tênis de corrida / Sapatilhas de corrida", "en": "Running shoes"}


@pytest.mark.parametrize("attributes", ["red", [["colour", "red"]]], ids=["string", "pairs"])
def test_attributes_of_another_shape_next_to_unknown_fields_are_rejected_not_raised(attributes: object) -> None:
    result = check({"id": "a", "title": "Kettle", "attributes": attributes, "colour": "blue"})
    assert isinstance(result, Rejection) and result.reason.startswith("attributes: Input should be a valid dictionary")


def test_a_per_language_value_of_the_wrong_type_is_named_by_its_language() -> None:
    result = check({"id": "a", "title": {"en": "Kettle", "de": 5}})
    assert isinstance(result, Rejection) and result.field == "title.de"


def test_null_languages_of_a_title_are_absent_languages() -> None:
    result = check({"id": "a", "title": {"en": "Kettle", "de": None}})
    assert isinstance(result, PreparedRecord) and result.product.title == {"en": "Kettle"}


def test_inline_tags_in_a_description_never_split_a_word_and_block_tags_separate_words() -> None:
    description = "<p>multi<b>lingual</b> <i>head</i>set</p><p>wireless</p><ul><li>one</li><li>o-ring</li></ul>"
    product = check({"id": "a", "title": "Headset", "lang": "en", "description": description}).product
    assert product.description == "multilingual headset wireless one o-ring"
