"""Index bodies kept as JSON files next to this module, completed from the encoder."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

MAPPINGS_DIR = Path(__file__).parent / "mappings"


@cache
def _load(name: str) -> dict[str, Any]:
    return json.loads((MAPPINGS_DIR / f"{name}.json").read_text(encoding="utf-8"))


def index_body(name: str, *, dimension: int, model_id: str) -> dict[str, Any]:
    """The mapping file ``name`` with the vector dimension and encoder identity filled in.

    The encoder is recorded in ``_meta`` so that an index never silently mixes
    vectors of two models.
    """
    body = copy.deepcopy(_load(name))
    mappings = body["mappings"]
    mappings["properties"]["embedding"]["dimension"] = dimension
    mappings["_meta"]["encoder"] = {"model_id": model_id, "dimension": dimension}
    return body


def language_fields(name: str) -> list[str]:
    """Languages that have their own analysed title field (besides ``other``)."""
    fields = _load(name)["mappings"]["properties"]["title"]["properties"]
    return [lang for lang in fields if lang != "other"]
