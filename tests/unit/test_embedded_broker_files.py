"""The embedded broker's message and result files are never visible half written."""

import builtins
from pathlib import Path

from celery import Celery

from lingodex.workers.embedded_transport import ResultBackend


def test_a_result_is_written_under_a_temporary_name_and_renamed_into_place(tmp_path: Path) -> None:
    final = tmp_path / "celery-task-meta-abc"
    seen_while_writing: list[bool] = []

    def watching_open(path, mode="r", *args, **kwargs):  # noqa: ANN001, ANN202
        handle = builtins.open(path, mode, *args, **kwargs)
        if "w" in mode and b"abc" in path:
            seen_while_writing.append(final.exists())  # opened for writing, nothing written yet
        return handle

    backend = ResultBackend(app=Celery(set_as_current=False), url=f"file://{tmp_path}", open=watching_open)
    backend.set(b"celery-task-meta-abc", '{"status": "SUCCESS"}')
    assert seen_while_writing == [False], "readers polling the folder must not find the file before it is complete"
    assert final.read_text() == '{"status": "SUCCESS"}'
    assert backend.get(b"celery-task-meta-abc") == b'{"status": "SUCCESS"}'
    assert sorted(path.name for path in tmp_path.iterdir()) == ["celery-task-meta-abc"]
