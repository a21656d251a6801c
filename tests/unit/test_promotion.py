"""When a new version may replace the serving one."""

from __future__ import annotations

from lingodex.ingest.index.promotion import PromotionPolicy, refusal

POLICY = PromotionPolicy(max_rejected=0.01, min_kept=0.9)


def test_an_empty_version_is_never_promoted_even_forced() -> None:
    reason = refusal(PromotionPolicy(force=True), read=2, indexed=0, rejected=2, serving="p-v1", serving_count=100)
    assert reason is not None and "no documents" in reason


def test_a_first_version_with_rejections_is_promoted_since_it_replaces_nothing() -> None:
    assert refusal(POLICY, read=10, indexed=4, rejected=6) is None


def test_a_version_with_more_rejections_than_allowed_is_refused() -> None:
    reason = refusal(POLICY, read=1000, indexed=980, rejected=20, serving="p-v1", serving_count=1000)
    assert reason is not None and "20 of 1000 records were rejected (2.0%)" in reason


def test_a_version_that_lost_too_many_documents_is_refused() -> None:
    reason = refusal(POLICY, read=800, indexed=800, rejected=0, serving="p-v1", serving_count=1000)
    assert reason is not None and "p-v1 serves 1000" in reason


def test_a_version_within_both_limits_is_promoted() -> None:
    assert refusal(POLICY, read=1000, indexed=995, rejected=5, serving="p-v1", serving_count=1000) is None


def test_force_promotes_despite_rejections_and_losses() -> None:
    forced = PromotionPolicy(max_rejected=0.01, min_kept=0.9, force=True)
    assert refusal(forced, read=10, indexed=3, rejected=7, serving="p-v1", serving_count=100) is None
