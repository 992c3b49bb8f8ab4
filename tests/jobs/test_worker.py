"""`twoway worker` (what `twoway serve` starts) runs a job runner of its own and restarts it."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from django_tasks_db.models import DBTaskResult

from tests.conftest import free_port
from tests.jobs import tasks
from tests.jobs.conftest import Runners
from twoway.jobs.tasks_api import TaskResultStatus

pytestmark = pytest.mark.django_db(transaction=True)


def children_of(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as children:
            return [int(child) for child in children.read().split()]
    except FileNotFoundError:
        return []


def succeeded(result_id: str) -> bool:
    return DBTaskResult.objects.get(pk=result_id).status == TaskResultStatus.SUCCESSFUL


def test_the_worker_runs_jobs_in_a_child_it_restarts_when_it_dies(
    runners: Runners, tmp_path: Path
) -> None:
    path = tmp_path / "notes"
    worker = runners.start(
        ("worker", "--processes", "1"), JOBS_RUNNERS="1", WORKER_WAKE_PORT=str(free_port())
    )
    first = tasks.note.enqueue(str(path), "first")
    runners.wait_for(lambda: succeeded(first.id), "the worker's job runner ran the job")
    runners.wait_for(lambda: "Worker started" in worker.log(), "the worker process started")
    children = children_of(worker.proc.pid)
    assert len(children) == 2  # the worker process, then the job runner

    os.kill(children[1], signal.SIGKILL)
    runners.wait_for(
        lambda: worker.log().count("Job runner started") == 2, "the job runner is started again"
    )
    second = tasks.note.enqueue(str(path), "second")
    runners.wait_for(lambda: succeeded(second.id), "the new job runner ran the next job")
    assert path.read_text().splitlines() == ["first", "second"]

    worker.proc.send_signal(signal.SIGTERM)
    assert worker.proc.wait(timeout=20) == 0
    assert "Job runner stopped" in worker.log()
