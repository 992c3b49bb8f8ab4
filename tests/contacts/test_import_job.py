"""The contact import as a background job: run by the job runner, its progress in the job's
state, and an import that cannot go on stopping with the reason."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import default_storage

from twoway.accounts.models import Membership, Organization
from twoway.contacts.imports import contact_import_create, contact_import_start
from twoway.contacts.models import Contact, ContactImport, ContactImportStatus, CustomField
from twoway.jobs.models import JobState
from twoway.jobs.runner import JobRunner
from twoway.jobs.schedule import Schedule

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _files(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "files")


def queued(by: Membership, data: str, capture: Any, mapping: list[str] | None = None) -> Any:
    raw = data.encode()
    found = contact_import_create(
        membership=by, file_name="clients.csv", content=io.BytesIO(raw), size=len(raw)
    )
    with capture(execute=True):
        contact_import_start(membership=by, contact_import=found, mapping=mapping or found.mapping)
    return found


def test_the_job_runner_runs_the_import_and_keeps_its_progress(
    org: Organization, admin: Membership, django_capture_on_commit_callbacks: Any
) -> None:
    data = "Name,Phone\n" + "".join(f"C{n},41555501{n:02d}\n" for n in range(10, 40))
    found = queued(admin, data, django_capture_on_commit_callbacks)

    assert JobRunner(schedule=Schedule([])).run_until_idle() == 1

    found.refresh_from_db()
    assert (found.status, found.created, found.stored_name) == (ContactImportStatus.DONE, 30, "")
    state = JobState.objects.get()
    assert (state.progress_done, state.progress_total) == (found.size, found.size)
    assert state.progress == f"{found.size:,} of {found.size:,} (100%): 30 rows of clients.csv"
    assert Contact.objects.filter(organization=org).count() == 30


def test_an_import_whose_field_was_deleted_meanwhile_stops_with_the_reason(
    org: Organization, admin: Membership, django_capture_on_commit_callbacks: Any
) -> None:
    field = CustomField.objects.create(organization=org, name="Visits", kind="number")
    found = queued(
        admin,
        "Phone,Visits\n4155550101,3\n",
        django_capture_on_commit_callbacks,
        mapping=["phone", f"custom:{field.pk}"],
    )
    stored = found.stored_name
    field.delete()

    assert JobRunner(schedule=Schedule([])).run_until_idle() == 1

    found.refresh_from_db()
    assert found.status == ContactImportStatus.FAILED
    assert "no such field" in found.error
    assert not default_storage.exists(stored)
    assert not Contact.objects.exists()
    assert ContactImport.objects.get().is_finished
