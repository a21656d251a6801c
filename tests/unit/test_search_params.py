"""Per-language search parameters: defaults, overrides, and values refused before any query runs."""

import pytest
import yaml
from pydantic import ValidationError

from lingodex.search_templates.search_params import DEFAULT_PARAMS_FILE, SearchParams, load_search_params


def test_the_shipped_file_loads_and_gives_every_language_the_defaults() -> None:
    params = load_search_params()
    assert params.for_language("xx") == params.default


def test_a_language_override_changes_only_what_it_names() -> None:
    params = SearchParams.model_validate({"languages": {"ja": {"lexical_weight": 0.6, "dense_weight": 0.4,
                                                               "boosts": {"exact": 5}}}})
    ja = params.for_language("ja")
    assert (ja.lexical_weight, ja.boosts.exact, ja.boosts.title) == (0.6, 5, params.default.boosts.title)
    assert params.for_language("en").lexical_weight == params.default.lexical_weight


@pytest.mark.parametrize("override", [
    {"lexical_weight": 0.9},                       # weights must sum to 1
    {"normalization": "softmax"},
    {"window": 200},                               # k (100) below the window
    {"lexical_wieght": 0.5, "dense_weight": 0.5},  # a typo is not silently ignored
])
def test_an_invalid_language_override_is_refused_when_the_file_loads(override: dict) -> None:
    with pytest.raises(ValidationError):
        SearchParams.model_validate({"languages": {"de": override}})


def test_the_shipped_file_documents_every_default_parameter() -> None:
    text = DEFAULT_PARAMS_FILE.read_text()
    for name in yaml.safe_load(text)["default"]:
        assert f"{name}" in text.split("default:")[0], f"{name} is not explained in the file's header"
