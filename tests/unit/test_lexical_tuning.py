"""Lexical boost tuning: one boost at a time, moved only where the queries clearly prefer another value."""

from lingodex.search_templates.relevance.evaluation import JudgedQuery, Report
from lingodex.search_templates.relevance.lexical_tuning import STEPS, _ascend
from lingodex.search_templates.search_params import Boosts, LanguageParams

TUNING = [JudgedQuery(f"t{i}", "text", "en", {"a": 1}) for i in range(10)]
HELD = [JudgedQuery(f"h{i}", "text", "en", {"a": 1}) for i in range(5)]


def scored_by(value) -> callable:  # noqa: ANN001
    """A score function whose every query scores value(boosts)."""
    def score(queries, params: LanguageParams) -> Report:  # noqa: ANN001
        ndcg = value(params.boosts)
        return Report({"ndcg@10": ndcg}, {}, {"all": len(queries)}, {q.id: {"ndcg@10": ndcg} for q in queries})
    return score


def test_each_boost_moves_to_the_value_the_queries_prefer() -> None:
    outcome = _ascend("en", LanguageParams(), TUNING, HELD, STEPS,
                      scored_by(lambda boosts: 0.5 - abs(boosts.title - 0.3) - abs(boosts.exact - 0.5)))
    assert (outcome.chosen.boosts.title, outcome.chosen.boosts.exact) == (0.3, 0.5)
    assert outcome.stage == "lexical" and outcome.held_out_after > outcome.held_out_before


def test_a_boost_the_queries_do_not_care_about_keeps_its_value() -> None:
    before = LanguageParams(boosts=Boosts(title=0.1, exact=0.7))
    outcome = _ascend("en", before, TUNING, HELD, STEPS, scored_by(lambda boosts: 0.5 - abs(boosts.title - 1.0)))
    assert outcome.chosen.boosts.exact == 0.7 and outcome.chosen.boosts.title == 1.0


def test_nothing_moves_when_every_value_scores_the_same() -> None:
    before = LanguageParams()
    assert _ascend("en", before, TUNING, HELD, STEPS, scored_by(lambda boosts: 0.5)).chosen == before


def test_every_stepped_boost_is_a_real_boost() -> None:
    assert set(STEPS) <= set(Boosts.model_fields)
