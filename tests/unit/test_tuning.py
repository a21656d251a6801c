"""Tuning: the grid, the stable split, and a choice that follows the evidence."""

from pathlib import Path

from search_templates.evaluation import JudgedQuery
from search_templates.fusion import Ranked
from search_templates.search_params import DEFAULT_PARAMS_FILE, LanguageParams, SearchParams, load_search_params
from search_templates.tuning import RANK_CONSTANTS, WINDOWS, candidates, choose, split, write_params


def test_the_grid_covers_weights_normalisations_rrf_and_windows() -> None:
    grid = candidates(LanguageParams())
    assert {params.window for params in grid} == set(WINDOWS)
    assert {params.lexical_weight for params in grid if params.fusion == "normalization"} == {i / 10 for i in range(11)}
    assert {params.rank_constant for params in grid if params.fusion == "rrf"} == set(RANK_CONSTANTS)
    assert all(params.k >= params.window for params in grid)


def test_the_split_is_stable_and_roughly_the_asked_share() -> None:
    judged = [JudgedQuery(str(i), "q", "en", {"a": 1}) for i in range(1000)]
    tuning, held = split(judged, 0.3)
    assert split(judged, 0.3) == (tuning, held)
    assert 250 < len(held) < 350 and len(tuning) + len(held) == 1000


def lexical_knows_best(count: int, offset: int = 0) -> tuple[list[JudgedQuery], dict]:
    """Queries whose relevant product is first lexically and last of ten by dense."""
    judged, windows = [], {}
    for i in range(offset, offset + count):
        right = f"right-{i}"
        judged.append(JudgedQuery(f"q{i}", "text", "en", {right: 1}))
        others = [f"other-{i}-{j}" for j in range(9)]
        windows[f"q{i}"] = [Ranked([(right, 9.0)] + [(doc, 1.0) for doc in others[:2]]),
                            Ranked([(doc, 0.9 - j / 100) for j, doc in enumerate(others)] + [(right, 0.5)])]
    return judged, windows


def test_the_choice_follows_the_tuning_queries_and_shows_on_the_held_out_ones() -> None:
    tuning, windows = lexical_knows_best(12)
    held, held_windows = lexical_knows_best(6, offset=100)
    languages = {query.id: "en" for query in tuning + held}
    dense_heavy = LanguageParams(lexical_weight=0.1, dense_weight=0.9)
    outcome = choose("en", tuning, held, {**windows, **held_windows}, languages, dense_heavy)
    assert outcome.tuned_after > outcome.tuned_before
    assert outcome.held_out_after > outcome.held_out_before
    assert outcome.chosen.fusion == "rrf" or outcome.chosen.lexical_weight > 0.1


def test_parameters_that_are_already_best_are_kept() -> None:
    tuning, windows = lexical_knows_best(8)
    lexical_heavy = LanguageParams(lexical_weight=0.9, dense_weight=0.1)
    outcome = choose("en", tuning, [], windows, {query.id: "en" for query in tuning}, lexical_heavy)
    assert outcome.chosen == lexical_heavy


def test_written_parameters_load_back_and_keep_the_files_documentation(tmp_path: Path) -> None:
    params = SearchParams(languages={"ja": {"lexical_weight": 0.6, "dense_weight": 0.4, "window": 50}})
    write_params(params, tmp_path / "tuned.yaml", header_from=DEFAULT_PARAMS_FILE)
    assert load_search_params(tmp_path / "tuned.yaml") == params
    assert (tmp_path / "tuned.yaml").read_text().startswith(DEFAULT_PARAMS_FILE.read_text().splitlines()[0])
