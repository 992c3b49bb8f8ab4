"""The job runner: runs the jobs django-tasks-db keeps in the database, one at a time.

django-tasks-db stores a job and its result; what it leaves out the runner adds. A job that
fails is tried again with backoff, then failed for good with its error kept (`RetryPolicy`). A
job is held under a lease its runner renews from a thread while the job runs: a runner killed
mid-job stops renewing, and once the lease has run out another runner hands the job back to the
queue. A runner that cannot renew its lease (the database gone, the job taken over) ends its
process before the lease runs out, so a job never runs in two places at once. Periodic chores
are enqueued by whichever runner sees their period start first (`schedule.py`).

On SQLite a job's write transaction holds the database's one write lock, which the renewal
waits for: a job keeps each transaction well under the lease, as the pruning jobs do with their
batches.

`twoway worker` runs `JOBS_RUNNERS` of these as supervised children; `twoway jobs` runs one.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import signal
import socket
import sys
import threading
import time
import traceback
from collections.abc import Sequence
from types import FrameType
from typing import Any

from django.conf import settings
from django.db import (
    DatabaseError,
    InterfaceError,
    OperationalError,
    close_old_connections,
    connection,
    transaction,
)
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import get_random_string
from django_tasks_db.models import DBTaskResult

from twoway.jobs.models import JobState
from twoway.jobs.schedule import Schedule
from twoway.jobs.tasks_api import (
    JobFailed,
    TaskContext,
    TaskResultStatus,
    current_progress,
    retry_policy_for,
    task_backends,
)

log = logging.getLogger("twoway.jobs")

# A runner that cannot keep its lease exits with this (EX_TEMPFAIL): its supervisor starts it
# again, and the job goes on elsewhere.
EXIT_LEASE_LOST = 75
# A runner that lost the database tries again after this, doubling up to the maximum.
DATABASE_RETRY_SECONDS = 0.05
DATABASE_RETRY_MAX_SECONDS = 2.0
# Progress a job reports in a tight loop is written at most this often.
PROGRESS_WRITE_SECONDS = 0.2
# Runners that died, handed back per look.
LOST_PER_CHECK = 100


class RunnerStopping(BaseException):
    """Raised inside the running job when the runner is asked to stop: the job is handed back
    untouched (its transaction rolled back) for the next runner. Not an `Exception`, so a job's
    own `except Exception` does not swallow it."""


class RunnerLost(Exception):
    """What a job records when the runner that ran it stopped renewing its lease."""


def runner_id_new() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{get_random_string(8)}"


class Lease:
    """The job a runner holds, renewed with its progress from a thread of the runner's own.

    A second thread, which never touches the database, ends the process once the lease has gone
    unrenewed for `lease_seconds - heartbeat_seconds`: before it runs out, so before any other
    runner may take the job over, even when the renewing thread is stuck waiting on a lock.
    """

    def __init__(self, runner_id: str, *, lease_seconds: float, heartbeat_seconds: float) -> None:
        self.runner_id = runner_id
        self.lease_seconds = lease_seconds
        self.heartbeat_seconds = heartbeat_seconds
        self.lock = threading.Lock()
        self.held: tuple[Any, int] | None = None  # (task result id, attempt)
        self.renewed_at = 0.0  # time.monotonic() of the last renewal that took
        self.pending: tuple[int, int | None, str] | None = None  # progress not written yet
        self.wake = threading.Event()
        self.stopped = threading.Event()
        self.threads: list[threading.Thread] = []

    def start(self) -> None:
        self.stopped.clear()
        self.threads = [
            threading.Thread(target=self._heartbeat, name="jobs-heartbeat", daemon=True),
            threading.Thread(target=self._watchdog, name="jobs-watchdog", daemon=True),
        ]
        for thread in self.threads:
            thread.start()

    def stop(self) -> None:
        self.stopped.set()
        self.wake.set()
        for thread in self.threads:
            thread.join(timeout=self.lease_seconds)

    def hold(self, result_id: Any, attempt: int) -> None:
        """From the claim on (whose transaction set the lease's first end)."""
        with self.lock:
            self.held = (result_id, attempt)
            self.renewed_at = time.monotonic()
            self.pending = None

    def release(self) -> tuple[int, int | None, str] | None:
        """No longer renewed; the progress not written yet, for the runner's last write."""
        with self.lock:
            pending, self.held, self.pending = self.pending, None, None
            return pending

    def progress(self, *, done: int, total: int | None, message: str) -> None:
        """`job_progress` from inside the job: written by the heartbeat thread."""
        with self.lock:
            self.pending = (done, total, message)
        self.wake.set()

    def _heartbeat(self) -> None:
        try:
            while not self.stopped.is_set():
                self.wake.wait(self.heartbeat_seconds)
                self.wake.clear()
                with self.lock:
                    held, pending, self.pending = self.held, self.pending, None
                if held is None or self.stopped.is_set():
                    continue
                began = time.monotonic()
                try:
                    renewed = self._renew(held, pending)
                except DatabaseError as exc:
                    log.warning("Could not renew the lease of job %s (%s)", held[0], exc)
                    connection.close()
                    with self.lock:
                        if self.pending is None and self.held == held:
                            self.pending = pending
                    self.stopped.wait(min(self.heartbeat_seconds, 1.0))
                    continue
                with self.lock:
                    still_held = self.held == held
                    if still_held and renewed:
                        self.renewed_at = began
                if still_held and not renewed:
                    _exit(f"job {held[0]} was taken over by another runner")
                self.stopped.wait(PROGRESS_WRITE_SECONDS)
        finally:
            connection.close()

    def _renew(self, held: tuple[Any, int], pending: tuple[int, int | None, str] | None) -> bool:
        result_id, attempt = held
        now = timezone.now()
        fields: dict[str, Any] = {
            "lease_until": now + dt.timedelta(seconds=self.lease_seconds),
            "updated_at": now,
        }
        if pending is not None:
            fields.update(progress_fields(pending))
        mine = JobState.objects.filter(pk=result_id, lease_owner=self.runner_id, attempts=attempt)
        return mine.update(**fields) == 1

    def _watchdog(self) -> None:
        limit = self.lease_seconds - self.heartbeat_seconds
        while not self.stopped.wait(min(self.heartbeat_seconds / 2, 1.0)):
            with self.lock:
                held, renewed_at = self.held, self.renewed_at
            if held is not None and time.monotonic() - renewed_at > limit:
                _exit(f"the lease of job {held[0]} could not be renewed for {limit:g} s")


def _exit(why: str) -> None:
    log.error("Job runner stopping at once: %s, and a job must never run twice at once", why)
    for handler in logging.getLogger().handlers:
        handler.flush()
    sys.stderr.flush()
    os._exit(EXIT_LEASE_LOST)


def _connection_check() -> None:
    """Drop the connection if it broke or is too old, unless a caller's transaction holds it
    (a test's, around `run_until_idle`), which closing would break."""
    if not connection.in_atomic_block:
        close_old_connections()


def progress_fields(progress: tuple[int, int | None, str]) -> dict[str, Any]:
    done, total, message = progress
    return {"progress_done": done, "progress_total": total, "progress_message": message}


class JobRunner:
    """Claims due jobs and runs them until stopped (SIGTERM, SIGINT): `run()`."""

    def __init__(
        self,
        *,
        backend: str = "default",
        runner_id: str | None = None,
        poll_seconds: float | None = None,
        lease_seconds: float | None = None,
        heartbeat_seconds: float | None = None,
        schedule: Schedule | None = None,
    ) -> None:
        self.backend = backend
        self.queues: Sequence[str] = sorted(task_backends[backend].queues)
        self.runner_id = runner_id or runner_id_new()
        self.poll_seconds = settings.JOBS_POLL_SECONDS if poll_seconds is None else poll_seconds
        self.lease_seconds = lease_seconds or settings.JOBS_LEASE_SECONDS
        # At least three renewals per lease, so one slow renewal does not cost it.
        self.heartbeat_seconds = min(
            heartbeat_seconds or settings.JOBS_HEARTBEAT_SECONDS, self.lease_seconds / 3
        )
        self.schedule = Schedule.from_settings() if schedule is None else schedule
        self.lease = Lease(
            self.runner_id,
            lease_seconds=self.lease_seconds,
            heartbeat_seconds=self.heartbeat_seconds,
        )
        self.stopping = False
        self.in_job = False
        self.next_lost_check = 0.0

    def stop(self, signum: int | None = None, frame: FrameType | None = None) -> None:
        self.stopping = True
        if self.in_job:
            self.in_job = False
            raise RunnerStopping

    def run(self) -> None:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        self.lease.start()
        log.info("Job runner started (%s)", self.runner_id)
        retry = DATABASE_RETRY_SECONDS
        try:
            while not self.stopping:
                try:
                    ran = self.run_once()
                except (OperationalError, InterfaceError) as exc:
                    log.warning("Lost the database (%s); trying again in %.2f s", exc, retry)
                    connection.close()
                    self._sleep(retry)
                    retry = min(retry * 2, DATABASE_RETRY_MAX_SECONDS)
                    continue
                retry = DATABASE_RETRY_SECONDS
                if not ran:
                    self._sleep(self.poll_seconds)
        finally:
            self.lease.stop()
            connection.close()
            log.info("Job runner stopped (%s)", self.runner_id)

    def run_until_idle(self) -> int:
        """Run what is due now in this thread, then return how many jobs ran. Leases are not
        renewed meanwhile: for jobs that end well within one (tests, a one-off run)."""
        ran = 0
        while self.run_once():
            ran += 1
        return ran

    def run_once(self) -> bool:
        """Enqueue the chores whose period began, hand back the jobs of runners that died, and
        run one due job: True when one ran."""
        _connection_check()
        self.schedule.enqueue_due()
        if time.monotonic() >= self.next_lost_check:
            lost_jobs_reclaim(grace_seconds=self.heartbeat_seconds)
            self.next_lost_check = time.monotonic() + self.heartbeat_seconds
        claimed = self._claim()
        if claimed is None:
            return False
        self._execute(*claimed)
        return True

    def _sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self.stopping and (left := deadline - time.monotonic()) > 0:
            time.sleep(min(left, 0.1))

    def _claim(self) -> tuple[DBTaskResult, int] | None:
        ready = DBTaskResult.objects.ready().filter(
            backend_name=self.backend, queue_name__in=self.queues
        )
        # A read first: a runner polling an empty queue must not take SQLite's write lock.
        if not ready.exists():
            return None
        with transaction.atomic():
            # FOR UPDATE SKIP LOCKED on PostgreSQL; on SQLite the transaction began with the
            # write lock (IMMEDIATE), so no other runner claims meanwhile.
            row = ready.get_locked()
            if row is None:
                return None
            row.claim(self.runner_id)
            now = timezone.now()
            lease = {
                "lease_owner": self.runner_id,
                "lease_until": now + dt.timedelta(seconds=self.lease_seconds),
                "progress_done": 0,
                "progress_total": None,
                "progress_message": "",
                "updated_at": now,
            }
            state = JobState.objects.filter(pk=row.pk)
            if not state.update(attempts=F("attempts") + 1, **lease):
                JobState.objects.create(result=row, attempts=1, **lease)
            attempt = state.values_list("attempts", flat=True).get()
        return row, attempt

    def _execute(self, row: DBTaskResult, attempt: int) -> None:
        self.lease.hold(row.pk, attempt)
        token = current_progress.set(self.lease)
        began = time.monotonic()
        try:
            try:
                task = row.task
                args = list(row.args_kwargs["args"])
                if task.takes_context:
                    args.insert(0, TaskContext(task_result=row.task_result))  # type: ignore[arg-type]
                value = self._call(task, args, row.args_kwargs["kwargs"])
                json.dumps(value)  # a result the database cannot keep fails the try here
            except RunnerStopping:
                # Interrupted anywhere, a query included: a new connection hands the job back.
                connection.close()
                self._hand_back(row, attempt)
                return
            except (Exception, SystemExit) as exc:
                # The job's database error may have left the connection unusable.
                _connection_check()
                self._failed(row, attempt, exc, time.monotonic() - began)
                return
            self._succeeded(row, attempt, value, time.monotonic() - began)
        finally:
            current_progress.reset(token)
            self.lease.release()

    def _call(self, task: Any, args: list[Any], kwargs: dict[str, Any]) -> Any:
        try:
            self.in_job = True
            if self.stopping:
                raise RunnerStopping
            return task.call(*args, **kwargs)
        finally:
            self.in_job = False

    def _finish(
        self, row: DBTaskResult, attempt: int, *, attempts: Any = None, **result: Any
    ) -> bool:
        """Give the lease up and write the result, if the lease is still this runner's."""
        now = timezone.now()
        fields: dict[str, Any] = {"lease_owner": "", "lease_until": None, "updated_at": now}
        if attempts is not None:
            fields["attempts"] = attempts
        if (pending := self.lease.release()) is not None:
            fields.update(progress_fields(pending))
        with transaction.atomic():
            mine = JobState.objects.filter(pk=row.pk, lease_owner=self.runner_id, attempts=attempt)
            if not mine.update(**fields):
                log.warning(
                    "Job %s %s ended here after another runner took it over: not recorded",
                    row.task_name,
                    row.pk,
                )
                return False
            DBTaskResult.objects.filter(pk=row.pk).update(**result)
        return True

    def _succeeded(self, row: DBTaskResult, attempt: int, value: Any, seconds: float) -> None:
        if self._finish(
            row,
            attempt,
            status=TaskResultStatus.SUCCESSFUL,
            finished_at=timezone.now(),
            return_value=value,
            exception_class_path="",
            traceback="",
        ):
            log.info("Job %s %s done (try %d, %.2f s)", row.task_name, row.pk, attempt, seconds)

    def _failed(self, row: DBTaskResult, attempt: int, exc: BaseException, seconds: float) -> None:
        policy = retry_policy_for(row.task_path)
        error = {
            "exception_class_path": f"{type(exc).__module__}.{type(exc).__qualname__}",
            "traceback": "".join(traceback.format_exception(exc)),
        }
        if isinstance(exc, JobFailed) or attempt >= policy.max_attempts:
            if self._finish(
                row,
                attempt,
                status=TaskResultStatus.FAILED,
                finished_at=timezone.now(),
                return_value=None,
                **error,
            ):
                log.error(
                    "Job %s %s failed for good after %d tries: %s: %s",
                    row.task_name,
                    row.pk,
                    attempt,
                    type(exc).__name__,
                    exc,
                )
            return
        delay = policy.delay_after(attempt)
        run_after = timezone.now() + dt.timedelta(seconds=delay)
        if self._finish(row, attempt, status=TaskResultStatus.READY, run_after=run_after, **error):
            log.warning(
                "Job %s %s failed (try %d of %d, %.2f s): %s: %s; trying again in %g s",
                row.task_name,
                row.pk,
                attempt,
                policy.max_attempts,
                seconds,
                type(exc).__name__,
                exc,
                delay,
            )

    def _hand_back(self, row: DBTaskResult, attempt: int) -> None:
        # A stop asked for is no failure of the job's: the try is not counted.
        if self._finish(row, attempt, attempts=attempt - 1, status=TaskResultStatus.READY):
            log.info("Job %s %s handed back: the runner is stopping", row.task_name, row.pk)


def lost_jobs_reclaim(*, grace_seconds: float, now: dt.datetime | None = None) -> int:
    """Hand back to the queue the jobs whose runner stopped renewing their lease (killed, its
    machine lost), or fail them for good when that was their last try. Returns how many."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(seconds=grace_seconds)
    lost = JobState.objects.filter(lease_until__lt=cutoff).values_list(
        "pk", "lease_owner", "attempts", "result__task_path"
    )
    handed = 0
    for pk, owner, attempts, task_path in lost[:LOST_PER_CHECK]:
        policy = retry_policy_for(task_path)
        final = attempts >= policy.max_attempts
        error = {
            "exception_class_path": f"{RunnerLost.__module__}.{RunnerLost.__qualname__}",
            "traceback": f"The job runner {owner} stopped during try {attempts}: "
            "its lease ran out.",
        }
        with transaction.atomic():
            taken = JobState.objects.filter(
                pk=pk, lease_owner=owner, attempts=attempts, lease_until__lt=cutoff
            ).update(lease_owner="", lease_until=None, updated_at=now)
            if not taken:
                continue  # renewed, finished or handed back meanwhile
            running = DBTaskResult.objects.filter(pk=pk, status=TaskResultStatus.RUNNING)
            if final:
                running.update(
                    status=TaskResultStatus.FAILED, finished_at=now, return_value=None, **error
                )
            else:
                running.update(status=TaskResultStatus.READY, run_after=now, **error)
        handed += 1
        log.warning(
            "Job %s %s: its runner %s stopped during try %d; %s",
            task_path.rsplit(".", 1)[-1],
            pk,
            owner,
            attempts,
            "failed for good" if final else "handed back to the queue",
        )
    return handed
