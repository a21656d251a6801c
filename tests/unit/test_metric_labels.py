"""Metric labels stay few: batch sizes by power of two, bulk errors by OpenSearch's error type."""

import pytest

from lingodex.workers.metrics import error_type, texts_up_to


@pytest.mark.parametrize(("count", "label"), [(1, "1"), (2, "2"), (3, "4"), (40, "64"), (64, "64"), (65, "128"), (200, "256")])
def test_a_batch_size_is_labelled_by_the_power_of_two_at_or_above_it(count: int, label: str) -> None:
    assert texts_up_to(count) == label


def test_a_bulk_error_is_labelled_by_its_opensearch_type() -> None:
    reason = "mapper_parsing_exception: failed to parse field [price] (caused by number_format_exception: For input)"
    assert error_type(reason) == "mapper_parsing_exception"
    assert error_type("") == "unknown"
