"""Map a catalog's own field names onto lingodex's product schema (YAML, no code).

Example (``--fields shop.yaml``)::

    fields:            # ours: theirs (dotted paths reach into nested objects)
      id: sku
      title: name
      description: body_html
      price: offer.amount
      currency: offer.currency
    defaults:          # constants for records that lack the field
      lang: id
      currency: IDR
    unknown: attributes   # other scalar source fields: attributes | ignore | reject

Flat sources (CSV, Parquet) give per-language text as ``title.en``, ``title.ja``
columns; those are folded into ``{"en": ..., "ja": ...}``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from lingodex.ingest.errors import IngestError
from lingodex.ingest.catalog.schema import CatalogProduct

SCHEMA_FIELDS = frozenset(CatalogProduct.model_fields)
_MISSING = object()


class FieldMappingError(IngestError, ValueError):
    """The record cannot be mapped (e.g. a reject-policy unknown field)."""


class FieldMapping(BaseModel):
    model_config = ConfigDict(extra="forbid")

    fields: dict[str, str] = Field(default_factory=dict, description="schema field -> source path")
    defaults: dict[str, Any] = Field(default_factory=dict)
    unknown: Literal["attributes", "ignore", "reject"] = "attributes"

    @classmethod
    def load(cls, path: Path | None) -> FieldMapping:
        if path is None:
            return cls()
        mapping = cls.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
        wrong = set(mapping.fields) - SCHEMA_FIELDS
        if wrong:
            raise ValueError(f"{path}: {sorted(wrong)} are not product fields (known: {sorted(SCHEMA_FIELDS)})")
        return mapping

    def apply(self, source: dict[str, Any]) -> dict[str, Any]:
        """The record in schema names: mapped fields, then same-named fields, then defaults."""
        source = _fold_dotted_keys(_present(source))
        record: dict[str, Any] = {}
        used_roots = {path.split(".")[0] for path in self.fields.values()}
        for ours in SCHEMA_FIELDS:
            for path in dict.fromkeys((self.fields.get(ours, ours), ours)):  # e.g. replayed letters use our names
                value = _lookup(source, path)
                if value is not _MISSING:
                    record[ours] = value
                    used_roots.add(path.split(".")[0])
                    break
        for ours, value in self.defaults.items():
            record.setdefault(ours, value)
        self._unknown_fields(source, used_roots, record)
        return record

    def _unknown_fields(self, source: dict[str, Any], used: set[str], record: dict[str, Any]) -> None:
        extra = {key: value for key, value in source.items() if key not in used}
        if not extra or self.unknown == "ignore":
            return
        if self.unknown == "reject":
            raise FieldMappingError(f"fields not in the mapping: {sorted(extra)}")
        scalars = {key: value for key, value in extra.items() if isinstance(value, str | int | float | bool)}
        given = record.get("attributes", {})
        if isinstance(given, dict):  # any other shape is left as it came, for validation to reject with its reason
            record["attributes"] = {**scalars, **given}


def _present(value: dict[str, Any]) -> dict[str, Any]:
    """Without empty or null values, at any depth: a Parquet struct gives null for each language a row lacks."""
    return {key: _present(item) if isinstance(item, dict) else item
            for key, item in value.items() if item not in ("", None)}


def _lookup(source: dict[str, Any], path: str) -> Any:
    value: Any = source
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


def _fold_dotted_keys(row: dict[str, Any]) -> dict[str, Any]:
    """{"title.en": "x", "title.ja": "y"} -> {"title": {"en": "x", "ja": "y"}} for flat sources."""
    if not any("." in key for key in row):
        return row
    folded: dict[str, Any] = {}
    for key, value in row.items():
        head, _, rest = key.partition(".")
        if rest and (head not in row):
            folded.setdefault(head, {})[rest] = value
        else:
            folded[key] = value
    return folded
