"""The worker process: processes carrier events, runs the simulated network, sends messages.

One loop does the database work; a pool of threads waits on carriers, so a slow carrier never
holds up inbound processing. Stopping (SIGINT/SIGTERM) lets in-flight sends finish; a message a
killed worker had claimed is taken over by another worker when its lease runs out.
"""

from __future__ import annotations

import logging
import signal
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from types import FrameType

from django.conf import settings
from django.db import close_old_connections, connection

from twoway.carriers.registry import carrier_slugs, get_carrier
from twoway.messaging import dispatcher
from twoway.messaging.inbound import carrier_events_process_pending
from twoway.realtime.wakeup import WakeListener, _send_nudge

log = logging.getLogger("twoway.worker")


class Worker:
    def __init__(self, *, concurrency: int = 8, wake_port: int | None = None) -> None:
        self.concurrency = concurrency
        self.stopping = threading.Event()
        self.listener = WakeListener(wake_port)
        self.pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="send")
        self.in_flight: set[Future[None]] = set()
        self.simulated = "simulator" in settings.TWOWAY_CARRIERS

    def stop(self, signum: int | None = None, frame: FrameType | None = None) -> None:
        self.stopping.set()
        _send_nudge()

    def run(self) -> None:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        self._prepare_carriers()
        log.info("Worker started (%d send threads)", self.concurrency)
        try:
            while not self.stopping.is_set():
                busy = self.run_once()
                if not busy:
                    self.listener.wait(self._idle_timeout())
        finally:
            log.info("Worker stopping: waiting for %d sends in flight", len(self.in_flight))
            self.pool.shutdown(wait=True)
            self.listener.close()
            connection.close()

    def _prepare_carriers(self) -> None:
        """Build every adapter now: a first send that imported its carrier's libraries would
        leave late, and the on-time send after it would reach the carrier over the number's
        rate limit."""
        for slug in carrier_slugs():
            try:
                get_carrier(slug)
            except Exception:  # a broken adapter fails its own sends, not the whole worker
                log.exception("Carrier %s could not be set up", slug)

    def run_once(self) -> bool:
        """One pass over all kinds of work; True when there may be more to do at once."""
        close_old_connections()
        busy = carrier_events_process_pending(limit=200) > 0
        if self.simulated:
            from twoway.carriers.simulator.network import network_report_due

            busy |= network_report_due() > 0
        self.in_flight = {f for f in self.in_flight if not f.done()}
        free = self.concurrency * 2 - len(self.in_flight)
        if free > 0:
            for claim in dispatcher.claim_due(limit=free):
                future = self.pool.submit(self._send, claim)
                self.in_flight.add(future)
                busy = True
        return busy

    def _send(self, claim: dispatcher.ClaimedSend) -> None:
        try:
            dispatcher.send_claimed(claim)
        finally:
            connection.close()
            _send_nudge()  # a finished send frees a slot: let the loop claim the next one

    def _idle_timeout(self) -> float:
        timeout = settings.WORKER_POLL_SECONDS
        waits = [dispatcher.next_due_in()]
        if self.simulated:
            from twoway.carriers.simulator.network import network_next_report_in

            waits.append(network_next_report_in())
        for wait in waits:
            if wait is not None:
                # A floor keeps a sender that is busy (rate-limited) from spinning the loop.
                timeout = min(timeout, max(wait, 0.05))
        return timeout
