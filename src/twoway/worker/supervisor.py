"""Runs several worker processes and keeps them running: `twoway worker --processes N`.

One worker process is bound by its interpreter's lock at a few hundred messages a second, so a
machine with more cores runs more of them; they share the queue safely (claims skip rows another
worker holds, and every sender's limit lives in its row). The supervisor only starts children
and watches them: a child that dies is started again, SIGTERM or SIGINT is passed on to every
child and waited for (each lets its sends in flight finish), and a supervisor killed outright
takes its children with it, as one worker process's crash would (their leases run out and
another worker sends what they held). The job runners (twoway/jobs) are children of the same
supervisor, after the worker processes.
"""

from __future__ import annotations

import ctypes
import functools
import logging
import os
import signal
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType

log = logging.getLogger("twoway.worker")

# A child that ran this long before it died is restarted at once; one that died sooner waits
# RESTART_DELAY_SECONDS, doubled for each quick death in a row up to the maximum, so a child
# that cannot start (a bad setting, the database down) does not spin.
HEALTHY_AFTER_SECONDS = 30.0
RESTART_DELAY_SECONDS = 0.5
RESTART_DELAY_MAX_SECONDS = 30.0
# How long stopping children get before they are killed: a send in flight may take up to its
# carrier's timeout, then its result is recorded.
STOP_TIMEOUT_SECONDS = 30.0
POLL_SECONDS = 0.2

_PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int) -> None:
    """In the child: SIGKILL when the supervisor goes (Linux; elsewhere a no-op)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # it went before the line above took effect
        os._exit(1)


_STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}


class ChildProcess:
    """A forked child, with the few methods of `subprocess.Popen` the supervisor uses.

    Forked rather than started afresh: the child inherits Django and the worker already
    imported, so it is ready in milliseconds instead of seconds (restarts included), and shares
    those pages with its siblings until they change.
    """

    def __init__(self, target: Callable[[], int]) -> None:
        self.returncode: int | None = None
        parent = os.getpid()
        # A stop signal that reaches the child before it has set its own handlers would run the
        # parent's (a supervisor's "stop", which in the child stops nothing): it is held back
        # over the fork and delivered once the child's handlers are the default ones.
        held = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child's side, measured by the parent
            code = 1
            try:
                _die_with_parent(parent)
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                signal.pthread_sigmask(signal.SIG_SETMASK, held)
                code = target()
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
            except BaseException:
                traceback.print_exc()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        signal.pthread_sigmask(signal.SIG_SETMASK, held)
        self.pid = pid

    def poll(self) -> int | None:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(f"process {self.pid} still running")
            time.sleep(0.02)
        assert self.returncode is not None
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


@dataclass
class _Slot:
    """One child's place: its process, and when it may be started again after dying."""

    index: int
    process: ChildProcess | None = None
    started_at: float = 0.0
    quick_deaths: int = 0
    restart_at: float = 0.0
    starts: int = 0


class Supervisor:
    """Forks `processes` children running `target(index)` and restarts any that dies until
    stopped; a restarted child gets its slot's index again."""

    def __init__(
        self,
        target: Callable[[int], int],
        processes: int,
        *,
        stop_timeout: float = STOP_TIMEOUT_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.target = target
        self.slots = [_Slot(index) for index in range(processes)]
        self.stop_timeout = stop_timeout
        self.clock = clock
        self.stopping = False

    @property
    def restarts(self) -> int:
        return sum(max(slot.starts - 1, 0) for slot in self.slots)

    def stop(self, signum: int | None = None, frame: FrameType | None = None) -> None:
        self.stopping = True

    def run(self) -> int:
        """Supervise until SIGTERM/SIGINT; 0 when every child then stopped cleanly."""
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        log.info("Worker supervisor started (%d processes)", len(self.slots))
        for slot in self.slots:
            self._start(slot)
        while not self.stopping:
            self.check()
            time.sleep(POLL_SECONDS)
        return self._stop_children()

    def check(self) -> None:
        """Start again every child that died, once its restart delay has passed."""
        now = self.clock()
        for slot in self.slots:
            if slot.process is not None:
                code = slot.process.poll()
                if code is None:
                    continue
                self._died(slot, code, now)
            if now >= slot.restart_at and not self.stopping:
                self._start(slot)

    def _died(self, slot: _Slot, code: int, now: float) -> None:
        quick = now - slot.started_at < HEALTHY_AFTER_SECONDS
        slot.quick_deaths = slot.quick_deaths + 1 if quick else 0
        delay = 0.0
        if slot.quick_deaths:
            delay = min(
                RESTART_DELAY_SECONDS * 2 ** (slot.quick_deaths - 1), RESTART_DELAY_MAX_SECONDS
            )
        slot.restart_at = now + delay
        slot.process = None
        log.warning(
            "Worker process %d exited (%s); starting it again in %.1f s", slot.index, code, delay
        )

    def _start(self, slot: _Slot) -> None:
        sys.stdout.flush()  # else the child would print what the parent had buffered
        sys.stderr.flush()
        slot.process = ChildProcess(functools.partial(self.target, slot.index))
        slot.started_at = self.clock()
        slot.starts += 1

    def _stop_children(self) -> int:
        running = [s.process for s in self.slots if s.process and s.process.poll() is None]
        for process in running:
            process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.stop_timeout
        clean = True
        for process in running:
            try:
                code = process.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except TimeoutError:
                log.warning("Worker process %d did not stop in time; killing it", process.pid)
                process.kill()
                code = process.wait()
            clean &= code in (0, -signal.SIGTERM, -signal.SIGINT)
        log.info("Worker supervisor stopped")
        return 0 if clean else 1


def worker_processes_run(processes: int, concurrency: int, job_runners: int = 0) -> int:
    """`twoway worker --processes N`: N worker processes and `job_runners` job runners after
    them, supervised (Django set up)."""
    from django.db import connections

    from twoway.jobs.runner import JobRunner
    from twoway.worker.loop import Worker

    # Nothing the children inherit may be shared: no database connection is open yet (setup
    # opens none), and a worker opens its own sockets, threads and carrier clients in run().
    connections.close_all()

    def work(index: int) -> int:
        if index < processes:
            Worker(concurrency=concurrency, partition=(index, processes)).run()
        else:
            JobRunner().run()
        return 0

    return Supervisor(work, processes + job_runners).run()
