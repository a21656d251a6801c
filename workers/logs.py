"""Worker log lines as JSON objects that say which load, batch and task wrote them.

Celery installs its own handlers when a worker starts; with ``logs.format:
json`` the signals below give those handlers python-json-logger's formatter.
The job id and batch number travel as message headers (ingest/job.py sets
them; ingest/messages.py names them), so a line logged deep inside a task can still be traced to its load.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import current_task, signals
from celery.app.task import Context

from lingodex.ingest.messages import BATCH_HEADER, JOB_HEADER
from lingodex.workers.config import LogSettings


class TaskContext(logging.Filter):
    """Adds job_id, batch, task_id and task to records logged while a task runs."""

    def filter(self, record: logging.LogRecord) -> bool:
        task = current_task
        request = getattr(task, "request", None)
        if request is not None and request.id:
            record.task_id, record.task = request.id, task.name
            record.job_id, record.batch = header(request, JOB_HEADER), header(request, BATCH_HEADER)
        return True


def header(request: Context, name: str) -> Any:
    """Custom headers: on the request itself (Celery's protocol 2), or under request.headers."""
    return getattr(request, name, None) or (getattr(request, "headers", None) or {}).get(name)


def configure(settings: LogSettings) -> None:
    if settings.format != "json":
        return
    from pythonjsonlogger.json import JsonFormatter

    formatter = JsonFormatter("{asctime}{levelname}{name}{message}", style="{",
                              rename_fields={"asctime": "time", "levelname": "level", "name": "logger"})

    def _use_json(logger: logging.Logger, **_: object) -> None:
        for handler in logger.handlers:
            handler.setFormatter(formatter)
            handler.addFilter(TaskContext())

    signals.after_setup_logger.connect(_use_json, weak=False)
    signals.after_setup_task_logger.connect(_use_json, weak=False)
