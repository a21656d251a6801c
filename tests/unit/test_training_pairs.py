"""Training pairs come from groups of listings, and groups are split whole: no product on both sides."""

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lingodex.ingest.training_pairs import GroupedTexts, in_held_out, parallel_pairs


@settings(max_examples=50, deadline=None)
@given(rows=st.lists(st.tuples(st.sampled_from([f"g{n}" for n in range(30)]), st.text(min_size=1, max_size=8)),
                     max_size=200), share=st.floats(0.0, 0.9))
def test_a_group_split_never_puts_one_group_on_both_sides(rows: list[tuple[str, str]], share: float) -> None:
    train, held = GroupedTexts.of(rows).split(share)
    assert not set(train.groups) & set(held.groups)
    assert set(train.groups) | set(held.groups) == set(GroupedTexts.of(rows).groups)


def test_the_split_is_stable_and_close_to_the_share() -> None:
    groups = [f"group-{n}" for n in range(10_000)]
    held = [group for group in groups if in_held_out(group, 0.3)]
    assert held == [group for group in groups if in_held_out(group, 0.3)]
    assert 0.28 < len(held) / len(groups) < 0.32


def test_pairs_join_different_listings_of_a_group_and_are_capped_per_group() -> None:
    grouped = GroupedTexts.of([("a", "Kettle 1.7 l"), ("a", "Kettle  1.7 l"), ("a", "Electric kettle"),
                               ("b", "Lamp"), *(("c", f"Phone case {n}") for n in range(8))])
    pairs = grouped.pairs(max_per_group=5)
    assert ("Kettle 1.7 l", "Electric kettle") in pairs  # the repeated listing (whitespace aside) counts once
    assert not any("Lamp" in pair for pair in pairs)  # a group of one has no pair
    assert sum(anchor.startswith("Phone") for anchor, _ in pairs) == 5


def test_a_parallel_file_line_that_is_not_two_texts_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "parallel.tsv"
    path.write_text("Hund\tdog\n\nKatze cat\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"parallel.tsv:3: expected 'text<TAB>translation'"):
        parallel_pairs(path)


def test_grouped_pairs_name_the_group_of_each_pair_and_texts_list_every_listing() -> None:
    grouped = GroupedTexts.of([("a", "red kettle"), ("a", "kettle red"), ("b", "lamp"), ("b", "desk lamp")])
    assert grouped.grouped_pairs() == [("a", ("red kettle", "kettle red")), ("b", ("lamp", "desk lamp"))]
    assert grouped.texts() == [("a", "red kettle"), ("a", "kettle red"), ("b", "lamp"), ("b", "desk lamp")]
