"""Language centroids: the arithmetic that ingest and queries share."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from lingodex.ingest.centring import (GLOBAL, Centroids, LanguageSums, estimate, read_reference_sentences,
                                      read_reference_translations)


def unit_rows(rows: np.ndarray) -> np.ndarray:
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def sums(vectors: dict[str, np.ndarray]) -> LanguageSums:
    found = LanguageSums()
    for lang, rows in vectors.items():
        found.add(lang, len(rows), rows.sum(axis=0), (rows * 0.5).sum(axis=0))
    return found


@pytest.fixture
def centroids() -> Centroids:
    rng = np.random.default_rng(3)
    catalog = sums({"en": unit_rows(rng.normal(size=(40, 8))), "de": unit_rows(rng.normal(size=(5, 8)))})
    reference = sums({"de": unit_rows(rng.normal(size=(20, 8))), "th": unit_rows(rng.normal(size=(20, 8)))})
    return estimate(catalog, reference, min_documents=30)


def test_a_language_with_enough_documents_uses_the_catalogs_mean(centroids: Centroids) -> None:
    assert centroids.of("en").source == "catalog"


def test_a_language_with_too_few_documents_uses_the_reference_mean(centroids: Centroids) -> None:
    assert (centroids.of("de").source, centroids.of("de").documents) == ("reference", 20)


def test_an_unknown_language_uses_the_mean_over_the_whole_sample(centroids: Centroids) -> None:
    assert centroids.of("xx") is centroids.languages[GLOBAL] and centroids.of(None).documents == 45


def test_a_regional_tag_uses_its_languages_centroid(centroids: Centroids) -> None:
    assert centroids.of("en-GB") is centroids.of("en")


def test_centred_passages_are_unit_vectors_and_restore_exactly(centroids: Centroids) -> None:
    raw = unit_rows(np.random.default_rng(5).normal(size=(3, 8))).astype(np.float32)
    centred, scales = centroids.centre_passages(raw, ["en", "th", "zz"])  # zz: the overall mean
    assert np.allclose(np.linalg.norm(centred, axis=1), 1.0)
    langs = ["en", "th", "zz"]
    restored = [centroids.restore(v, lang, scale) for v, lang, scale in zip(centred, langs, scales, strict=True)]
    assert np.allclose(restored, raw, atol=1e-6)


def test_queries_are_centred_with_the_query_prefix_means(centroids: Centroids) -> None:
    query = np.ones((1, 8), dtype=np.float32)
    expected = query[0] - centroids.of("en").query
    assert np.allclose(centroids.centre_queries(query, ["en"])[0], expected / np.linalg.norm(expected))


def test_centroids_survive_the_index_meta_round_trip_with_the_same_id(centroids: Centroids) -> None:
    again = Centroids.from_meta({"centring": centroids.to_meta()})
    assert again is not None and again.id == centroids.id and again.of("de").source == "reference"


def test_an_index_without_centring_in_its_meta_has_no_centroids() -> None:
    assert Centroids.from_meta({"encoder": {}}) is None


def test_language_sums_merge_like_one_sum() -> None:
    rows = unit_rows(np.random.default_rng(9).normal(size=(6, 4)))
    whole, first, second = sums({"en": rows}), sums({"en": rows[:2]}), sums({"en": rows[2:]})
    first.merge(second)
    assert first.counts == whole.counts and np.allclose(first.passage["en"], whole.passage["en"])
    assert LanguageSums.from_json(first.to_json()).counts == {"en": 6}


def test_the_shipped_reference_sentences_cover_twenty_languages() -> None:
    texts, langs = read_reference_sentences()
    assert len(set(langs)) == 20 and all(texts) and {"en", "th", "zh", "ar"} <= set(langs)


def test_reference_sentences_can_be_read_a_few_per_language() -> None:
    texts, langs = read_reference_sentences(per_language=2)
    everything = read_reference_sentences()
    assert Counter(langs) == {lang: 2 for lang in set(everything[1])}
    assert set(texts) <= set(everything[0])


def test_every_shipped_reference_sentence_but_the_english_ones_comes_with_its_english_translation() -> None:
    texts, langs = read_reference_sentences()
    pairs = read_reference_translations()
    assert len(pairs) == sum(lang != "en" for lang in langs) == 19 * 200
    assert [text for text, _ in pairs] == [text for text, lang in zip(texts, langs, strict=True) if lang != "en"]
    assert ("彼は手紙を書く。", "He writes a letter.") in pairs and all(english for _, english in pairs)


def test_reference_translations_can_be_taken_a_few_per_language() -> None:
    assert len(read_reference_translations(per_language=3)) == 19 * 3
    assert read_reference_translations(per_language=0) == []
