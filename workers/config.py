"""Settings the workers package reads: the broker, worker processes, their log format.

lingodex.settings composes them into the whole Settings; the workers package never reads more than these.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

EMBEDDED_BROKER = "embedded"


class BrokerSettings(BaseModel):
    """Celery broker. ``embedded`` needs no server: kombu's filesystem transport."""

    model_config = ConfigDict(extra="forbid")  # a typo is an error with its path, never dropped

    url: str = EMBEDDED_BROKER
    result_backend: str | None = Field(None, description="defaults to the broker (Redis) or files (embedded)")
    embedded_dir: Path | None = Field(None, description="the embedded broker's folder; default <home>/broker (a load "
                                      "that starts its own workers uses a folder of its own under it)")

    @property
    def is_embedded(self) -> bool:
        return self.url == EMBEDDED_BROKER


class WorkerSettings(BaseModel):
    """Worker processes: how many per `lingodex worker`, their metrics port, a task's time limit."""

    model_config = ConfigDict(extra="forbid")  # a typo is an error with its path, never dropped

    concurrency: int = Field(1, ge=1, description="worker processes per `lingodex worker`")
    metrics_port: int | None = Field(None, ge=1, le=65535, description="serve Prometheus /metrics on this port")
    task_timeout_s: float = Field(600.0, gt=0)


class LogSettings(BaseModel):
    """Worker log lines: text for a terminal, json for a log pipeline (Loki, CloudWatch, OpenSearch)."""

    model_config = ConfigDict(extra="forbid")  # a typo is an error with its path, never dropped

    format: Literal["text", "json"] = Field("text", description="json: one object per line with the job id, batch "
                                            "number and task id of the task that logged it")
