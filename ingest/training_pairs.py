"""Training pairs from a catalog whose records name their group (the same product listed many times, variants
of one item), split by group so that no product is on both sides of a held-out check.

Pairs are (one listing, another listing of the same group): the model learns that they belong together and,
through the other pairs of a batch, that other products do not. Groups are split by a stable hash of their
key, never by pair: a pair split would put a product's other listings in training and leak it.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

MAX_PAIRS_PER_GROUP = 10  # a group of 30 listings would give 435 pairs and drown the small ones


@dataclass(frozen=True)
class GroupedTexts:
    """Texts by group key, in catalog order (duplicates within a group dropped)."""

    groups: dict[str, list[str]]

    @classmethod
    def of(cls, rows: Iterable[tuple[str, str]]) -> GroupedTexts:
        groups: dict[str, list[str]] = defaultdict(list)
        for group, text in rows:
            text = " ".join(text.split())
            if text and text not in groups[group]:
                groups[group].append(text)
        return cls(dict(groups))

    def split(self, held_out: float, seed: str = "lingodex") -> tuple[GroupedTexts, GroupedTexts]:
        """(training groups, held-out groups): each group wholly on one side, by a stable hash of its key."""
        kept_out = {group for group in self.groups if in_held_out(group, held_out, seed)}
        return (GroupedTexts({g: texts for g, texts in self.groups.items() if g not in kept_out}),
                GroupedTexts({g: texts for g, texts in self.groups.items() if g in kept_out}))

    def pairs(self, max_per_group: int = MAX_PAIRS_PER_GROUP) -> list[tuple[str, str]]:
        """Up to ``max_per_group`` pairs of different texts of each group with two or more."""
        return [pair for _, pair in self.grouped_pairs(max_per_group)]

    def grouped_pairs(self, max_per_group: int = MAX_PAIRS_PER_GROUP) -> list[tuple[str, tuple[str, str]]]:
        """The same pairs with their group key: hard-negative mining must never pick a text of the anchor's group."""
        return [(group, pair) for group, texts in self.groups.items()
                for pair in list(combinations(texts, 2))[:max_per_group]]

    def texts(self) -> list[tuple[str, str]]:
        """Every (group, text): the corpus hard negatives are mined from."""
        return [(group, text) for group, texts in self.groups.items() for text in texts]


def in_held_out(group: str, share: float, seed: str = "lingodex") -> bool:
    """Whether ``group`` is on the held-out side: the same answer on every machine and run."""
    digest = hashlib.sha256(f"{seed}:{group}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < share


def parallel_pairs(path: Path) -> list[tuple[str, str]]:
    """Sentence pairs from a TSV file (text, tab, its translation), one per line; blank lines skipped."""
    pairs = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) != 2 or not all(part.strip() for part in parts):
            raise ValueError(f"{path}:{number}: expected 'text<TAB>translation', got {line[:80]!r}")
        pairs.append((parts[0].strip(), parts[1].strip()))
    return pairs
