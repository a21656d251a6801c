"""The embedded broker's files (kombu's filesystem transport, Celery's filesystem results) appear whole or not at all.

kombu 5.7's filesystem ``Channel._put`` creates the message file in the queue
folder and then writes into it; a consumer polling that folder can move and
read the file while it is still empty, and the worker's consumer dies on the
JSONDecodeError (seen in CI: a worker process gone mid-load). Writing to a
temporary name and renaming it into place (atomic on one filesystem) closes
that window. ``_get`` only takes names ending in ``.<queue>.msg``, so it never
sees the temporary one.

Celery's filesystem result backend has the same gap: ``set`` writes the
result file in place, and the submitting process, polling a chain's states,
read an embed result (1.5 MB of vectors) half written and failed the job
("Expecting ',' delimiter ... char 1572864", seen in a 100k-document load).
Results are written the same way: to a temporary name, then renamed.
"""

from __future__ import annotations

import os
import uuid
from typing import Any
from time import monotonic

from celery.backends.filesystem import FilesystemBackend
from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import ensure_bytes, str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue: str, payload: dict[str, Any], **kwargs: Any) -> None:  # type: ignore[override]  # kombu's own stubs disagree on the name
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"  # kombu's own naming and order
        final = os.path.join(self.data_folder_out, name)
        staging = f"{final}.writing"
        try:
            with open(staging, "wb") as handle:
                handle.write(str_to_bytes(dumps(payload)))
            os.replace(staging, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel


class ResultBackend(FilesystemBackend):
    def set(self, key: bytes, value: str | bytes) -> None:
        final = self._filename(key)
        staging = final + b".writing"
        with self.open(staging, "wb") as handle:
            handle.write(ensure_bytes(value))
        os.replace(staging, final)
