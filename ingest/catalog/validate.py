"""Source records to prepared products, or to rejections that say which record and why."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from lingodex.ingest.index.documents import PreparedRecord
from lingodex.ingest.catalog.field_mapping import FieldMapping, FieldMappingError
from lingodex.ingest.catalog.language import LanguageDetector, LanguageGuess
from lingodex.ingest.catalog.normalize import truncate
from lingodex.ingest.catalog.readers import SourceRecord, raw_text
from lingodex.ingest.catalog.schema import CatalogProduct

log = logging.getLogger(__name__)


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
            return self._checked(source, source.fields)
        except Exception as error:  # noqa: BLE001 - a record that trips a bug is rejected, not the load stopped
            log.exception("record at position %s could not be checked", source.position)
            return Rejection(source.position, "validate", f"could not be checked ({type(error).__name__}: {error}); "
                             "please report this record", record_id=_id_of(source.fields), raw=raw_text(source.fields))

    def _checked(self, source: SourceRecord, fields: dict[str, Any]) -> PreparedRecord | Rejection:
        record: dict[str, Any] = {}
        try:
            record = self.mapping.apply(fields)
            product = CatalogProduct.model_validate(record)
        except FieldMappingError as error:
            return Rejection(source.position, "validate", str(error), record=_jsonable(fields))
        except ValidationError as error:
            field, reason = _first_error(error, record)
            return Rejection(source.position, "validate", reason, field=field,
                             record_id=_id_of(fields), record=_jsonable(fields))
        first = self._first_seen.setdefault(product.id, source.position)
        if first != source.position:
            return Rejection(source.position, "duplicate", f"duplicate id {product.id!r}: first seen at position {first}",
                             field="id", record_id=product.id, record=_jsonable(fields))
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


def _first_error(error: ValidationError, record: dict[str, Any]) -> tuple[str | None, str]:
    """The field and a readable reason for the most specific problem; further problems are counted, not listed.

    Pydantic's error paths hold type tags of union members ('title.constrained-str'); only the parts that
    lead into the record are kept, and of a union's errors the one reaching deepest into the value is shown
    (for title {"en": 5}: 'title.en', not 'title is not a string').
    """
    errors = error.errors(include_url=False)
    paths = [_path_in(record, entry["loc"]) for entry in errors]
    best = max(range(len(errors)), key=lambda number: len(paths[number]))
    first, field = errors[best], ".".join(paths[best]) or None
    got = first.get("input")
    shown = "" if isinstance(got, dict | list) or got is None else f" (got {str(got)[:80]!r})"
    more = f"; and {len(errors) - 1} more problem(s)" if len(errors) > 1 else ""
    message = first["msg"].removeprefix("Value error, ")  # our own validators' messages are sentences already
    return field, f"{field}: {message}{shown}{more}" if field else f"{message}{more}"


def _path_in(record: Any, loc: tuple[int | str, ...]) -> list[str]:
    """The field, then the parts of ``loc`` that index into its value; the rest are pydantic's type tags."""
    if not loc:
        return []
    path, value = [str(loc[0])], record.get(loc[0]) if isinstance(record, dict) else None
    for part in loc[1:]:
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value):
            value = value[part]
        else:
            continue
        path.append(str(part))
    return path


def _id_of(fields: dict[str, Any]) -> str | None:
    value = fields.get("id")
    return str(value) if isinstance(value, str | int) and not isinstance(value, bool) else None


def _jsonable(fields: dict[str, Any]) -> dict[str, Any]:
    """Parquet rows can hold dates or bytes; the dead-letter file is JSON."""
    return json.loads(json.dumps(fields, ensure_ascii=False, default=str))
