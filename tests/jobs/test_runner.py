"""Job runners in processes of their own: durable jobs, retries, a killed runner, a stop.

The tests commit their rows (transactional_db), as the runners open their own connections to
the test database.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import time
from pathlib import Path

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tests.jobs import tasks
from tests.jobs.conftest import Runners
from twoway.jobs.models import JobState
from twoway.jobs.runner import EXIT_LEASE_LOST
from twoway.jobs.tasks_api import TaskResultStatus

pytestmark = pytest.mark.django_db(transaction=True)


def row(result_id: str) -> DBTaskResult:
    return DBTaskResult.objects.get(pk=result_id)


def status(result_id: str) -> str:
    return str(row(result_id).status)


def state(result_id: str) -> JobState:
    return JobState.objects.get(pk=result_id)


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def test_a_job_enqueued_before_any_runner_is_run_by_one_in_another_process(
    runners: Runners, tmp_path: Path
) -> None:
    path = tmp_path / "notes"
    result = tasks.note.enqueue(str(path), "hello")
    assert status(result.id) == TaskResultStatus.READY

    runner = runners.start_ready()
    runners.wait_for(lambda: status(result.id) == TaskResultStatus.SUCCESSFUL, "the job ran")

    assert lines(path) == ["hello"]
    done = row(result.id)
    assert done.return_value == "hello"
    assert done.worker_ids == [runner.runner_id]
    job = state(result.id)
    assert job.attempts == 1
    assert (job.lease_owner, job.lease_until) == ("", None)
    assert runners.stop(runner) == 0


def test_a_failing_job_is_tried_again_with_backoff_then_failed_for_good_with_its_error(
    runners: Runners, tmp_path: Path
) -> None:
    path = tmp_path / "tries"
    result = tasks.always_fails.enqueue(str(path))
    runners.start_ready()

    runners.wait_for(lambda: status(result.id) == TaskResultStatus.FAILED, "it failed for good")

    times = [float(line) for line in lines(path)]
    assert len(times) == 3  # the job's max_attempts
    # 0.3 s after the first try, then doubled but capped at 0.5 s.
    assert times[1] - times[0] >= 0.3
    assert times[2] - times[1] >= 0.5
    failed = row(result.id)
    assert failed.exception_class_path == "builtins.RuntimeError"
    assert "the carrier said no" in failed.traceback
    assert failed.finished_at is not None
    assert state(result.id).attempts == 3
    assert result.task.get_result(result.id).errors[0].exception_class is RuntimeError
    time.sleep(0.6)
    assert len(lines(path)) == 3  # and not tried again


def test_a_job_that_fails_twice_succeeds_on_its_third_try(runners: Runners, tmp_path: Path) -> None:
    path = tmp_path / "tries"
    result = tasks.fails_twice.enqueue(str(path))
    runners.start_ready()

    runners.wait_for(lambda: status(result.id) == TaskResultStatus.SUCCESSFUL, "it succeeded")

    assert lines(path) == ["1", "2", "3"]
    done = row(result.id)
    assert done.return_value == 3
    assert (done.exception_class_path, done.traceback) == ("", "")
    assert state(result.id).attempts == 3


def test_a_job_that_raises_job_failed_is_not_tried_again(runners: Runners, tmp_path: Path) -> None:
    path = tmp_path / "tries"
    result = tasks.cannot_succeed.enqueue(str(path))
    runners.start_ready()

    runners.wait_for(lambda: status(result.id) == TaskResultStatus.FAILED, "it failed")

    assert lines(path) == ["tried"]
    assert "the contact list it imports is gone" in row(result.id).traceback


def test_a_killed_runners_job_is_taken_over_once_its_lease_ran_out_and_never_run_twice_at_once(
    runners: Runners, tmp_path: Path
) -> None:
    path = tmp_path / "pids"
    first = runners.start_ready()
    result = tasks.hangs_the_first_time.enqueue(str(path))
    runners.wait_for(lambda: len(lines(path)) == 1, "the first runner is running the job")
    second = runners.start_ready()

    # The first runner renews its lease: the second leaves the job alone, lease after lease.
    time.sleep(2 * 1.5)
    assert len(lines(path)) == 1
    assert state(result.id).lease_owner == first.runner_id
    assert status(result.id) == TaskResultStatus.RUNNING

    killed_at = time.monotonic()
    os.kill(first.proc.pid, signal.SIGKILL)
    runners.wait_for(
        lambda: status(result.id) == TaskResultStatus.SUCCESSFUL, "the second runner took it over"
    )

    # Taken over once the lease (1.5 s) and a heartbeat more had run out, not before.
    assert time.monotonic() - killed_at >= 1.0
    assert lines(path) == [str(first.proc.pid), str(second.proc.pid)]
    done = row(result.id)
    assert done.worker_ids == [first.runner_id, second.runner_id]
    assert done.return_value == 2
    assert state(result.id).attempts == 2
    assert "handed back to the queue" in second.log()


def test_a_runner_whose_job_was_taken_from_it_stops_at_once(
    runners: Runners, tmp_path: Path
) -> None:
    path = tmp_path / "pids"
    runner = runners.start_ready()
    result = tasks.hangs_the_first_time.enqueue(str(path))
    runners.wait_for(lambda: len(lines(path)) == 1, "the runner is running the job")

    # As another runner would after wrongly thinking this one dead.
    JobState.objects.filter(pk=result.id).update(lease_owner="another-runner")

    assert runner.proc.wait(timeout=5) == EXIT_LEASE_LOST
    assert "was taken over by another runner" in runner.log()


def test_a_stopped_runner_hands_its_job_back_without_counting_the_try(
    runners: Runners, tmp_path: Path
) -> None:
    path = tmp_path / "pids"
    first = runners.start_ready()
    result = tasks.hangs_the_first_time.enqueue(str(path))
    runners.wait_for(lambda: len(lines(path)) == 1, "the runner is running the job")

    assert runners.stop(first) == 0

    assert status(result.id) == TaskResultStatus.READY
    assert state(result.id).attempts == 0
    assert "handed back: the runner is stopping" in first.log()
    runners.start_ready()
    runners.wait_for(
        lambda: status(result.id) == TaskResultStatus.SUCCESSFUL, "the next runner ran it"
    )
    assert state(result.id).attempts == 1


def test_a_job_enqueued_to_run_at_a_time_does_not_run_before_it(
    runners: Runners, tmp_path: Path
) -> None:
    path = tmp_path / "notes"
    runners.start_ready()
    at = timezone.now() + dt.timedelta(seconds=1.5)
    result = tasks.note.using(run_after=at).enqueue(str(path), "on time")

    time.sleep(1.0)
    assert status(result.id) == TaskResultStatus.READY
    assert not path.exists()

    runners.wait_for(lambda: status(result.id) == TaskResultStatus.SUCCESSFUL, "it ran")
    started_at = row(result.id).started_at
    assert started_at is not None
    assert started_at >= at
