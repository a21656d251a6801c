"""Source records to prepared products, or to rejections that say which record and why."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from ingest.documents import PreparedRecord
from ingest.field_mapping import FieldMapping, FieldMappingError
from ingest.language import LanguageDetector, LanguageGuess
from ingest.normalize import truncate
from ingest.readers import SourceRecord
from ingest.schema import CatalogProduct


@dataclass(frozen=True)
class Rejection:
    """A record that was not indexed, with everything needed to find, fix and replay it."""

    position: int
    stage: str  # read | validate | duplicate | index
    reason: str
    field: str | None = None
    record_id: str | None = None
    record: dict[str, Any] | None = None
    raw: str | None = None


class RecordValidator:
    """Validates, normalises and language-tags records; the first record of an id wins.

    A later record with an id already seen in this run is rejected (not merged):
    both claim to be the same product, and which is right is the catalog's call.
    """

    def __init__(self, mapping: FieldMapping, detector: LanguageDetector, max_description_chars: int) -> None:
        self.mapping = mapping
        self.detector = detector
        self.max_description_chars = max_description_chars
        self.truncated = 0
        self._first_seen: dict[str, int] = {}

    def check(self, source: SourceRecord) -> PreparedRecord | Rejection:
        if source.fields is None:
            return Rejection(source.position, source.stage, source.error or "unreadable record", raw=source.raw)
        try:
            record = self.mapping.apply(source.fields)
            product = CatalogProduct.model_validate(record)
        except FieldMappingError as error:
            return Rejection(source.position, "validate", str(error), record=_jsonable(source.fields))
        except ValidationError as error:
            field, reason = _first_error(error)
            return Rejection(source.position, "validate", reason, field=field,
                             record_id=_id_of(source.fields), record=_jsonable(source.fields))
        first = self._first_seen.setdefault(product.id, source.position)
        if first != source.position:
            return Rejection(source.position, "duplicate", f"duplicate id {product.id!r}: first seen at position {first}",
                             field="id", record_id=product.id, record=_jsonable(source.fields))
        product = self._cap_description(product)
        return PreparedRecord(position=source.position, product=product, language=self._language(product))

    def _language(self, product: CatalogProduct) -> LanguageGuess:
        declared = product.declared_language
        if isinstance(product.title, dict):
            return LanguageGuess(declared if declared in product.title else next(iter(product.title)), 1.0, "declared")
        if declared:
            return LanguageGuess(declared, 1.0, "declared")
        sample = product.title if not isinstance(product.description, str) else f"{product.title} {product.description[:500]}"
        return self.detector.detect(sample)

    def _cap_description(self, product: CatalogProduct) -> CatalogProduct:
        if product.description is None:
            return product
        texts = {"": product.description} if isinstance(product.description, str) else product.description
        capped, cut = {}, False
        for lang, text in texts.items():
            capped[lang], was_cut = truncate(text, self.max_description_chars)
            cut = cut or was_cut
        if not cut:
            return product
        self.truncated += 1
        description = capped[""] if isinstance(product.description, str) else capped
        return product.model_copy(update={"description": description})


def _first_error(error: ValidationError) -> tuple[str | None, str]:
    """The field and a readable reason; further errors are counted, not listed."""
    errors = error.errors(include_url=False)
    first = errors[0]
    field = ".".join(str(part) for part in first["loc"]) or None
    got = first.get("input")
    shown = "" if isinstance(got, dict) or got is None else f" (got {str(got)[:80]!r})"
    more = f"; and {len(errors) - 1} more problem(s)" if len(errors) > 1 else ""
    return field, f"{field or 'record'}: {first['msg']}{shown}{more}"


def _id_of(fields: dict[str, Any]) -> str | None:
    value = fields.get("id")
    return str(value) if isinstance(value, str | int) and not isinstance(value, bool) else None


def _jsonable(fields: dict[str, Any]) -> dict[str, Any]:
    """Parquet rows can hold dates or bytes; the dead-letter file is JSON."""
    return json.loads(json.dumps(fields, ensure_ascii=False, default=str))
