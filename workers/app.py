"""The Celery application, and what its tasks need from the process that runs them.

The app object exists at import so tasks can register; ``configure`` gives it its Celery configuration
(workers/celery_config.py) and a WorkerContext: how to make this process's OpenSearch client and encoder,
and where the model cache is. The face builds both from Settings (lingodex/worker.py): this package never
reads the whole Settings. Commands that only send tasks use ``client_app``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from celery import Celery
from opensearchpy import OpenSearch

from lingodex.encoder import Encoder

app = Celery("lingodex", include=["lingodex.workers.tasks"])


@dataclass(frozen=True)
class WorkerContext:
    """Factories, not objects: each pool process makes its own client and encoder on first use (workers/tasks.py)."""

    opensearch: Callable[[], OpenSearch]
    encoder: Callable[[], Encoder]
    model_cache: Path  # where reference-sentence sums are cached per model (ingest/centring.py)


_context: WorkerContext | None = None


def configure(config: dict[str, Any], context: WorkerContext) -> Celery:
    global _context
    _context = context
    app.conf.update(config)
    return app


def client_app(config: dict[str, Any]) -> Celery:
    """A separate app for a process that only sends tasks (by name) and reads results.

    Keeps the sender free of the workers' imports (encoder, ingest) and lets one
    process talk to two brokers, as the tests do.
    """
    sender = Celery("lingodex-client")
    sender.conf.update(config)
    return sender


def context() -> WorkerContext:
    if _context is None:
        raise RuntimeError("workers.app.configure(config, context) was not called in this process")
    return _context
