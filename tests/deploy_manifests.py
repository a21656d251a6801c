"""deploy/'s Helm chart and Compose file, rendered by the real tools (`make deploy-tools` builds them into .tools/)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel, TypeAdapter
from pydantic.fields import FieldInfo

from lingodex.settings import Settings

REPO = Path(__file__).resolve().parents[1]
CHART = REPO / "deploy" / "kubernetes" / "lingodex"
COMPOSE = REPO / "deploy" / "compose" / "compose.yaml"
TOOLS = REPO / ".tools"
PREFIX = "LINGODEX_"
KUBERNETES_VERSION = "1.30.0"  # rendered for and validated against; the chart asks for >= 1.27


def tool(path: Path) -> Path:
    if not path.exists():
        pytest.fail(f"{path.relative_to(REPO)} is missing: `make deploy-tools` builds it (make test does)")
    return path


def helm(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(tool(TOOLS / "bin" / "helm")), *args], capture_output=True, text=True, check=False)


def render_chart(values: dict[str, Any] | None = None, tmp_path: Path | None = None) -> list[dict[str, Any]]:
    """`helm template` with the chart's values, plus ``values`` (a file under ``tmp_path``)."""
    args = ["template", "t", str(CHART), "--kube-version", KUBERNETES_VERSION]
    if values:
        assert tmp_path is not None
        (tmp_path / "values.yaml").write_text(yaml.safe_dump(values))
        args += ["-f", str(tmp_path / "values.yaml")]
    done = helm(*args)
    assert done.returncode == 0, done.stderr
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


def compose(*args: str, file: Path = COMPOSE) -> subprocess.CompletedProcess[str]:
    """`docker compose` (the real client and plugin; no engine needed for `config`) with every profile on."""
    tool(TOOLS / "docker" / "cli-plugins" / "docker-compose")
    env = {**os.environ, "DOCKER_CONFIG": str(TOOLS / "docker")}
    return subprocess.run(["docker", "compose", "-f", str(file), "--profile", "gpu", "--profile", "cli", *args],
                          capture_output=True, text=True, env=env, check=False)


def compose_config() -> dict[str, Any]:
    done = compose("config", "--format", "json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def of_kind(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [doc for doc in docs if doc["kind"] == kind]


def container(deployment: dict[str, Any]) -> dict[str, Any]:
    (only,) = deployment["spec"]["template"]["spec"]["containers"]
    return only


def setting_path(env_name: str) -> tuple[str, ...]:
    """LINGODEX_INGEST__BATCH_SIZE -> ("ingest", "batch_size"), as pydantic-settings splits it."""
    assert env_name.startswith(PREFIX), env_name
    return tuple(part.lower() for part in env_name[len(PREFIX):].split("__"))


def setting_field(path: tuple[str, ...]) -> FieldInfo | None:
    """The settings field at ``path``, or None where lingodex has none (pydantic-settings ignores such env names)."""
    model: type[BaseModel] = Settings
    for name in path[:-1]:
        section = model.model_fields.get(name)
        if section is None or not (isinstance(section.annotation, type) and issubclass(section.annotation, BaseModel)):
            return None
        model = section.annotation
    return model.model_fields.get(path[-1])


def is_setting(path: tuple[str, ...]) -> bool:
    return setting_field(path) is not None


def value_at(settings: BaseModel, path: tuple[str, ...]) -> Any:
    value: Any = settings
    for name in path:
        value = getattr(value, name)
    return value


def typed(path: tuple[str, ...], text: str) -> Any:
    """An environment variable's text as the setting's type ("30" -> 30.0 for a float), as pydantic parses it."""
    field = setting_field(path)
    assert field is not None, path
    return TypeAdapter(field.annotation).validate_strings(text)
