"""The catalog product as lingodex understands it, validated and normalised.

Field names are ours; a catalog that names things differently maps them with a
field-mapping YAML (ingest/catalog/field_mapping.py). Text is given either in one
language (``title`` a string, language from ``lang``/``locale`` or detected) or
per language (``title: {"en": ..., "ja": ...}``).
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from lingodex.ingest.catalog.language import is_language_tag, primary_subtag
from lingodex.ingest.catalog.normalize import clean_text, has_visible_text, strip_html

VARIANT_SEPARATOR = " / "  # joins the distinct texts of one language's regional variants (zh-Hans / zh-Hant)
MAX_TITLE_CHARS = 2_000  # per language; a longer "title" is a description or a keyword dump, and would drown BM25
MAX_ID_BYTES = 512  # OpenSearch refuses a longer _id (and, in a bulk request, would fail it for the whole batch)

Text = str | dict[str, str]


class Availability(str, Enum):
    in_stock = "in_stock"
    out_of_stock = "out_of_stock"
    preorder = "preorder"
    backorder = "backorder"
    discontinued = "discontinued"


class CatalogProduct(BaseModel):
    """One record of a catalog. Unknown keys are an error, so a typo in a field mapping shows."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: str = Field(min_length=1, max_length=512, description="the document _id; numbers are accepted and kept as text")
    title: Text
    description: Text | None = None
    brand: str | None = Field(None, max_length=256)
    category: list[str] = Field(default_factory=list, description="path from the root, e.g. ['Electronics', 'Audio']")
    price: float | None = Field(None, ge=0, allow_inf_nan=False)
    currency: str | None = Field(None, pattern=r"^[A-Z]{3}$", description="ISO 4217")
    availability: Availability | None = None
    attributes: dict[str, str | int | float | bool] = Field(default_factory=dict)
    lang: str | None = Field(None, description="BCP-47 tag of single-language text; locale is an alias")
    locale: str | None = None

    @field_validator("id", mode="before")
    @classmethod
    def _id_as_text(cls, value: Any) -> Any:
        if isinstance(value, bool):  # bool is an int in Python; an id of `true` is a mistake
            raise ValueError("id must be a string or an integer, not a boolean")
        return str(value) if isinstance(value, int) else value

    @field_validator("id")
    @classmethod
    def _id_fits_opensearch(cls, value: str) -> str:
        size = len(value.encode("utf-8", "surrogatepass"))
        if size > MAX_ID_BYTES:
            raise ValueError(f"id is {size} bytes in UTF-8; OpenSearch allows at most {MAX_ID_BYTES}")
        return value

    @field_validator("price", mode="before")
    @classmethod
    def _price_is_a_number(cls, value: Any) -> Any:
        if isinstance(value, bool):  # pydantic would read true as 1.0
            raise ValueError("price must be a number, not a boolean")
        return value

    @field_validator("category", mode="before")
    @classmethod
    def _category_path(cls, value: Any) -> Any:
        if isinstance(value, str):  # "Electronics > Audio > Headphones"
            return [part.strip() for part in value.split(">") if part.strip()]
        return value

    @field_validator("currency", mode="before")
    @classmethod
    def _upper_currency(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("lang", "locale")
    @classmethod
    def _language_tag(cls, value: str | None) -> str | None:
        if value is not None and not is_language_tag(value):
            raise ValueError(f"{value!r} is not a language tag (expected e.g. 'en', 'pt-BR', 'zh-Hant')")
        return value

    @field_validator("title", "description")
    @classmethod
    def _per_language_keys(cls, value: Text | None) -> Text | None:
        if isinstance(value, dict):
            bad = [key for key in value if not is_language_tag(key)]
            if bad:
                raise ValueError(f"per-language text has keys that are not language tags: {bad}")
        return value

    @model_validator(mode="after")
    def _normalise_and_require_title(self) -> CatalogProduct:
        self.title = _clean(self.title, html=False)
        if self.description is not None:
            self.description = _clean(self.description, html=True)
        if self.brand is not None:
            self.brand = clean_text(self.brand) or None
        if not self.title:
            raise ValueError("title is empty after normalisation (blank, whitespace, markup or invisible characters only)")
        longest = max(len(text) for text in ([self.title] if isinstance(self.title, str) else self.title.values()))
        if longest > MAX_TITLE_CHARS:
            raise ValueError(f"title is {longest:,} characters; at most {MAX_TITLE_CHARS:,} (long text belongs in description)")
        return self

    @property
    def declared_language(self) -> str | None:
        tag = self.lang or self.locale
        return primary_subtag(tag) if tag else None


def _clean(value: Text, *, html: bool) -> Text:
    def one(text: str) -> str:
        cleaned = clean_text(strip_html(text) if html else text)
        return cleaned if has_visible_text(cleaned) else ""  # zero-width and bidi marks alone are no text

    if isinstance(value, str):
        return one(value)
    merged: dict[str, list[str]] = {}
    for lang, text in value.items():  # regional variants share their language's field: pt-BR and pt-PT both in pt
        cleaned, texts = one(text), merged.setdefault(primary_subtag(lang), [])
        if cleaned and cleaned not in texts:
            texts.append(cleaned)
    return {lang: VARIANT_SEPARATOR.join(texts) for lang, texts in merged.items() if texts}
