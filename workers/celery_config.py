"""Celery configuration derived from the broker settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lingodex.ingest.messages import EMBED_BATCH, EMBED_QUEUE, INDEX_BATCH, INDEX_QUEUE
from lingodex.workers.config import BrokerSettings


DEFAULT_QUEUE = "celery"
QUEUES = (DEFAULT_QUEUE, EMBED_QUEUE, INDEX_QUEUE)


def embedded_broker_dir(broker: BrokerSettings, home: Path) -> Path:
    return broker.embedded_dir or home / "broker"


def celery_config(broker: BrokerSettings, home: Path) -> dict[str, Any]:
    """JSON only (never pickle), late acks so a killed worker's batch is redelivered."""
    config: dict[str, Any] = {
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_track_started": True,
        "broker_connection_retry_on_startup": True,
        "result_expires": 24 * 3600,
        "task_default_queue": DEFAULT_QUEUE,
        "task_routes": {EMBED_BATCH: {"queue": EMBED_QUEUE}, INDEX_BATCH: {"queue": INDEX_QUEUE}},
    }
    if broker.is_embedded:
        config.update(_embedded_transport(embedded_broker_dir(broker, home)))
    else:
        config["broker_url"] = broker.url
        config["result_backend"] = broker.result_backend or broker.url
    return config


def _embedded_transport(root: Path) -> dict[str, Any]:
    """kombu's filesystem transport: one directory of message files, no server.

    Chosen over the SQLAlchemy transport because it needs no extra package and
    no database file locking across processes; messages survive restarts.
    It has no fanout exchange, so remote control (inspect/ping) is off.
    """
    queue, processed, results, control = (root / name for name in ("queue", "processed", "results", "control"))
    for folder in (queue, processed, results, control):
        folder.mkdir(parents=True, exist_ok=True)
    return {
        "broker_url": "filesystem://",
        "broker_transport": "lingodex.workers.embedded_transport:Transport",  # atomic message files
        "broker_transport_options": {
            "data_folder_in": str(queue),
            "data_folder_out": str(queue),
            "processed_folder": str(processed),
            "store_processed": False,
            "control_folder": str(control),  # kombu's default is ./control in the working directory
            # kombu polls the folder once a second by default: with late acks and prefetch 1 that
            # second was added to every task of a chain (measured: 2 s per batch of unchanged documents)
            "polling_interval": 0.05,
        },
        "result_backend": f"lingodex.workers.embedded_transport:ResultBackend+file://{results}",
        "worker_enable_remote_control": False,
    }
