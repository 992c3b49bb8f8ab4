"""The job layer's own chore: finished task results pruned after their retention."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from twoway.jobs.pruning import DEFAULT_BATCH_SIZE
from twoway.jobs.tasks_api import TaskResultStatus, job, job_progress


@job
def task_results_prune(*, batch_size: int = DEFAULT_BATCH_SIZE) -> int:
    """Delete the results of jobs that succeeded more than `JOBS_RESULTS_RETENTION_DAYS` ago
    and of those that failed more than `JOBS_FAILED_RETENTION_DAYS` ago (0: kept)."""
    now = timezone.now()
    deleted = 0
    for status, days in (
        (TaskResultStatus.SUCCESSFUL, settings.JOBS_RESULTS_RETENTION_DAYS),
        (TaskResultStatus.FAILED, settings.JOBS_FAILED_RETENTION_DAYS),
    ):
        if days <= 0:
            continue
        old = DBTaskResult.objects.filter(
            status=status, finished_at__lt=now - dt.timedelta(days=days)
        ).order_by()
        while pks := list(old.values_list("pk", flat=True)[:batch_size]):
            with transaction.atomic():
                _, per_model = DBTaskResult.objects.filter(pk__in=pks).delete()
            deleted += per_model.get(DBTaskResult._meta.label, 0)
            job_progress(done=deleted, message="task results deleted")
    return deleted
