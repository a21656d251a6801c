"""Turn catalog records into index documents."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from pydantic import BaseModel, Field


class Product(BaseModel):
    """The minimal product the demo needs; issue #4 grows the full catalog schema."""

    id: str = Field(min_length=1)
    lang: str = Field(min_length=2)
    title: str = Field(min_length=1)


def title_field(lang: str, languages: Iterable[str]) -> str:
    """The title sub-field for ``lang``: its own analyser if we have one, else ICU."""
    primary = lang.split("-")[0].lower()
    return primary if primary in set(languages) else "other"


def to_document(product: Product, vector: np.ndarray, languages: Iterable[str]) -> dict[str, Any]:
    return {
        "id": product.id,
        "lang": product.lang,
        "title": {title_field(product.lang, languages): product.title},
        "embedding": vector.astype(float).tolist(),
    }
