"""The job checks each batch result against the wire contract (ingest/messages.py) where it receives it."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from lingodex.ingest.messages import INDEXED_BATCH
from lingodex.ingest.job import _first

RESULT = {"embedded": 2, "cache_hits": 0, "unchanged": 1, "retries": 0, "indexed": 3, "written": 2,
          "rejected": [{"position": 4, "stage": "index", "reason": "mapper_parsing_exception", "field": None,
                        "record_id": "p4", "record": {"id": "p4"}, "raw": None}]}


def test_a_batch_result_of_this_release_passes() -> None:
    assert INDEXED_BATCH.validate_python(RESULT) == RESULT


def test_a_batch_result_of_another_shape_is_refused_with_the_field_named() -> None:
    older = {key: value for key, value in RESULT.items() if key != "written"}
    with pytest.raises(ValidationError) as raised:
        INDEXED_BATCH.validate_python(older)
    assert _first(raised.value) == "written: Field required"


def test_a_rejection_without_its_reason_is_refused_with_its_place_named() -> None:
    broken = {**RESULT, "rejected": [{key: value for key, value in RESULT["rejected"][0].items() if key != "reason"}]}
    with pytest.raises(ValidationError) as raised:
        INDEXED_BATCH.validate_python(broken)
    assert _first(raised.value) == "rejected.0.reason: Field required"
