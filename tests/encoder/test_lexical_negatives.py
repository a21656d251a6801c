"""BM25 hard negatives: the listings of other products that keyword search ranks nearest the anchor."""

from __future__ import annotations

from lingodex.encoder.lexical_negatives import lexical_negatives

CORPUS = [("kettle-1", "steel kettle 1.7 l"), ("kettle-1", "steel kettle 1.7 l black"),
          ("kettle-2", "steel kettle 1.0 l"), ("kettle-2", "steel kettle one litre"),
          ("mug", "ceramic mug red"), ("mug", "red ceramic mug"), ("lamp", "desk lamp led"), ("lamp", "led desk lamp")]


def test_the_negative_shares_the_anchors_words_but_not_its_group() -> None:
    negatives, fallback = lexical_negatives([("steel kettle 1.7 l", "steel kettle 1.7 l black")], ["kettle-1"], CORPUS,
                                            margin=0.0)
    assert negatives == ["steel kettle 1.0 l"] and fallback == 0


def test_a_candidate_scoring_within_the_margin_of_the_positive_is_skipped() -> None:
    pair = [("steel kettle 1.7 l", "steel kettle 1.7 l black")]
    assert lexical_negatives(pair, ["kettle-1"], CORPUS, margin=0.0)[0] == ["steel kettle 1.0 l"]
    negatives, _ = lexical_negatives(pair, ["kettle-1"], CORPUS, margin=0.9)
    assert negatives != ["steel kettle 1.0 l"] and negatives[0] not in {"steel kettle 1.7 l", "steel kettle 1.7 l black"}


def test_an_anchor_sharing_no_word_with_another_group_gets_a_random_text_of_another_group() -> None:
    negatives, fallback = lexical_negatives([("ceramic mug red", "red ceramic mug")], ["mug"], CORPUS, margin=0.05)
    assert fallback == 1 and negatives[0] not in {"ceramic mug red", "red ceramic mug"}
