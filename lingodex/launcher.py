"""Start and stop Celery worker processes for commands that run the whole job locally."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lingodex.settings import CONFIG_ENV_VAR, Settings
from lingodex.workers.celery_config import QUEUES


def worker_command(concurrency: int, name: str) -> list[str]:
    return [
        sys.executable, "-m", "celery", "-A", "lingodex.celery_worker", "worker",
        "--loglevel=INFO", f"--concurrency={concurrency}", "--pool=prefork",
        "--without-gossip", "--without-mingle", f"--hostname={name}@%h", f"--queues={','.join(QUEUES)}",
    ]


@contextmanager
def running_workers(settings: Settings, log_file: Path | None = None) -> Iterator[subprocess.Popen[bytes]]:
    """Real worker processes with exactly this process's settings, stopped on exit.

    The settings travel as a YAML file named by $LINGODEX_CONFIG so that the
    workers see the same values, overrides included.
    """
    settings.home.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", dir=settings.home, delete=False) as handle:
        config_path = Path(handle.name)
    env = environment_with(settings, config_path)
    log_path = log_file or settings.home / "worker.log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            worker_command(settings.worker.concurrency, f"lingodex-{uuid.uuid4().hex[:8]}"),
            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        yield process
    finally:
        _stop(process)
        config_path.unlink(missing_ok=True)


def environment_with(settings: Settings, config_path: Path) -> dict[str, str]:
    """This environment minus LINGODEX_* variables, plus $LINGODEX_CONFIG naming ``settings`` written as YAML.

    A child process then sees exactly these settings, overrides included. Secrets (the password, a URL with
    one in it) travel in the child's environment, never in the file, which may outlive a killed process.
    """
    config_path.write_text(settings.to_yaml())
    os.chmod(config_path, 0o600)
    env = {key: value for key, value in os.environ.items() if not key.startswith("LINGODEX_")}
    env[CONFIG_ENV_VAR] = str(config_path)
    cluster = settings.opensearch
    if cluster.password is not None:
        env["LINGODEX_OPENSEARCH__PASSWORD"] = cluster.password.get_secret_value()
    if cluster.masked_url != cluster.url:
        env["LINGODEX_OPENSEARCH__URL"] = cluster.url
    return env


def start_detached(argv: list[str], settings: Settings, config_path: Path, log_path: Path) -> int:
    """Run ``python -m lingodex.cli <argv>`` in its own session, outliving this process; returns its pid."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        process = subprocess.Popen([sys.executable, "-m", "lingodex.cli", *argv], env=environment_with(settings, config_path),
                                   stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    return process.pid


def _stop(process: subprocess.Popen[bytes], timeout_s: float = 30.0) -> None:
    """Warm shutdown (SIGTERM lets the batch in hand finish), then kill.

    SIGTERM goes to the worker's main process only: it stops its pool processes itself. Signalling the whole
    group killed the pool processes under it, and the main process then waited out the full timeout.
    """
    if process.poll() is not None:
        return
    os.kill(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
