"""The contact import's pages: upload, columns over a preview, progress, the error report."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from tests.conftest import logged_in
from twoway.accounts.models import Membership, Organization, Role
from twoway.contacts.models import Contact, ContactImport, ContactImportStatus
from twoway.jobs.runner import JobRunner
from twoway.jobs.schedule import Schedule

pytestmark = pytest.mark.django_db

CSV = (
    "First Name,Last Name,Cell,E-mail\n"
    "<b>Dana</b>,Whitfield,415-555-0101,dana@example.com\n"
    "Lee,Park,not a number,\n"
    '=HYPERLINK("x"),Formula,4155550103,bad-address\n'
)


@pytest.fixture(autouse=True)
def _files(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "files")


def upload(client: Client, data: bytes, name: str = "clients.csv") -> Any:
    return client.post(
        reverse("contact_import_upload"), {"file": SimpleUploadedFile(name, data, "text/csv")}
    )


def test_the_contacts_page_offers_the_import(admin_client: Client) -> None:
    page = admin_client.get(reverse("contacts")).content.decode()
    assert reverse("contact_import_upload") in page


def test_upload_columns_progress_and_error_report(
    admin_client: Client,
    org: Organization,
    django_capture_on_commit_callbacks: Any,
) -> None:
    answer = upload(admin_client, CSV.encode())
    found = ContactImport.objects.get()
    assert answer.status_code == 302
    assert answer["Location"] == reverse("contact_import", args=[found.pk])

    page = admin_client.get(answer["Location"]).content.decode()
    # The preview shows what the file holds, as text.
    assert "&lt;b&gt;Dana&lt;/b&gt;" in page and "<b>Dana</b>" not in page
    assert '<option value="phone:mobile" selected>' in page

    with django_capture_on_commit_callbacks(execute=True):
        started = admin_client.post(
            answer["Location"],
            {"action": "start", "field": ["first_name", "last_name", "phone:mobile", "email"]},
        )
    assert started.status_code == 302
    found.refresh_from_db()
    assert found.status == ContactImportStatus.QUEUED
    waiting = admin_client.get(reverse("contact_import", args=[found.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in waiting and "Waiting to start" in waiting

    assert JobRunner(schedule=Schedule([])).run_until_idle() == 1

    fragment = admin_client.get(reverse("contact_import_progress", args=[found.pk]))
    text = fragment.content.decode()
    assert "hx-trigger" not in text  # done: the page stops asking
    assert 'value="100"' in text and "Done: 3 rows read" in text
    assert reverse("contact_import_errors", args=[found.pk]) in text
    dana = Contact.objects.get(organization=org)
    assert dana.name == "<b>Dana</b> Whitfield"
    card = admin_client.get(reverse("contact", args=[dana.pk])).content.decode()
    assert "&lt;b&gt;Dana&lt;/b&gt; Whitfield" in card

    report = admin_client.get(reverse("contact_import_errors", args=[found.pk]))
    assert report["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="clients-errors.csv"' in report["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(report.content.decode("utf-8-sig"))))
    assert rows[0] == ["row", "column", "reason"]
    assert [(r[0], r[1]) for r in rows[1:]] == [("3", "Cell"), ("4", "E-mail")]
    assert "'not a number' is not a phone number" in rows[1][2]
    assert rows[2][2] == "“bad-address” is not an e-mail address."


def test_a_bad_file_is_answered_on_the_upload_page(admin_client: Client) -> None:
    answer = upload(admin_client, b"", "empty.csv")
    assert answer.status_code == 422
    assert "The file is empty" in answer.content.decode()
    answer = upload(admin_client, b"Name,Phone\n", "header.csv")
    assert answer.status_code == 422 and "no contacts under them" in answer.content.decode()
    assert not ContactImport.objects.exists()


def test_a_file_over_the_limit_is_refused_with_the_limit(
    admin_client: Client, settings: Any
) -> None:
    settings.CONTACT_IMPORT_MAX_MB = 0.5
    answer = upload(admin_client, b"Name,Phone\n" + b"x,4155550101\n" * 100_000)
    assert answer.status_code == 413
    assert "an import takes at most 0.5 MB" in answer.content.decode()
    assert not ContactImport.objects.exists()


def test_a_mapping_without_phones_is_refused_and_keeps_the_choices(admin_client: Client) -> None:
    answer = upload(admin_client, CSV.encode())
    page = admin_client.post(
        answer["Location"], {"action": "start", "field": ["first_name", "last_name", "", "email"]}
    )
    assert page.status_code == 422
    text = page.content.decode()
    assert "Choose the column that holds the phone numbers" in text
    assert text.count('<option value="" selected>') == 1
    assert ContactImport.objects.get().status == ContactImportStatus.MAPPING


def test_cancel_drops_the_import_and_its_file(admin_client: Client, tmp_path: Path) -> None:
    answer = upload(admin_client, CSV.encode())
    assert admin_client.post(answer["Location"], {"action": "cancel"}).status_code == 302
    assert not ContactImport.objects.exists()
    assert not [p for p in (tmp_path / "files").rglob("*") if p.is_file()]


def test_only_contact_managers_of_the_organization_see_an_import(
    admin_client: Client, limited: Membership, other_org: Organization
) -> None:
    from tests.conftest import make_member

    answer = upload(admin_client, CSV.encode())
    url = answer["Location"]
    assert logged_in(limited).get(url).status_code == 403
    assert logged_in(limited).get(reverse("contact_import_upload")).status_code == 403
    stranger = logged_in(make_member(other_org, "boss@other.test", Role.ADMINISTRATIVE))
    assert stranger.get(url).status_code == 404
    found = ContactImport.objects.get()
    assert stranger.get(reverse("contact_import_errors", args=[found.pk])).status_code == 404
    assert stranger.get(reverse("contact_import_progress", args=[found.pk])).status_code == 404


def test_a_second_start_leaves_the_started_import_as_it_is(
    admin_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    answer = upload(admin_client, CSV.encode())
    fields = {"action": "start", "field": ["first_name", "last_name", "phone:mobile", "email"]}
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(answer["Location"], fields)
    for again in (fields, {"action": "cancel"}):
        assert admin_client.post(answer["Location"], again)["Location"] == answer["Location"]
    assert ContactImport.objects.get().status == ContactImportStatus.QUEUED
    assert DBTaskResult.objects.count() == 1  # one job, not two
