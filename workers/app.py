"""The Celery application, configured from lingodex settings.

The app object exists at import so tasks can register; `configure` applies the
process's one Settings object. Worker processes get theirs in workers.worker,
the module `celery -A` points at; commands that send tasks call `configure`
with the settings they loaded.
"""

from __future__ import annotations

from celery import Celery

from lingodex.settings import Settings
from workers.celery_config import celery_config

app = Celery("lingodex", include=["workers.tasks"])
_settings: Settings | None = None


def configure(settings: Settings) -> Celery:
    global _settings
    _settings = settings
    app.conf.update(celery_config(settings))
    return app


def client_app(settings: Settings) -> Celery:
    """A separate app for a process that only sends tasks (by name) and reads results.

    Keeps the sender free of the workers' imports (encoder, ingest) and lets one
    process talk to two brokers, as the tests do.
    """
    sender = Celery("lingodex-client")
    sender.conf.update(celery_config(settings))
    return sender


def current_settings() -> Settings:
    if _settings is None:
        raise RuntimeError("workers.app.configure(settings) was not called in this process")
    return _settings
