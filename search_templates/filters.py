"""Search filters: parsed from `--filter key=value`, applied to the lexical and the k-NN sub-query alike."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from lingodex.search_templates.errors import SearchError

KEYWORD_FILTERS = {"brand": "brand", "category": "category", "availability": "availability", "lang": "lang",
                   "currency": "currency"}


class FilterError(SearchError, ValueError):
    pass


@dataclass(frozen=True)
class Filters:
    terms: dict[str, tuple[str, ...]] = field(default_factory=dict)  # field -> accepted values (any of)
    price_min: float | None = None
    price_max: float | None = None

    def clauses(self) -> list[dict[str, Any]]:
        """Filter clauses (no scoring) for a bool query's `filter` or a k-NN query's `filter`."""
        found: list[dict[str, Any]] = [{"terms": {name: list(values)}} for name, values in sorted(self.terms.items())]
        bounds = {key: value for key, value in (("gte", self.price_min), ("lte", self.price_max)) if value is not None}
        if bounds:
            found.append({"range": {"price": bounds}})
        return found

    def __bool__(self) -> bool:
        return bool(self.terms) or self.price_min is not None or self.price_max is not None


def parse_filters(expressions: list[str]) -> Filters:
    """`brand=Acme`, `brand=Acme,Orca` (either), `category=Home > Kitchen`, `lang=ja`, `price=10..100`, `price=..50`."""
    terms: dict[str, tuple[str, ...]] = {}
    price_min = price_max = None
    for expression in expressions:
        key, sep, value = expression.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not value:
            raise FilterError(f"filter {expression!r}: expected key=value")
        if key == "price":
            price_min, price_max = _price_range(expression, value)
        elif key in KEYWORD_FILTERS:
            terms[KEYWORD_FILTERS[key]] = tuple(part.strip() for part in value.split(",") if part.strip())
        else:
            raise FilterError(f"filter {expression!r}: unknown key {key!r}; use one of "
                              f"{', '.join([*KEYWORD_FILTERS, 'price'])}")
    return Filters(terms, price_min, price_max)


def _price_range(expression: str, value: str) -> tuple[float | None, float | None]:
    low, sep, high = value.partition("..")
    try:
        bounds = (float(value), float(value)) if not sep else ((float(low) if low else None), (float(high) if high else None))
    except ValueError:
        raise FilterError(f"filter {expression!r}: price takes a number or a range like 10..100") from None
    if any(bound is not None and not math.isfinite(bound) for bound in bounds):
        raise FilterError(f"filter {expression!r}: price bounds must be finite numbers")
    return bounds
