"""The Grafana dashboard queries only series the workers export."""

import json
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DASHBOARD = REPO / "deploy" / "grafana" / "lingodex-workers.json"
SUFFIXES = {"Counter": ["_total"], "Histogram": ["_bucket", "_sum", "_count"], "GaugeMetricFamily": [""]}


def exported_series() -> set[str]:
    """Series names as Prometheus sees them, from the metric declarations in workers/metrics.py."""
    source = (REPO / "workers" / "metrics.py").read_text()
    return {name + suffix for kind, name in re.findall(r'\b(Counter|Histogram|GaugeMetricFamily)\(\s*"(\w+)"', source)
            for suffix in SUFFIXES[kind]}


def queried_series() -> set[str]:
    expressions = [target["expr"] for panel in json.loads(DASHBOARD.read_text())["panels"] for target in panel["targets"]]
    return {name for expr in expressions for name in re.findall(r"\b(lingodex_\w+)", expr)}


def test_the_declarations_are_found() -> None:
    assert {"lingodex_documents_total", "lingodex_batch_seconds_bucket", "lingodex_queue_depth"} <= exported_series()


def test_every_series_the_dashboard_queries_is_exported_by_the_workers() -> None:
    assert queried_series(), "the dashboard queries lingodex series"
    assert queried_series() <= exported_series(), queried_series() - exported_series()


def test_every_exported_metric_has_a_panel() -> None:
    families = {re.sub(r"_(total|bucket|sum|count)$", "", name) for name in exported_series()}
    shown = {re.sub(r"_(total|bucket|sum|count)$", "", name) for name in queried_series()}
    assert families <= shown, families - shown
