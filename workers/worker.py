"""Entry point for worker processes: `celery -A workers.worker worker` (or `lingodex worker`)."""

import os

from lingodex.settings import load_settings
from workers import logs, metrics
from workers.app import app, configure

_settings = load_settings()
logs.configure(_settings.logs)
metrics.prepare(_settings, f"worker-{os.getpid()}")
configure(_settings)

__all__ = ["app"]
