"""One bootstrap for worker processes, whichever way they start.

`lingodex worker` (containers, systemd) and the local launcher's `celery -A lingodex.celery_worker worker`
(lingodex/launcher.py) both come through ``bootstrap``: the log format (text or JSON), Prometheus metrics,
the Celery configuration, and the context from which each pool process makes its own OpenSearch client and
encoder. Before, only the launcher's path configured JSON logs.
"""

from __future__ import annotations

import os
from functools import partial

from celery import Celery

from lingodex.encoder import load_encoder
from lingodex.connection import opensearch_client
from lingodex.settings import Settings
from lingodex.workers import logs, metrics
from lingodex.workers.app import WorkerContext, configure
from lingodex.workers.celery_config import celery_config


def bootstrap(settings: Settings) -> Celery:
    """The configured Celery app for a worker process of ``settings``."""
    logs.configure(settings.logs)
    metrics.prepare(settings.worker, settings.broker, settings.home, f"worker-{os.getpid()}")
    context = WorkerContext(opensearch=partial(opensearch_client, settings.opensearch),
                            encoder=partial(load_encoder, settings.encoder),
                            model_cache=settings.encoder.cache_dir or settings.home / "models")
    return configure(celery_config(settings.broker, settings.home), context)
