"""Contacts exported to CSV in the background: what the table shows (its search and filters),
every field a column, formulas written as text, only for the one who asked."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from tests.conftest import logged_in, make_member
from twoway.accounts.models import Membership, Organization, Role
from twoway.contacts.models import (
    Contact,
    ContactExport,
    ContactGroup,
    ContactPhone,
    CustomField,
    CustomFieldValue,
)
from twoway.jobs.runner import JobRunner
from twoway.jobs.schedule import Schedule

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _files(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "files")


@pytest.fixture
def clients(org: Organization) -> dict[str, Contact]:
    vip = ContactGroup.objects.create(organization=org, name="VIP")
    tier = CustomField.objects.create(organization=org, name="Tier", kind="text")
    dana = Contact.objects.create(
        organization=org,
        name="Dana Whitfield",
        first_name="Dana",
        last_name="Whitfield",
        email="dana@example.com",
        client_type="Patient",
        home_location="Lyon",
    )
    dana.groups.add(vip)
    ContactPhone.objects.create(organization=org, contact=dana, number="+14155550101")
    ContactPhone.objects.create(
        organization=org, contact=dana, number="+14155550102", label="work", is_primary=True
    )
    CustomFieldValue.objects.create(contact=dana, field=tier, value="Gold")
    evil = Contact.objects.create(
        organization=org,
        name='=HYPERLINK("http://x")',
        first_name='=HYPERLINK("http://x")',
        client_type="Supplier",
    )
    return {"dana": dana, "evil": evil}


def _export(client: Client, **filters: str) -> tuple[ContactExport, list[list[str]]]:
    response = client.post("/contacts/export/", filters, HTTP_HX_REQUEST="true")
    assert response.status_code == 204, response.content
    export = ContactExport.objects.latest("pk")
    assert response["HX-Redirect"] == f"/contacts/export/{export.pk}/"
    assert "Waiting to start" in client.get(response["HX-Redirect"]).content.decode()
    assert JobRunner(schedule=Schedule([])).run_until_idle() == 1
    page = client.get(f"/contacts/export/{export.pk}/progress/").content.decode()
    assert "Download the CSV file" in page
    download = client.get(f"/contacts/export/{export.pk}/download/")
    assert download["Content-Disposition"].startswith('attachment; filename="contacts-')
    text = b"".join(download.streaming_content).decode("utf-8-sig")
    export.refresh_from_db()
    return export, list(csv.reader(io.StringIO(text)))


def test_every_field_a_column_and_formulas_as_text(
    admin_client: Client, clients: dict[str, Contact]
) -> None:
    export, rows = _export(admin_client)
    header, *lines = rows
    assert header[:4] == ["First name", "Last name", "Name", "Phones"] and header[-1] == "Tier"
    by_name = {line[2]: dict(zip(header, line, strict=True)) for line in lines}
    dana = by_name["Dana Whitfield"]
    assert dana["Phones"] == "work: +14155550102; +14155550101"  # the primary first
    assert (dana["Groups"], dana["Tier"], dana["Client type"]) == ("VIP", "Gold", "Patient")
    assert dana["E-mail"] == "dana@example.com" and dana["Home location"] == "Lyon"
    assert '\'=HYPERLINK("http://x")' in by_name  # never run by a spreadsheet
    assert export.rows_done == export.total == 2


def test_the_table_filters_are_exported(admin_client: Client, clients: dict[str, Contact]) -> None:
    _, rows = _export(admin_client, client_type="Patient")
    assert [line[2] for line in rows[1:]] == ["Dana Whitfield"]
    _, rows = _export(admin_client, q="nobody at all")
    assert rows[1:] == []


def test_an_export_is_only_for_the_one_who_asked(
    admin: Membership, org: Organization, other_org: Organization, clients: dict[str, Contact]
) -> None:
    mine = logged_in(admin)
    export, _ = _export(mine)
    colleague = logged_in(make_member(org, "colleague@acme.test", Role.ADMINISTRATIVE))
    outsider = logged_in(make_member(other_org, "boss@other.test", Role.ADMINISTRATIVE))
    limited = logged_in(make_member(org, "limited@acme.test", Role.LIMITED))
    for client in (colleague, outsider):
        for suffix in ("", "progress/", "download/"):
            assert client.get(f"/contacts/export/{export.pk}/{suffix}").status_code == 404
    assert limited.post("/contacts/export/", {}).status_code == 403
    assert limited.get(f"/contacts/export/{export.pk}/").status_code == 403
