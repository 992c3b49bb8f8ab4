"""Wakes the worker at once when there is new work, so nothing waits for its next poll.

A UDP datagram to 127.0.0.1 is enough on one machine; the worker also polls every
WORKER_POLL_SECONDS, so a lost datagram (or a worker on another machine) only delays work by that.
"""

from __future__ import annotations

import contextlib
import functools
import select
import socket

from django.conf import settings
from django.db import transaction

_sender: socket.socket | None = None

# What a nudge says is new: texts to send, or carrier events to process. The worker looks for
# events only when told (or every so often), not on each of its passes.
_SENDS = b"w"
_EVENTS = b"e"


def wake_worker(*, events: bool = False) -> None:
    """Nudge the worker after the current transaction commits (at once outside one): there are
    texts to send, or with `events` carrier events to process."""
    transaction.on_commit(functools.partial(_send_nudge, _EVENTS if events else _SENDS))


def _send_nudge(what: bytes) -> None:
    global _sender
    if _sender is None:
        _sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        _sender.setblocking(False)
    # Nobody listening, or a full buffer: the worker's poll picks the work up anyway.
    with contextlib.suppress(OSError):
        _sender.sendto(what, ("127.0.0.1", settings.WORKER_WAKE_PORT))


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
        # Wake-ups from inside the process (a send finished, a stop signal): the kernel hands a
        # datagram to the port to any of the processes sharing it, so it may wake another one.
        self._own, self._own_sender = socket.socketpair()
        for end in (self._own, self._own_sender):
            end.setblocking(False)
        # A nudge about carrier events came since `take_events_nudge` last looked.
        self._events_nudged = False

    def wake(self) -> None:
        """Wake this listener's own wait() (thread- and signal-handler-safe)."""
        with contextlib.suppress(OSError):  # full buffer: a wake-up is pending anyway
            self._own_sender.send(b"w")

    def wait(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.sock, self._own], [], [], max(timeout, 0))
        woken = bool(ready)
        # Drain every queued nudge: one pass of the loop serves them all.
        for sock in (self.sock, self._own):
            while True:
                try:
                    what = sock.recv(256)
                except (BlockingIOError, InterruptedError):
                    break
                self._events_nudged |= what == _EVENTS
        return woken

    def take_events_nudge(self) -> bool:
        """Whether carrier events were announced since the last call, reading the nudges that
        arrived meanwhile (a busy loop waits for none)."""
        self.wait(0)
        nudged, self._events_nudged = self._events_nudged, False
        return nudged

    def close(self) -> None:
        self.sock.close()
        self._own.close()
        self._own_sender.close()
