"""Client-side fusion reproduces neural-search's normalization, combination and RRF arithmetic."""

import math

import pytest

from lingodex.search_templates.fusion import MIN_SCORE, Ranked, combine, normalize, ordered, reciprocal_rank


def test_min_max_maps_the_best_to_one_and_the_worst_to_the_floor() -> None:
    scores = normalize(Ranked([("a", 9.0), ("b", 5.0), ("c", 1.0)]), "min_max")
    assert scores == {"a": 1.0, "b": 0.5, "c": MIN_SCORE}


def test_min_max_of_one_hit_is_one() -> None:
    assert normalize(Ranked([("a", 3.2)]), "min_max") == {"a": 1.0}


def test_l2_divides_by_the_lists_euclidean_norm() -> None:
    scores = normalize(Ranked([("a", 3.0), ("b", 4.0)]), "l2")
    assert scores == {"a": pytest.approx(0.6), "b": pytest.approx(0.8)}


def test_z_score_uses_the_sample_deviation_and_floors_below_the_mean() -> None:
    scores = normalize(Ranked([("a", 5.0), ("b", 3.0), ("c", 1.0)]), "z_score")
    assert scores == {"a": pytest.approx(1.0), "b": 5.0, "c": MIN_SCORE}, "b is the mean: neural-search gives it the max"


def test_an_empty_list_normalises_to_nothing() -> None:
    assert normalize(Ranked([]), "min_max") == {}


def test_the_weighted_arithmetic_mean_scores_a_missing_sub_query_as_zero_with_its_weight() -> None:
    combined = combine([{"a": 1.0, "b": 0.5}, {"a": 0.2}], [0.3, 0.7], "arithmetic_mean")
    assert combined["a"] == pytest.approx(0.3 * 1.0 + 0.7 * 0.2)
    assert combined["b"] == pytest.approx(0.3 * 0.5), "the dense list did not return b: 0 there, weight counted"


def test_the_geometric_and_harmonic_means_skip_a_missing_sub_query() -> None:
    assert combine([{"b": 0.5}, {}], [0.3, 0.7], "geometric_mean")["b"] == pytest.approx(0.5)
    assert combine([{"b": 0.5}, {}], [0.3, 0.7], "harmonic_mean")["b"] == pytest.approx(0.5)


def test_the_weighted_geometric_mean() -> None:
    combined = combine([{"a": 0.5}, {"a": 0.8}], [0.25, 0.75], "geometric_mean")
    assert combined["a"] == pytest.approx(math.exp(0.25 * math.log(0.5) + 0.75 * math.log(0.8)))


def test_the_weighted_harmonic_mean() -> None:
    combined = combine([{"a": 0.5}, {"a": 0.8}], [0.5, 0.5], "harmonic_mean")
    assert combined["a"] == pytest.approx(1.0 / (0.5 / 0.5 + 0.5 / 0.8))


def test_rrf_sums_reciprocal_ranks_from_one() -> None:
    fused = reciprocal_rank([Ranked([("a", 9.0), ("b", 1.0)]), Ranked([("b", 0.9)])], rank_constant=60)
    assert fused == {"a": pytest.approx(1 / 61), "b": pytest.approx(1 / 62 + 1 / 61)}


def test_ordering_breaks_ties_by_id_so_pages_are_stable() -> None:
    assert ordered({"b": 0.5, "a": 0.5, "c": 0.9}) == [("c", 0.9), ("a", 0.5), ("b", 0.5)]


def test_an_unknown_technique_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown"):
        normalize(Ranked([("a", 1.0)]), "softmax")


def test_a_mean_over_sub_queries_weighted_zero_is_zero() -> None:
    for technique in ("geometric_mean", "harmonic_mean"):
        assert combine([{"a": 0.5}, {}], [0.0, 1.0], technique)["a"] == 0.0
