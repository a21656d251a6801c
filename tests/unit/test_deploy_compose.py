"""The Compose stack and the container images: valid for the real tools, and wired to settings lingodex reads."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.deploy_manifests import PREFIX, REPO, compose, compose_config, is_setting, setting_path

DOCKERFILES = sorted((REPO / "deploy" / "docker").glob("*.Dockerfile"))


@pytest.fixture(scope="module")
def stack() -> dict[str, Any]:
    return compose_config()


def lingodex_services(stack: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: service for name, service in stack["services"].items()
            if any(key.startswith(PREFIX) for key in service.get("environment", {}))}


@pytest.mark.parametrize("file", ["compose.yaml", "single-node.yaml"])
def test_docker_compose_accepts_the_file_with_every_profile(file: str) -> None:
    done = compose("config", "--quiet", file=REPO / "deploy" / "compose" / file)
    assert done.returncode == 0, done.stderr


def test_the_stack_is_a_three_node_opensearch_cluster_with_dashboards_redis_workers_and_flower(
        stack: dict[str, Any]) -> None:
    services = stack["services"]
    assert {"opensearch-1", "opensearch-2", "opensearch-3", "dashboards", "redis", "worker-cpu", "worker-gpu",
            "flower"} <= set(services)
    for node in ("opensearch-1", "opensearch-2", "opensearch-3"):
        environment = services[node]["environment"]
        assert environment["discovery.seed_hosts"] == "opensearch-1,opensearch-2,opensearch-3"
        assert environment["node.name"] == node


def test_every_long_running_service_has_a_health_check_and_named_volumes_hold_the_data(stack: dict[str, Any]) -> None:
    for name in ("opensearch-1", "opensearch-2", "opensearch-3", "dashboards", "redis", "worker-cpu"):
        assert "healthcheck" in stack["services"][name], name
    for name in ("opensearch-1", "redis", "worker-cpu"):
        assert all(volume["type"] == "volume" for volume in stack["services"][name]["volumes"]), name


def test_the_gpu_worker_reserves_a_gpu_and_only_with_the_gpu_profile(stack: dict[str, Any]) -> None:
    gpu = stack["services"]["worker-gpu"]
    assert gpu["profiles"] == ["gpu"]
    (device,) = gpu["deploy"]["resources"]["reservations"]["devices"]
    assert device["capabilities"] == ["gpu"] and device["driver"] == "nvidia"


def test_every_setting_the_containers_get_is_a_lingodex_setting(stack: dict[str, Any]) -> None:
    for name, service in lingodex_services(stack).items():
        unknown = [key for key in service["environment"] if key.startswith(PREFIX) and not is_setting(setting_path(key))]
        assert not unknown, f"{name}: lingodex has no setting for {unknown}"


def test_the_workers_stop_gracefully_for_longer_than_a_batch_may_take(stack: dict[str, Any]) -> None:
    from lingodex.settings import WorkerSettings

    for name, service in lingodex_services(stack).items():
        if service["command"][0] == "worker":
            assert _seconds(service["stop_grace_period"]) > WorkerSettings().task_timeout_s, name


def test_the_api_answers_on_all_interfaces_is_health_checked_and_stops_after_its_requests(
        stack: dict[str, Any]) -> None:
    serve = stack["services"]["serve"]
    assert serve["command"] == ["serve"] and serve["environment"]["LINGODEX_SERVE__HOST"] == "0.0.0.0"
    assert "/health" in " ".join(serve["healthcheck"]["test"])
    assert _seconds(serve["stop_grace_period"]) > 30, "uvicorn finishes requests in flight for up to 30 s"


def _seconds(duration: str) -> float:
    """A Go duration as compose prints it: 11m0s, 1h2m3.5s."""
    units = {"s": 1, "m": 60, "h": 3600}
    return sum(float(amount) * units[unit] for amount, unit in re.findall(r"([\d.]+)([hms])", duration))


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=[path.name for path in DOCKERFILES])
def test_the_dockerfile_passes_hadolint(dockerfile: Path) -> None:
    done = subprocess.run([str(Path(sys.executable).parent / "hadolint"), str(dockerfile)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("dockerfile", ["worker.Dockerfile", "worker-gpu.Dockerfile"])
def test_the_worker_images_run_as_a_non_root_user(dockerfile: str) -> None:
    lines = (REPO / "deploy" / "docker" / dockerfile).read_text().splitlines()
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and all(user not in ("root", "0") for user in users)
