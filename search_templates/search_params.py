"""Per-language search parameters: one YAML file that tuning writes and people edit."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

DEFAULT_PARAMS_FILE = Path(__file__).parent / "search_params.yaml"


class Boosts(BaseModel):
    """Lexical field boosts. The defaults are measured on a mixed Indonesian/English catalog (README, "Lexical fields")."""

    model_config = ConfigDict(extra="forbid")

    title_all: float = Field(1.0, ge=0)        # every title, any language: ICU tokens, no stemming
    title_trigrams: float = Field(0.3, ge=0)   # the same titles' character trigrams: spelling variants, compounds
    description_all: float = Field(0.3, ge=0)
    title: float = Field(0.0, ge=0)            # the query language's own analysed fields
    description: float = Field(0.0, ge=0)
    exact: float = Field(0.2, ge=0)
    brand: float = Field(0.5, ge=0)
    other_languages: float = Field(0.0, ge=0)  # the fallback languages' titles
    translation: float = Field(1.0, ge=0)      # the query translated (translate_to): title_all and the target's title

    @model_validator(mode="after")
    def _some_title_is_searched(self) -> Boosts:
        if self.title_all <= 0 and self.title <= 0:
            raise ValueError("boosts.title_all or boosts.title must be above 0: otherwise no title is searched")
        return self


class LanguageParams(BaseModel):
    """What one language's queries run with; every field has a working default."""

    model_config = ConfigDict(extra="forbid")

    lexical_weight: float = Field(0.3, ge=0, le=1)
    dense_weight: float = Field(0.7, ge=0, le=1)
    normalization: Literal["min_max", "l2", "z_score"] = "min_max"
    combination: Literal["arithmetic_mean", "geometric_mean", "harmonic_mean"] = "arithmetic_mean"
    fusion: Literal["normalization", "rrf"] = "normalization"
    rank_constant: int = Field(60, ge=1)
    window: int = Field(100, ge=1, le=10_000)
    k: int = Field(100, ge=1, le=10_000)
    # how many of the query's character trigrams a title must share (minimum_should_match): "-70%" lets 70 % be
    # missing, so one or two shared trigrams of a short query ("sch" in "Laufschuhe") never match alone
    trigram_match: str = "-70%"
    # HNSW candidates explored per query (the k-NN query's method_parameters.ef_search; the Lucene engine explores
    # max(k, ef_search)); None: the engine's default. 200 keeps recall@100 >= 0.95 of exact search (BENCHMARKS.md)
    ef_search: int | None = Field(200, ge=1, le=10_000)
    # title fields searched besides the query language's, at boosts.other_languages: catalogs often carry English
    # titles, and "other" (ICU) holds languages without an analyser; each field multiplies the query's clauses
    fallback_languages: list[str] = ["en", "other"]  # searched only when boosts.other_languages > 0
    # languages the query is translated into (search_templates/translation.py), each an extra lexical clause at
    # boosts.translation; the dense side keeps the original query. Needs a translator for the pair
    translate_to: list[str] = []
    # each k-NN candidate's score minus this times the mean score of its own nearest documents (their isolation,
    # ingest/index/hubness.py): documents near everything stop crowding dense results. 0: off
    hubness_penalty: float = Field(0.25, ge=0, le=2)
    boosts: Boosts = Boosts()

    @model_validator(mode="after")
    def _weights_and_depth(self) -> LanguageParams:
        if abs(self.lexical_weight + self.dense_weight - 1.0) > 1e-6:
            raise ValueError(f"lexical_weight + dense_weight must be 1 (got {self.lexical_weight} + {self.dense_weight})")
        if self.k < self.window:
            raise ValueError(f"k ({self.k}) must be at least the fusion window ({self.window})")
        return self

    @property
    def weights(self) -> list[float]:
        """In the order of the hybrid query's sub-queries: [lexical, dense]."""
        return [self.lexical_weight, self.dense_weight]


class SearchParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    default: LanguageParams = LanguageParams()
    languages: dict[str, dict[str, Any]] = {}

    @model_validator(mode="after")
    def _overrides_are_valid(self) -> SearchParams:
        for lang in self.languages:
            self.for_language(lang)  # raises with the offending value
        return self

    def by_language(self) -> dict[str, LanguageParams]:
        """"default" and every language with its own entry, each with its merged parameters."""
        return {"default": self.default, **{lang: self.for_language(lang) for lang in self.languages}}

    def for_language(self, lang: str) -> LanguageParams:
        override = self.languages.get(lang, {})
        merged = {**self.default.model_dump(), **override}
        merged["boosts"] = {**self.default.boosts.model_dump(), **override.get("boosts", {})}
        return LanguageParams.model_validate(merged)


def load_search_params(path: Path | None = None) -> SearchParams:
    return SearchParams.model_validate(yaml.safe_load((path or DEFAULT_PARAMS_FILE).read_text(encoding="utf-8")) or {})

