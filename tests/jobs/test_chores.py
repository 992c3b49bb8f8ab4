"""The job layer's own chore: old task results pruned, recent and unfinished ones kept."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tests.jobs import tasks
from twoway.jobs.models import JobState
from twoway.jobs.tasks import task_results_prune
from twoway.jobs.tasks_api import TaskResultStatus

pytestmark = pytest.mark.django_db


def result(status: str, *, age_days: float | None) -> str:
    row = tasks.note.enqueue("/dev/null", status)
    finished = None if age_days is None else timezone.now() - dt.timedelta(days=age_days)
    DBTaskResult.objects.filter(pk=row.id).update(status=status, finished_at=finished)
    JobState.objects.create(result_id=row.id, attempts=1)
    return row.id


def test_finished_results_past_their_retention_are_deleted(settings) -> None:
    settings.JOBS_RESULTS_RETENTION_DAYS = 7
    settings.JOBS_FAILED_RETENTION_DAYS = 30
    old_ok = [result(TaskResultStatus.SUCCESSFUL, age_days=8) for _ in range(3)]
    kept = {
        result(TaskResultStatus.SUCCESSFUL, age_days=6),
        result(TaskResultStatus.FAILED, age_days=8),
        result(TaskResultStatus.READY, age_days=None),
        result(TaskResultStatus.RUNNING, age_days=None),
    }
    old_failed = result(TaskResultStatus.FAILED, age_days=31)

    assert task_results_prune.call(batch_size=2) == 4

    assert {str(pk) for pk in DBTaskResult.objects.values_list("pk", flat=True)} == kept
    gone = [*old_ok, old_failed]
    assert not JobState.objects.filter(pk__in=gone).exists()
