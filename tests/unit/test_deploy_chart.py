"""The Helm chart: lint-clean, valid Kubernetes, and its workers start with settings lingodex reads, as lingodex defaults them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from lingodex.settings import Settings
from tests.deploy_manifests import (
    CHART, KUBERNETES_VERSION, PREFIX, container, helm, is_setting, of_kind, render_chart, setting_path, typed, value_at,
)
from lingodex.workers.celery_config import QUEUES

# What the chart sets on purpose to something other than lingodex's default, and why.
CHART_CHOICES = {
    ("opensearch", "url"): "a cluster in Kubernetes, not 127.0.0.1",
    ("worker", "metrics_port"): "Prometheus scrapes the pods",
    ("encoder", "provider"): "GPU workers run CUDA",
    ("encoder", "precision"): "GPU workers run fp16",
    ("logs", "format"): "pods log JSON for the cluster's log pipeline",
    ("serve", "host"): "the API pod listens on its pod address, not loopback",
}
EVERYTHING_ON = {"tls": {"caSecret": "opensearch-ca"}, "modelCache": {"mode": "pvc"},
                 "metrics": {"serviceMonitor": True},
                 "jobs": [{"name": "nightly-load", "args": ["ingest", "/catalog/products.jsonl", "--index", "products"],
                           "volumes": [{"name": "catalog", "configMap": {"name": "catalog"}}],
                           "volumeMounts": [{"name": "catalog", "mountPath": "/catalog"}]}]}


@pytest.fixture(scope="module")
def manifests() -> list[dict[str, Any]]:
    return render_chart()


def workers(manifests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [doc for doc in of_kind(manifests, "Deployment")
            if doc["metadata"]["labels"]["app.kubernetes.io/component"].startswith("worker-")]


def serve_deployment(manifests: list[dict[str, Any]]) -> dict[str, Any]:
    (serve,) = [doc for doc in of_kind(manifests, "Deployment")
                if doc["metadata"]["labels"]["app.kubernetes.io/component"] == "serve"]
    return serve


def rendered_settings(manifest: dict[str, Any]) -> dict[str, str]:
    """The LINGODEX_* variables a pod gets as plain values (secrets come by reference)."""
    return {env["name"]: env["value"] for env in container(manifest)["env"] if "value" in env}


def test_the_chart_is_lint_clean() -> None:
    done = helm("lint", "--strict", str(CHART))
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_rendered_kubernetes_object_matches_the_kubernetes_schema(tmp_path: Path) -> None:
    docs = render_chart(EVERYTHING_ON, tmp_path)
    builtin = [doc for doc in docs if doc["apiVersion"].split("/")[0] in ("v1", "apps", "batch", "policy")]
    assert {doc["kind"] for doc in builtin} == {"Deployment", "Service", "PodDisruptionBudget", "Job",
                                                "PersistentVolumeClaim"}
    for doc in builtin:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)  # raises with the offending path


def test_every_setting_the_workers_get_is_a_lingodex_setting(manifests: list[dict[str, Any]]) -> None:
    for deployment in of_kind(manifests, "Deployment"):
        names = [env["name"] for env in container(deployment)["env"]]
        assert names and all(name.startswith(PREFIX) for name in names)
        unknown = [name for name in names if not is_setting(setting_path(name))]
        assert not unknown, f"{deployment['metadata']['name']}: lingodex has no setting for {unknown}"


def test_a_worker_started_with_the_charts_environment_loads_exactly_those_values(
        manifests: list[dict[str, Any]], tmp_path: Path) -> None:
    """`lingodex config show` goes through the same load_settings() as `lingodex worker`."""
    for deployment in of_kind(manifests, "Deployment"):
        values = rendered_settings(deployment)
        env = {key: value for key, value in os.environ.items() if not key.startswith(PREFIX)}
        shown = subprocess.run([sys.executable, "-m", "lingodex.cli", "config", "show"], cwd=tmp_path,
                               env={**env, **values, "LINGODEX_HOME": str(tmp_path)},
                               capture_output=True, text=True, check=True)
        loaded = Settings.model_validate(yaml.safe_load(shown.stdout))
        for name, value in values.items():
            assert value_at(loaded, setting_path(name)) == typed(setting_path(name), value), name


def test_the_charts_settings_are_lingodex_defaults_except_its_stated_choices(manifests: list[dict[str, Any]]) -> None:
    defaults = Settings()
    for deployment in of_kind(manifests, "Deployment"):
        for name, value in rendered_settings(deployment).items():
            path = setting_path(name)
            if path not in CHART_CHOICES:
                assert typed(path, value) == value_at(defaults, path), f"{name}: the chart sets {value}, lingodex's default differs"


def test_credentials_reach_the_pods_only_from_secrets(manifests: list[dict[str, Any]]) -> None:
    for deployment in of_kind(manifests, "Deployment"):
        env = {item["name"]: item for item in container(deployment)["env"]}
        for name in ("LINGODEX_OPENSEARCH__USERNAME", "LINGODEX_OPENSEARCH__PASSWORD", "LINGODEX_BROKER__URL"):
            assert "value" not in env[name] and "secretKeyRef" in env[name]["valueFrom"], name
    assert "password" not in (CHART / "values.yaml").read_text().split("# Secrets")[0]


def test_the_workers_consume_every_queue_lingodex_routes_tasks_to(manifests: list[dict[str, Any]]) -> None:
    consumed = set()
    for deployment in workers(manifests):
        args = container(deployment)["args"]
        consumed |= set(args[args.index("--queues") + 1].split(","))
    assert consumed == set(QUEUES)


def test_keda_scales_each_worker_deployment_on_the_queues_it_consumes(manifests: list[dict[str, Any]]) -> None:
    deployments = {doc["metadata"]["name"]: doc for doc in workers(manifests)}
    scaled = [doc for doc in of_kind(manifests, "ScaledObject") if doc["spec"]["triggers"][0]["type"] == "redis"]
    assert {doc["spec"]["scaleTargetRef"]["name"] for doc in scaled} == set(deployments)
    for doc in scaled:
        args = container(deployments[doc["spec"]["scaleTargetRef"]["name"]])["args"]
        assert {trigger["metadata"]["listName"] for trigger in doc["spec"]["triggers"]} == \
            set(args[args.index("--queues") + 1].split(","))
        assert "replicas" not in deployments[doc["spec"]["scaleTargetRef"]["name"]]["spec"], "KEDA owns replicas"


def test_gpu_workers_ask_for_a_gpu_and_land_on_gpu_nodes(manifests: list[dict[str, Any]]) -> None:
    (embed,) = [doc for doc in of_kind(manifests, "Deployment") if doc["metadata"]["name"].endswith("-embed")]
    assert container(embed)["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert embed["spec"]["template"]["spec"]["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
    assert container(embed)["image"].endswith("-cuda")


def test_a_stopping_pod_has_time_to_finish_the_batch_in_hand(manifests: list[dict[str, Any]]) -> None:
    for deployment in workers(manifests):
        timeout = float(rendered_settings(deployment)["LINGODEX_WORKER__TASK_TIMEOUT_S"])
        assert deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] > timeout


def test_each_deployment_has_a_disruption_budget(manifests: list[dict[str, Any]]) -> None:
    deployments = of_kind(manifests, "Deployment")
    budgets = of_kind(manifests, "PodDisruptionBudget")
    assert [doc["spec"]["selector"] for doc in budgets] == [doc["spec"]["selector"] for doc in deployments]


def test_a_ca_bundle_is_mounted_where_the_setting_points(tmp_path: Path) -> None:
    for deployment in of_kind(render_chart(EVERYTHING_ON, tmp_path), "Deployment"):
        worker = container(deployment)
        path = rendered_settings(deployment)["LINGODEX_OPENSEARCH__CA_CERTS"]
        (mount,) = [mount for mount in worker["volumeMounts"] if mount["name"] == "opensearch-ca"]
        assert path.startswith(mount["mountPath"] + "/")


def test_the_api_is_ready_only_when_it_can_answer_and_live_while_the_cluster_is_away(
        manifests: list[dict[str, Any]]) -> None:
    serve = container(serve_deployment(manifests))
    assert serve["args"] == ["serve"]
    assert serve["readinessProbe"]["httpGet"] == {"path": "/health", "port": "http"}
    assert serve["livenessProbe"]["httpGet"] == {"path": "/health/live", "port": "http"}
    port = int(rendered_settings(serve_deployment(manifests))["LINGODEX_SERVE__PORT"])
    assert serve["ports"] == [{"name": "http", "containerPort": port}]


def test_the_api_scales_on_its_request_rate_and_leaves_replicas_to_keda(manifests: list[dict[str, Any]]) -> None:
    deployment = serve_deployment(manifests)
    (scaled,) = [doc for doc in of_kind(manifests, "ScaledObject")
                 if doc["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]]
    (trigger,) = scaled["spec"]["triggers"]
    assert trigger["type"] == "prometheus"
    assert "rate(lingodex_http_request_seconds_count{" in trigger["metadata"]["query"]
    assert f'service="{deployment["metadata"]["name"]}"' in trigger["metadata"]["query"]
    assert "replicas" not in deployment["spec"]


def test_the_api_token_comes_only_from_a_secret(tmp_path: Path) -> None:
    serve = container(serve_deployment(render_chart({"serve": {"tokenSecret": "lingodex-api"}}, tmp_path)))
    (token,) = [env for env in serve["env"] if env["name"] == "LINGODEX_SERVE__TOKEN"]
    assert token["valueFrom"] == {"secretKeyRef": {"name": "lingodex-api", "key": "token"}}


def test_the_api_stops_within_its_grace_period(manifests: list[dict[str, Any]]) -> None:
    """uvicorn finishes the requests in flight for up to 30 s after SIGTERM (lingodex/cli.py, serve)."""
    assert serve_deployment(manifests)["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] > 30
