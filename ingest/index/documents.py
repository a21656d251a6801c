"""Turn validated catalog products into OpenSearch documents.

Text goes to the sub-field of its language (``title.ja``), or to ``other`` (ICU)
when lingodex has no analyzer for that language or detection was not confident.
One vector per product, from the title in its primary language: the declared
language when the title has it, else the first language given.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import asdict
from functools import cached_property
from typing import Any

from pydantic import BaseModel

from lingodex.ingest.catalog.language import LanguageGuess, primary_subtag
from lingodex.ingest.catalog.schema import CatalogProduct, Text

OTHER = "other"


class PreparedRecord(BaseModel):
    """A valid product on its way to a worker (serialised as JSON in the task message)."""

    position: int
    product: CatalogProduct
    language: LanguageGuess

    @property
    def id(self) -> str:
        return self.product.id

    @cached_property
    def content_hash(self) -> str:
        """Changes whenever anything indexed would change; equal hashes mean nothing to do.

        Cached: the embed stage compares it with the stored hash and the document then carries it.
        """
        canonical = json.dumps({"product": self.product.model_dump(mode="json"), "language": asdict(self.language)},
                               sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()


def field_for(lang: str, analyzed: Iterable[str]) -> str:
    """The sub-field for ``lang`` ('pt-BR' -> 'pt'): its own analyzer if we have one, else ICU."""
    primary = primary_subtag(lang)
    return primary if primary in set(analyzed) else OTHER


def primary_title(record: PreparedRecord) -> tuple[str, str]:
    """(language, title) that the vector is computed from."""
    title = record.product.title
    if isinstance(title, str):
        return record.language.code, title
    preferred = record.product.declared_language
    lang = preferred if preferred in title else next(iter(title))
    return lang, title[lang]


def vector_language(record: PreparedRecord) -> str:
    """The language of the text the vector is computed from: its centroid is the one taken out (ingest/centring.py)."""
    return primary_subtag(primary_title(record)[0])


def embedding_text(record: PreparedRecord) -> str:
    """The primary title, with the brand in front when the title does not already name it."""
    _, title = primary_title(record)
    brand = record.product.brand
    if brand and brand.casefold() not in title.casefold():
        return f"{brand} {title}"
    return title


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def to_document(record: PreparedRecord, vector: list[float], analyzed: Iterable[str],
                centring: dict[str, Any] | None = None) -> dict[str, Any]:
    """The document for ``record``; ``centring`` ({id, lang, scale}) when ``vector`` was centred."""
    product, language = record.product, record.language
    analyzed = frozenset(analyzed)
    document: dict[str, Any] = {
        "id": product.id,
        "lang": language.code,
        "lang_confidence": language.confidence,
        "lang_source": language.source,
        "title": _by_language(product.title, language.code, analyzed),
        "content_hash": record.content_hash,
        "embed_hash": text_hash(embedding_text(record)),
        "embedding": vector,
        "record": record.model_dump(mode="json", exclude={"position"}),
    }
    if centring is not None:
        document["centring"] = centring
    if product.description:
        document["description"] = _by_language(product.description, language.code, analyzed)
    optional = {
        "brand": product.brand,
        "category": product.category or None,
        "category_path": " > ".join(product.category) if product.category else None,
        "price": product.price,
        "currency": product.currency,
        "availability": product.availability.value if product.availability else None,
        "attributes": {key: str(value) for key, value in product.attributes.items()} or None,
        # titles and brand reach `exact` by copy_to; the id and attribute values (SKU, GTIN, model) are added here
        "exact": [product.id, *(str(value) for value in product.attributes.values() if not isinstance(value, bool))],
    }
    document.update({key: value for key, value in optional.items() if value is not None})
    return document


def _by_language(text: Text, lang: str, analyzed: frozenset[str]) -> dict[str, str]:
    if isinstance(text, str):
        return {field_for(lang, analyzed): text}
    fields: dict[str, str] = {}
    for text_lang, value in text.items():  # two unanalysed languages share `other`
        field = field_for(text_lang, analyzed)
        fields[field] = f"{fields[field]} {value}" if field in fields else value
    return fields
