"""Whether a freshly loaded index version may replace the one an alias serves.

A nightly feed that arrives broken (every record rejected, half the catalog
missing) must not become what shoppers search. The new version is kept either
way, so that a person can look at it and promote it by hand
(`lingodex promote`), or roll back later (`lingodex rollback`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PromotionPolicy:
    max_rejected: float = 0.01  # share of the records read that may be rejected
    min_kept: float = 0.9  # share of the serving version's documents the new one must hold
    force: bool = False  # promote despite the two shares (never with no document at all)


def refusal(policy: PromotionPolicy, *, read: int, indexed: int, rejected: int,
            serving: str | None = None, serving_count: int = 0) -> str | None:
    """Why the new version must not be promoted, or None when it may.

    An empty version never serves. The first version of an alias replaces nothing, so any documents beat none;
    a later one must have lost no more than the policy allows.
    """
    if indexed == 0:
        return f"the new version holds no documents ({rejected} of {read} records rejected)"
    if policy.force or serving is None:
        return None
    if read and rejected / read > policy.max_rejected:
        return (f"{rejected} of {read} records were rejected ({rejected / read:.1%}), more than --max-rejected "
                f"{policy.max_rejected:.1%}")
    if indexed < policy.min_kept * serving_count:
        return (f"the new version holds {indexed} documents where {serving} serves {serving_count} "
                f"({indexed / serving_count:.1%}, below --min-kept {policy.min_kept:.0%})")
    return None
