"""The worker process: processes carrier events, runs the simulated network, sends messages.

One loop does the database work and keeps the clock: claimed messages wait in a heap for their
booked slot and are handed to a pool of threads, which only talk to carriers, so a slow carrier
never holds up inbound processing and a busy pool never makes a send late and then bunched up.
The threads hand what the carrier said back to the loop, which records a whole batch of results
in one transaction. Stopping (SIGINT/SIGTERM) lets in-flight sends finish and records them; a
message a killed worker had claimed is taken over by another worker when its lease runs out.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import signal
import threading
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from types import FrameType

from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone

from twoway.carriers.registry import carrier_slugs, get_carrier
from twoway.messaging import dispatcher
from twoway.messaging.housekeeping import Housekeeping
from twoway.messaging.inbound import carrier_events_process_pending
from twoway.realtime.wakeup import WakeListener, _send_nudge

log = logging.getLogger("twoway.worker")

# Claimed sends a worker holds beyond those ready to go: they wait for slots its senders' limits
# booked within the claim lookahead, so the limits bound them; this only bounds memory.
MAX_CLAIMED_AHEAD = 1000
# Send results recorded in one transaction at most.
RECORD_BATCH = 500
# How often a claim also looks for messages whose lease ran out (a dead worker's): leases last
# tens of seconds, and the extra query on every claim cost a busy worker ~10% of its loop.
LOST_LEASE_CHECK_SECONDS = 1.0


class Worker:
    def __init__(self, *, concurrency: int = 8, wake_port: int | None = None) -> None:
        self.concurrency = concurrency
        self.stopping = threading.Event()
        self.listener = WakeListener(wake_port)
        self.pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="send")
        self.in_flight: set[Future[None]] = set()
        # What carriers said, waiting to be recorded by the loop (appended by send threads).
        self.outcomes: deque[dispatcher.SendOutcome] = deque()
        # Claimed sends waiting for their slot: (monotonic time due, tie-breaker, claim).
        self.scheduled: list[tuple[float, int, dispatcher.ClaimedSend]] = []
        self._order = itertools.count()
        self.next_lost_lease_check = 0.0
        # When each sender number may next hand a message to a carrier in this process: when
        # its last send really left plus that send's own gap (a 2-segment text takes two slots),
        # so sends leave at least their spacing apart even when some left late.
        self.next_free: dict[str, float] = {}
        self.simulated = "simulator" in settings.TWOWAY_CARRIERS
        self.housekeeping = Housekeeping()

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
            # Claimed but not yet sent: their leases run out and another worker sends them.
            log.info(
                "Worker stopping: waiting for %d sends in flight, leaving %d unsent",
                len(self.in_flight),
                len(self.scheduled),
            )
            self.pool.shutdown(wait=True)
            self._record_all_outcomes()
            self.listener.close()
            connection.close()

    def _prepare_carriers(self) -> None:
        """Build every adapter now: a first send that imported its carrier's libraries would
        leave late, and the on-time send after it would reach the carrier over the number's
        rate limit."""
        for slug in carrier_slugs():
            try:
                carrier = get_carrier(slug)
            except Exception:  # a broken adapter fails its own sends, not the whole worker
                log.exception("Carrier %s could not be set up", slug)
                continue
            # A lease shorter than a send can take hands a message in flight to another worker,
            # which sends it again: a duplicate with carriers that ignore idempotency keys.
            timeout = float(getattr(carrier, "timeout", 0) or 0)
            if timeout + 2 * dispatcher.CLAIM_LOOKAHEAD.seconds > settings.SEND_LEASE_SECONDS:
                log.warning(
                    "SEND_LEASE_SECONDS (%s) is shorter than %s's timeout (%s s) plus slot waits:"
                    " slow sends may be sent twice. Raise it.",
                    settings.SEND_LEASE_SECONDS,
                    slug,
                    timeout,
                )

    def run_once(self) -> bool:
        """One pass over all kinds of work; True when there may be more to do at once."""
        # Sends whose slot has come leave before any database work, which could make them late
        # and so bunch them up with another worker's on-time sends from the same number.
        self.in_flight = {f for f in self.in_flight if not f.done()}
        self._start_due_sends()
        close_old_connections()
        self._record_outcomes()
        busy = carrier_events_process_pending(limit=200) > 0
        self.housekeeping.run_if_due()
        if self.simulated:
            from twoway.carriers.simulator.network import network_report_due

            busy |= network_report_due() > 0
        self.in_flight = {f for f in self.in_flight if not f.done()}
        busy |= self._claim()
        self._start_due_sends()
        return busy or bool(self.outcomes)

    def _claim(self) -> bool:
        """Claim what the send threads can take on now, plus what the senders' limits allow
        ahead: True when something was claimed.

        Sends ready to go (in flight, or due and waiting for a thread) are capped at twice the
        threads, so a slow carrier never sits on claims another worker could send. Sends booked
        for later slots are not counted: the claim lookahead and the senders' limits already
        bound them, and counting them would let a few numbers' bookings starve the others.
        """
        now = time.monotonic()
        ready = len(self.in_flight) + sum(1 for due, _, _ in self.scheduled if due <= now)
        free = min(2 * self.concurrency - ready, MAX_CLAIMED_AHEAD - len(self.scheduled))
        if free <= 0:
            return False
        lost_leases = now >= self.next_lost_lease_check
        if lost_leases:
            self.next_lost_lease_check = now + LOST_LEASE_CHECK_SECONDS
        claims = dispatcher.claim_due(limit=free, lost_leases=lost_leases)
        for claim in claims:
            due = time.monotonic() + (claim.send_at - timezone.now()).total_seconds()
            heapq.heappush(self.scheduled, (due, next(self._order), claim))
        return bool(claims)

    def _record_outcomes(self) -> None:
        """Record what carriers said to the sends that finished, one transaction for all."""
        batch: list[dispatcher.SendOutcome] = []
        while self.outcomes and len(batch) < RECORD_BATCH:
            batch.append(self.outcomes.popleft())
        if not batch:
            return
        try:
            dispatcher.record_outcomes(batch)
        except BaseException:
            self.outcomes.extendleft(reversed(batch))  # kept for the next try, or for stop
            raise

    def _record_all_outcomes(self) -> None:
        try:
            while self.outcomes:
                self._record_outcomes()
        except Exception:  # their leases run out and the messages are sent again, same key
            log.exception("Could not record %d send results", len(self.outcomes))

    def _start_due_sends(self) -> None:
        now = time.monotonic()
        while self.scheduled and self.scheduled[0][0] <= now:
            if len(self.in_flight) >= self.concurrency:
                return  # the pool is full; the loop comes back when a send finishes
            _, order, claim = heapq.heappop(self.scheduled)
            if self._lease_ran_out(claim):
                continue
            sender = claim.request.from_number
            earliest = self.next_free.get(sender, 0.0)
            if earliest > now:
                heapq.heappush(self.scheduled, (earliest, order, claim))
                continue
            self.next_free[sender] = now + claim.min_gap
            self.in_flight.add(self.pool.submit(self._send, claim))

    def _lease_ran_out(self, claim: dispatcher.ClaimedSend) -> bool:
        """A claim that waited here past its lease may belong to another worker by now: it is
        left to its new owner, or to whoever claims it next."""
        if claim.lease_expires_at > timezone.now():
            return False
        log.warning(
            "Message %s waited past its lease; leaving it to its next claim",
            claim.request.idempotency_key,
        )
        return True

    def _send(self, claim: dispatcher.ClaimedSend) -> None:
        # The thread keeps its database connection between sends (only the simulator uses one);
        # close_old_connections replaces it when it broke or grew too old.
        try:
            close_old_connections()
            self.outcomes.append(dispatcher.send_to_carrier(claim))
        finally:
            _send_nudge()  # a finished send frees a slot: let the loop record and claim

    def _idle_timeout(self) -> float:
        timeout = settings.WORKER_POLL_SECONDS
        if self.scheduled:
            timeout = min(timeout, max(self.scheduled[0][0] - time.monotonic(), 0.0))
        waits = [dispatcher.next_due_in()]
        if self.simulated:
            from twoway.carriers.simulator.network import network_next_report_in

            waits.append(network_next_report_in())
        for wait in waits:
            if wait is not None:
                timeout = min(timeout, max(wait, 0.01))
        return timeout
