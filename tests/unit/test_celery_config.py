"""Celery settings derived from the broker settings."""

from pathlib import Path

from lingodex.settings import load_settings
from lingodex.workers.celery_config import celery_config
from lingodex.workers.config import BrokerSettings


def test_tasks_are_json_only_and_acknowledged_late(tmp_path: Path) -> None:
    config = celery_config(BrokerSettings(), tmp_path)
    assert config["task_serializer"] == "json"
    assert config["accept_content"] == ["json"]
    assert config["task_acks_late"] is True
    assert config["task_reject_on_worker_lost"] is True
    assert config["worker_prefetch_multiplier"] == 1


def test_embedded_broker_uses_the_filesystem_transport_under_home(tmp_path: Path) -> None:
    config = celery_config(BrokerSettings(), tmp_path)
    assert config["broker_url"] == "filesystem://"
    queue = Path(config["broker_transport_options"]["data_folder_in"])
    assert queue.is_dir() and tmp_path in queue.parents
    assert config["result_backend"] == f"lingodex.workers.embedded_transport:ResultBackend+file://{tmp_path}/broker/results"


def test_redis_broker_is_also_the_result_backend_unless_told_otherwise(tmp_path: Path) -> None:
    settings = load_settings(home=tmp_path, broker={"url": "redis://localhost:6379/2"})
    config = celery_config(settings.broker, settings.home)
    assert config["broker_url"] == config["result_backend"] == "redis://localhost:6379/2"
