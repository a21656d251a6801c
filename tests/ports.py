"""A free TCP port for a server a test starts (serve, a worker's metrics endpoint)."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A port the kernel just handed out on 127.0.0.1: free now, and unlikely to be taken again before the server binds."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
