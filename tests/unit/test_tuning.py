"""Tuning: the grid, the stable split, and a choice that follows the evidence."""

from pathlib import Path

from lingodex.search_templates.relevance.evaluation import JudgedQuery
from lingodex.search_templates.fusion import Ranked
from lingodex.search_templates.search_params import DEFAULT_PARAMS_FILE, LanguageParams, SearchParams, load_search_params
from lingodex.search_templates.relevance.tuning import POOLED, RANK_CONSTANTS, WINDOWS, candidates, choose, split, tune_windows, write_params


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


def dense_knows_best(count: int, offset: int = 0) -> tuple[list[JudgedQuery], dict]:
    """The mirror image: the relevant product first by dense and last of ten lexically."""
    judged, windows = lexical_knows_best(count, offset)
    return judged, {qid: [Ranked([(doc, score / 10) for doc, score in dense.hits]), Ranked([(doc, score * 10) for doc, score in lexical.hits])]
                    for qid, (lexical, dense) in windows.items()}


def both_needed(count: int, offset: int = 0) -> tuple[list[JudgedQuery], dict]:
    """The relevant product second in both lists, behind a different wrong one in each: only a mix puts it first."""
    judged, windows = [], {}
    for i in range(offset, offset + count):
        right, others = f"right-{i}", [f"other-{i}-{j}" for j in range(8)]
        judged.append(JudgedQuery(f"q{i}", "text", "en", {right: 1}))
        windows[f"q{i}"] = [Ranked([(f"lexical-first-{i}", 10.0), (right, 9.0)] + [(doc, 1.0) for doc in others[:4]]),
                            Ranked([(f"dense-first-{i}", 0.9), (right, 0.89)] + [(doc, 0.5) for doc in others[4:]])]
    return judged, windows


def choice(judged: list[JudgedQuery], windows: dict, before: LanguageParams) -> LanguageParams:
    return choose("en", judged, [], windows, {query.id: "en" for query in judged}, before).chosen


def test_of_parameters_the_tuning_queries_cannot_tell_apart_the_one_leaning_least_on_the_weaker_sub_query_wins() -> None:
    judged, windows = lexical_knows_best(8)
    chosen = choice(judged, windows, LanguageParams(lexical_weight=0.9, dense_weight=0.1))
    assert chosen.fusion == "normalization" and chosen.dense_weight == 0.0


def test_current_parameters_that_tie_on_the_held_out_queries_are_kept() -> None:
    tuning, windows = lexical_knows_best(8)
    held, held_windows = lexical_knows_best(6, offset=100)
    current = LanguageParams(lexical_weight=0.9, dense_weight=0.1)  # as good as lexical-only on every query
    outcome = choose("en", tuning, held, {**windows, **held_windows}, {q.id: "en" for q in tuning + held}, current)
    assert outcome.chosen == current and outcome.held_out_after == outcome.held_out_before


def test_current_parameters_are_kept_when_nothing_plainer_is_as_good() -> None:
    judged, windows = lexical_knows_best(8)
    lexical_only = LanguageParams(lexical_weight=1.0, dense_weight=0.0, window=50)
    assert choice(judged, windows, lexical_only) == lexical_only


def test_a_lead_of_one_query_does_not_buy_the_weaker_sub_query_any_weight() -> None:
    plain, plain_windows = dense_knows_best(20)
    mixed, mixed_windows = both_needed(1, offset=100)
    outcome = choose("en", plain + mixed, [], {**plain_windows, **mixed_windows}, {q.id: "en" for q in plain + mixed},
                     LanguageParams())
    assert outcome.tuned_best > outcome.tuned_after
    assert outcome.chosen.fusion == "normalization" and outcome.chosen.lexical_weight == 0.0


def test_a_lead_of_many_queries_does() -> None:
    plain, plain_windows = dense_knows_best(20)
    mixed, mixed_windows = both_needed(8, offset=100)
    chosen = choice(plain + mixed, {**plain_windows, **mixed_windows}, LanguageParams())
    assert chosen.fusion == "rrf" or chosen.lexical_weight > 0.0


def test_written_parameters_load_back_and_keep_the_files_documentation(tmp_path: Path) -> None:
    params = SearchParams(languages={"ja": {"lexical_weight": 0.6, "dense_weight": 0.4, "window": 50}})
    write_params(params, tmp_path / "tuned.yaml", header_from=DEFAULT_PARAMS_FILE)
    assert load_search_params(tmp_path / "tuned.yaml") == params
    assert (tmp_path / "tuned.yaml").read_text().startswith(DEFAULT_PARAMS_FILE.read_text().splitlines()[0])


def test_a_choice_the_held_out_queries_do_not_confirm_leaves_the_current_parameters() -> None:
    tuning, windows = lexical_knows_best(12)
    held, held_windows = dense_knows_best(6, offset=100)  # the held-out queries disagree with the tuning ones
    languages = {query.id: "en" for query in tuning + held}
    dense_only = LanguageParams(lexical_weight=0.0, dense_weight=1.0)
    outcome = choose("en", tuning, held, {**windows, **held_windows}, languages, dense_only)
    assert outcome.chosen == dense_only and outcome.note


def test_no_candidate_has_a_window_below_the_floor_so_tuned_files_page_as_deep() -> None:
    assert {params.window for params in candidates(LanguageParams(), min_window=100)} == {w for w in WINDOWS if w >= 100}
    judged, windows = lexical_knows_best(8)
    chosen = choose("en", judged, [], windows, {q.id: "en" for q in judged}, LanguageParams(lexical_weight=0.0,
                    dense_weight=1.0), min_window=100).chosen
    assert chosen.window >= 100


def test_a_language_with_few_queries_follows_the_pooled_choice() -> None:
    many, many_windows = lexical_knows_best(60)
    few, few_windows = dense_knows_best(4, offset=1000)  # 4 queries that would pull "xx" to dense alone
    languages = {**{q.id: "en" for q in many}, **{q.id: "xx" for q in few}}
    start = SearchParams(default=LanguageParams(lexical_weight=0.0, dense_weight=1.0))
    tuned, outcomes = tune_windows(start, many + few, {**many_windows, **few_windows}, languages,
                                   held_out=0.0, min_queries=30, min_window=20)
    assert [outcome.lang for outcome in outcomes] == [POOLED, "en"]
    assert tuned.for_language("xx") == tuned.default != start.default
    assert tuned.default.fusion == "rrf" or tuned.default.lexical_weight > 0.5
