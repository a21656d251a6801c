"""kombu's filesystem transport, with message files that appear whole or not at all.

kombu 5.7's filesystem ``Channel._put`` creates the message file in the queue
folder and then writes into it; a consumer polling that folder can move and
read the file while it is still empty, and the worker's consumer dies on the
JSONDecodeError (seen in CI: a worker process gone mid-load). Writing to a
temporary name and renaming it into place (atomic on one filesystem) closes
that window. ``_get`` only takes names ending in ``.<queue>.msg``, so it never
sees the temporary one.
"""

from __future__ import annotations

import os
import uuid
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):  # noqa: ANN001, ANN202 - kombu's signature
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
