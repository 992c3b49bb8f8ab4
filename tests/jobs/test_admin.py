"""A running job's progress, as the operator sees it in the Django admin."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from tests.jobs import tasks
from tests.jobs.conftest import Runners
from twoway.jobs.models import JobState
from twoway.jobs.tasks_api import TaskResultStatus

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def operator() -> Client:
    user = get_user_model().objects.create_superuser("operator@example.com", password="x")
    client = Client()
    client.force_login(user)
    return client


def test_a_running_jobs_progress_shows_in_the_admins_task_results(
    runners: Runners, tmp_path: Path, operator: Client
) -> None:
    release = tmp_path / "release"
    result = tasks.reports_progress.enqueue(str(release))
    runner = runners.start_ready()
    runners.wait_for(
        lambda: JobState.objects.filter(pk=result.id, progress_done=3).exists(),
        "the job reported its progress",
    )

    page = operator.get(reverse("admin:django_tasks_database_dbtaskresult_changelist"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "reports_progress" in text
    assert "3 of 10 (30%): Importing contacts" in text
    assert "Running" in text

    detail = operator.get(
        reverse("admin:django_tasks_database_dbtaskresult_change", args=[result.id])
    )
    assert detail.status_code == 200
    assert "3 of 10 (30%): Importing contacts" in detail.content.decode()
    assert runner.runner_id in detail.content.decode()  # who holds the lease

    release.touch()
    runners.wait_for(
        lambda: DBTaskResult.objects.get(pk=result.id).status == TaskResultStatus.SUCCESSFUL,
        "the job finished",
    )
    page = operator.get(reverse("admin:django_tasks_database_dbtaskresult_changelist"))
    assert "10 of 10 (100%): Imported" in page.content.decode()
