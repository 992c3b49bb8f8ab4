"""The worker process: processes carrier events, gives carriers their turns, sends messages.

One loop does the database work: it claims due messages, records what carriers said in batches
(one transaction for many sends) and processes inbound events. A pacer thread keeps the clock:
claimed messages wait in a heap for their booked slot and are handed to a pool of threads the
moment both the slot and a thread are free, which only talk to carriers. So a slow carrier never
holds up inbound processing, a busy pool never makes a send late and then bunched up, and sends
never wait for the loop to finish a database round trip. Stopping (SIGINT/SIGTERM) lets in-flight
sends finish and records them; a message a killed worker had claimed is taken over by another
worker when its lease runs out.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import signal
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from types import FrameType

from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections, connection
from django.utils import timezone

from twoway.carrier_events.processing import (
    carrier_events_batch_limit,
    carrier_events_process_pending,
)
from twoway.carriers.base import Carrier
from twoway.carriers.registry import carrier_slugs, get_carrier
from twoway.messaging import claiming, recording, scheduling, sending
from twoway.realtime.wakeup import WakeListener

log = logging.getLogger("twoway.worker")

# Claimed sends a worker holds beyond those ready to go: they wait for slots its senders' limits
# booked within the claim lookahead, so the limits bound them; this only bounds memory.
MAX_CLAIMED_AHEAD = 1000
# Send results recorded in one transaction at most.
RECORD_BATCH = 500
# How often a claim also looks for messages whose lease ran out (a dead worker's): leases last
# tens of seconds, and the extra query on every claim cost a busy worker ~10% of its loop.
LOST_LEASE_CHECK_SECONDS = 1.0
# How often the loop checks its database connection (age, errors): each check costs the next
# query a round trip to PostgreSQL (CONN_HEALTH_CHECKS), which a busy loop should not pay on
# every pass.
CONNECTION_CHECK_SECONDS = 1.0
# A loop that lost the database (a restart, a failover) tries again after this, doubling while
# it stays away, up to the maximum: back within a second of the database, without spinning.
DATABASE_RETRY_SECONDS = 0.05
DATABASE_RETRY_MAX_SECONDS = 1.0
# Sends ready to go (in flight, or due and waiting for a thread) per send thread: enough that
# one pass of the loop claims and records batches of this size, few enough that a slow carrier
# never sits on claims another worker could send.
READY_PER_THREAD = 4
# How often a busy loop gives carriers with work of their own their turn (the simulator's delivery
# reports come a second or so after a send): a turn on every pass cost a busy worker ~10% of its
# CPU.
CARRIER_TURN_SECONDS = 0.1
# How often the loop looks for carrier events no nudge announced (one stored on another machine,
# a nudge lost, an event whose retry time came): a look on every pass cost a busy worker ~15% of
# its CPU (bench send).
EVENTS_CHECK_SECONDS = 1.0
# How often a busy loop looks for scheduled texts that fell due: an idle loop wakes at the next
# one's time (`_idle_timeout`), so a text leaves within a second of its time either way.
SCHEDULED_CHECK_SECONDS = 0.25
# The pacer looks at the stop flag at least this often (a signal handler must not take its lock).
PACER_TICK_SECONDS = 0.5


class Worker:
    def __init__(
        self,
        *,
        concurrency: int = 8,
        wake_port: int | None = None,
        partition: tuple[int, int] | None = None,
    ) -> None:
        self.concurrency = concurrency
        # (index, processes) of a supervised process: which slow senders are its own.
        self.partition = partition
        self.stopping = threading.Event()
        self.listener = WakeListener(wake_port)
        self.pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="send")
        # What carriers said, waiting to be recorded by the loop (appended by send threads).
        self.outcomes: deque[recording.SendOutcome] = deque()
        self.next_lost_lease_check = 0.0
        self.next_connection_check = 0.0
        self.next_carrier_turn = 0.0
        self.next_events_check = 0.0
        self.next_scheduled_check = 0.0
        # Carrier events may be waiting: announced, or the last look found a batch of them.
        self.events_waiting = True
        # The last claim found every send thread's share taken: a finishing send wakes the loop.
        self.full = False
        # The loop is about to wait or waiting: only then do finishing sends wake it (a syscall
        # and a context switch each, for a loop that would see their results anyway).
        self.idle = False
        # The pacer's state, shared by the loop, the pacer and the send threads under `clock`.
        self.clock = threading.Condition()
        self.pacer = threading.Thread(target=self._pace, name="pacer", daemon=True)
        self.sending = 0  # sends handed to the pool and not finished
        # The pacer waits for a send thread: only then does a finishing send wake it.
        self.pacer_needs_thread = False
        # Claimed sends waiting for their slot: (monotonic time due, tie-breaker, claim).
        self.scheduled: list[tuple[float, int, claiming.ClaimedSend]] = []
        self._order = itertools.count()
        # When each sender number may next hand a message to a carrier in this process: when
        # its last send really left plus that send's own gap (a 2-segment text takes two slots),
        # so sends leave at least their spacing apart even when some left late.
        self.next_free: dict[str, float] = {}
        # Sends per sender handed to a thread that have not left yet (`_Departure`), and the
        # sender's due sends held back until they have: back to `scheduled` when they left.
        self.departing: dict[str, int] = {}
        self.held: dict[str, list[tuple[int, claiming.ClaimedSend]]] = {}
        # The carriers that have work of their own for the worker (`Carrier.has_worker_turns`).
        self.turn_takers: list[Carrier] = []

    def stop(self, signum: int | None = None, frame: FrameType | None = None) -> None:
        self.stopping.set()
        self.listener.wake()

    def run(self) -> None:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        self._prepare_carriers()
        self.pacer.start()
        log.info("Worker started (%d send threads)", self.concurrency)
        retry = DATABASE_RETRY_SECONDS
        try:
            while not self.stopping.is_set():
                try:
                    busy = self.run_once()
                except (OperationalError, InterfaceError) as exc:
                    # What the pass did is in the database or rolled back (outcomes it could
                    # not record are kept): the next pass, on a new connection, goes on. Sends
                    # in flight finish meanwhile; exiting would leave their claims to run out.
                    log.warning("Lost the database (%s); trying again in %.2f s", exc, retry)
                    connection.close()
                    self.listener.wait(retry)
                    retry = min(retry * 2, DATABASE_RETRY_MAX_SECONDS)
                    continue
                retry = DATABASE_RETRY_SECONDS
                if not busy:
                    self.idle = True
                    # A send that finished before the flag was set did not wake the loop.
                    if not self.outcomes:
                        self.listener.wait(self._idle_timeout())
                    self.idle = False
        finally:
            self.stopping.set()
            with self.clock:
                self.clock.notify_all()
            self.pacer.join()
            # Claimed but not yet sent: their leases run out and another worker sends them.
            log.info(
                "Worker stopping: waiting for %d sends in flight, leaving %d unsent",
                self.sending,
                len(self.scheduled) + self._held_count(),
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
            if carrier.has_worker_turns:
                self.turn_takers.append(carrier)
            # A lease shorter than a send can take hands a message in flight to another worker,
            # which sends it again: a duplicate with carriers that ignore idempotency keys.
            timeout = float(getattr(carrier, "timeout", 0) or 0)
            if timeout + 2 * claiming.CLAIM_LOOKAHEAD.seconds > settings.SEND_LEASE_SECONDS:
                log.warning(
                    "SEND_LEASE_SECONDS (%s) is shorter than %s's timeout (%s s) plus slot waits:"
                    " slow sends may be sent twice. Raise it.",
                    settings.SEND_LEASE_SECONDS,
                    slug,
                    timeout,
                )

    def run_once(self) -> bool:
        """One pass over the database work; True when there may be more to do at once."""
        self._check_connection()
        self._record_outcomes()
        busy = self._process_events()
        busy |= self._carriers_turn()
        busy |= self._promote_scheduled()
        busy |= self._claim()
        return busy or bool(self.outcomes)

    def _process_events(self) -> bool:
        """Process waiting carrier events when some were announced or found last time, and
        otherwise every EVENTS_CHECK_SECONDS: True when some were processed."""
        now = time.monotonic()
        self.events_waiting |= self.listener.take_events_nudge()
        if not self.events_waiting and now < self.next_events_check:
            return False
        self.next_events_check = now + EVENTS_CHECK_SECONDS
        processed = carrier_events_process_pending(limit=carrier_events_batch_limit())
        self.events_waiting = processed > 0  # more may have come behind the batch
        return processed > 0

    def _promote_scheduled(self) -> bool:
        """Queue the scheduled texts that fell due, when the look's time has come: True when a
        full batch was moved (more may be due at once). The claim after it sends them."""
        now = time.monotonic()
        if now < self.next_scheduled_check:
            return False
        self.next_scheduled_check = now + SCHEDULED_CHECK_SECONDS
        promoted = scheduling.scheduled_promote()
        if promoted >= scheduling.PROMOTE_BATCH:
            self.next_scheduled_check = now
            return True
        return False

    def _carriers_turn(self) -> bool:
        now = time.monotonic()
        if not self.turn_takers or now < self.next_carrier_turn:
            return False
        done = sum(carrier.worker_turn() for carrier in self.turn_takers)
        # More may be due at once when some was done; else look again a little later.
        self.next_carrier_turn = now if done else now + CARRIER_TURN_SECONDS
        return done > 0

    def _check_connection(self) -> None:
        now = time.monotonic()
        if now >= self.next_connection_check:
            self.next_connection_check = now + CONNECTION_CHECK_SECONDS
            close_old_connections()

    def _claim(self) -> bool:
        """Claim what the send threads can take on now, plus what the senders' limits allow
        ahead: True when something was claimed.

        Sends ready to go (in flight, or due and waiting for a thread) are capped at
        READY_PER_THREAD per thread, so a slow carrier never sits on claims another worker
        could send. Sends booked for later slots are not counted: the claim lookahead and the
        senders' limits already bound them, and counting them would let a few numbers' bookings
        starve the others.
        """
        now = time.monotonic()
        with self.clock:
            held = self._held_count()
            ready = self.sending + held + sum(1 for due, _, _ in self.scheduled if due <= now)
            ahead = len(self.scheduled) + held
        free = min(READY_PER_THREAD * self.concurrency - ready, MAX_CLAIMED_AHEAD - ahead)
        self.full = free <= 0
        if self.full:
            return False
        lost_leases = now >= self.next_lost_lease_check
        if lost_leases:
            self.next_lost_lease_check = now + LOST_LEASE_CHECK_SECONDS
        claims = claiming.claim_due(limit=free, lost_leases=lost_leases, partition=self.partition)
        if claims:
            with self.clock:
                for claim in claims:
                    due = time.monotonic() + (claim.send_at - timezone.now()).total_seconds()
                    heapq.heappush(self.scheduled, (due, next(self._order), claim))
                self.clock.notify()
        return bool(claims)

    def _record_outcomes(self) -> None:
        """Record what carriers said to the sends that finished, one transaction for all."""
        batch: list[recording.SendOutcome] = []
        while self.outcomes and len(batch) < RECORD_BATCH:
            batch.append(self.outcomes.popleft())
        if not batch:
            return
        try:
            recording.record_outcomes(batch)
        except BaseException:
            self.outcomes.extendleft(reversed(batch))  # kept for the next try, or for stop
            raise

    def _record_all_outcomes(self) -> None:
        try:
            while self.outcomes:
                self._record_outcomes()
        except Exception:  # their leases run out and the messages are sent again, same key
            log.exception("Could not record %d send results", len(self.outcomes))

    def _pace(self) -> None:
        """The pacer thread: start each send when its slot has come and a thread is free."""
        with self.clock:
            while not self.stopping.is_set():
                try:
                    next_due = self._start_due_sends()
                except Exception:  # never lose the clock: what failed is claimed again later
                    log.exception("The pacer failed to start sends")
                    next_due = PACER_TICK_SECONDS
                timeout = PACER_TICK_SECONDS if next_due is None else next_due
                self.clock.wait(min(timeout, PACER_TICK_SECONDS))

    def _start_due_sends(self) -> float | None:
        """Hand due sends to free threads (`clock` held); seconds until the next one is due,
        None when there is none or every thread is busy (a finishing send wakes the pacer)."""
        now = time.monotonic()
        self.pacer_needs_thread = False
        while self.scheduled and self.scheduled[0][0] <= now:
            if self.sending >= self.concurrency:
                self.pacer_needs_thread = True
                return None
            _, order, claim = heapq.heappop(self.scheduled)
            if self._lease_ran_out(claim):
                continue
            sender = claim.request.from_number
            if self.departing.get(sender):
                # The sender's previous send has not left yet: its departure sets the next slot.
                self.held.setdefault(sender, []).append((order, claim))
                continue
            earliest = self.next_free.get(sender, 0.0)
            if earliest > now:
                heapq.heappush(self.scheduled, (earliest, order, claim))
                continue
            self.next_free[sender] = now + claim.min_gap
            self.departing[sender] = self.departing.get(sender, 0) + 1
            self.sending += 1
            self.pool.submit(self._send, claim)
        return self.scheduled[0][0] - now if self.scheduled else None

    def _held_count(self) -> int:
        return sum(len(waiting) for waiting in self.held.values())

    def _lease_ran_out(self, claim: claiming.ClaimedSend) -> bool:
        """A claim that waited here past its lease may belong to another worker by now: it is
        left to its new owner, or to whoever claims it next."""
        if claim.lease_expires_at > timezone.now():
            return False
        log.warning(
            "Message %s waited past its lease; leaving it to its next claim",
            claim.request.idempotency_key,
        )
        return True

    def _send(self, claim: claiming.ClaimedSend) -> None:
        # The thread keeps its database connection between sends (only the simulator uses one);
        # close_old_connections replaces it when it broke or grew too old.
        departure = _Departure(self, claim)
        try:
            close_old_connections()
            self.outcomes.append(sending.send_to_carrier(claim, departed=departure))
        finally:
            departure()  # a send that failed before it left: its sender is free from now
            with self.clock:
                self.sending -= 1
                if self.pacer_needs_thread:
                    self.clock.notify()  # a thread is free: the pacer may start the next send
            if self.idle:
                self.listener.wake()  # and the loop may record this one and claim more

    def _idle_timeout(self) -> float:
        timeout = settings.WORKER_POLL_SECONDS
        # A full worker can claim again only once a send finishes, which wakes it: asking when
        # the next message is due (up to five queries) would be wasted, and a busy worker goes
        # idle like this between most sends (5% of its CPU at 1,000 sends/s, measured).
        waits = [] if self.full else [claiming.next_due_in(partition=self.partition)]
        waits.extend(carrier.worker_next_turn_in() for carrier in self.turn_takers)
        # Woken at the next scheduled text's time, the loop promotes it on that pass.
        if (scheduled := scheduling.next_scheduled_in()) is not None:
            self.next_scheduled_check = min(self.next_scheduled_check, time.monotonic() + scheduled)
            waits.append(scheduled)
        for wait in waits:
            if wait is not None:
                timeout = min(timeout, max(wait, 0.01))
        return timeout


class _Departure:
    """Called once a send has left for the carrier (`SendRequest.departed`): the sender's next
    send is paced from now, not from when the send thread started it.

    A thread can start its request some milliseconds after the pacer handed it over, and the
    request can leave some milliseconds after that (the GIL, the scheduler, a new connection);
    pacing from any earlier moment brings the sender's next send that much closer to this one
    at the carrier, which on a machine with busy CPUs put two segments into one of a
    1-per-second number's seconds (docs/performance.md, "Known limits"). Until this is
    called the pacer starts no other send of the sender. Later calls do nothing.
    """

    def __init__(self, worker: Worker, claim: claiming.ClaimedSend) -> None:
        self.worker = worker
        self.claim = claim
        self.done = False

    def __call__(self) -> None:
        worker, sender = self.worker, self.claim.request.from_number
        with worker.clock:
            if self.done:
                return
            self.done = True
            left = time.monotonic()
            earliest = max(worker.next_free.get(sender, 0.0), left + self.claim.min_gap)
            worker.next_free[sender] = earliest
            if worker.departing.get(sender, 0) > 1:
                worker.departing[sender] -= 1
                return
            worker.departing.pop(sender, None)
            for order, claim in worker.held.pop(sender, []):
                heapq.heappush(worker.scheduled, (earliest, order, claim))
            worker.clock.notify()
