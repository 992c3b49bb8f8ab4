"""Wakes the worker at once when there is new work, so nothing waits for its next poll.

A UDP datagram to 127.0.0.1 is enough on one machine; the worker also polls every
WORKER_POLL_SECONDS, so a lost datagram (or a worker on another machine) only delays work by that.
"""

from __future__ import annotations

import contextlib
import select
import socket

from django.conf import settings
from django.db import transaction

_sender: socket.socket | None = None


def wake_worker() -> None:
    """Nudge the worker after the current transaction commits (at once outside one)."""
    transaction.on_commit(_send_nudge)


def _send_nudge() -> None:
    global _sender
    if _sender is None:
        _sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        _sender.setblocking(False)
    # Nobody listening, or a full buffer: the worker's poll picks the work up anyway.
    with contextlib.suppress(OSError):
        _sender.sendto(b"w", ("127.0.0.1", settings.WORKER_WAKE_PORT))


class WakeListener:
    """The worker's end: wait() returns when nudged or after the timeout."""

    def __init__(self, port: int | None = None) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Several workers on one machine share the port; the kernel hands each nudge to one.
        if hasattr(socket, "SO_REUSEPORT"):
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        self.sock.bind(("127.0.0.1", settings.WORKER_WAKE_PORT if port is None else port))
        self.sock.setblocking(False)

    def wait(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.sock], [], [], max(timeout, 0))
        woken = bool(ready)
        # Drain every queued nudge: one pass of the loop serves them all.
        while True:
            try:
                self.sock.recv(16)
            except BlockingIOError:
                break
        return woken

    def close(self) -> None:
        self.sock.close()
