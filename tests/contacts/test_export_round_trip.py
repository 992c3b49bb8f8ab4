"""A contacts export imported back gives the same contacts: into a fresh organization with the
same groups and custom fields, and into the same organization, where it changes nothing."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import default_storage

from tests.conftest import make_member
from twoway.accounts.models import Membership, Organization, Role
from twoway.contacts.exports import contact_export_run, contact_export_start
from twoway.contacts.import_columns import mapping_guess
from twoway.contacts.imports import contact_import_create, contact_import_run, contact_import_start
from twoway.contacts.lookup import ContactFilters
from twoway.contacts.models import (
    Contact,
    ContactGroup,
    ContactImport,
    CustomField,
    phones_in_order,
)
from twoway.contacts.services import ContactChanges, contact_create
from twoway.contacts.validation import PhoneInput
from twoway.core.text import csv_cell, csv_cell_read

pytestmark = pytest.mark.django_db

GROUPS = ["VIP", "Whitening, 2026", "Recall"]
FIELDS = [("Visits", "number", []), ("Birthday", "date", []), ("Plan", "choice", ["Gold", "+1"])]


@pytest.fixture(autouse=True)
def _files(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "files")


def with_fields(org: Organization) -> None:
    for name in GROUPS:
        ContactGroup.objects.create(organization=org, name=name)
    for name, kind, options in FIELDS:
        CustomField.objects.create(organization=org, name=name, kind=kind, options=options)


def add_contacts(org: Organization, by: Membership, count: int) -> None:
    for n in range(count):
        contact_create(
            organization=org,
            created_by=by,
            changes=ContactChanges(
                first_name=f"=Dana{n}" if n == 0 else f"Dana{n}",
                last_name=f"O'Neil-{n}",
                email=f"dana{n}@example.com",
                external_uid=f"+uid-{n}" if n % 2 else f"uid-{n}",
                client_id=f"-{n}" if n == 1 else f"C{n}",
                client_type="Patient" if n % 2 else "@lead",
                home_location="Downtown" if n % 2 else "",
                time_zone="America/Chicago" if n % 3 else "",
                phones=[
                    PhoneInput(f"+1202555{n:04d}", label="work: desk" if n == 2 else "work"),
                    PhoneInput(f"+1303555{n:04d}", label="", primary=True),
                    *([PhoneInput(f"+1404555{n:04d}", label="home")] if n % 2 else []),
                ],
                groups=GROUPS[: n % 4],
                custom_fields={
                    "Visits": str(n),
                    "Birthday": f"1990-01-{n % 28 + 1:02d}" if n % 2 else "",
                    "Plan": "+1" if n % 2 else "Gold",
                },
                opted_out=n % 3 == 0,
            ),
        )


def everything(org: Organization) -> dict[str, tuple[object, ...]]:
    """Every field an export carries of each contact, by e-mail."""
    contacts = Contact.objects.filter(organization=org).prefetch_related(
        "phones", "groups", "custom_values__field"
    )
    return {
        contact.email: (
            contact.first_name,
            contact.last_name,
            contact.name,
            contact.external_uid,
            contact.client_id,
            contact.client_type,
            contact.home_location,
            contact.time_zone,
            contact.opt_in_status,
            [(p.number, p.label) for p in phones_in_order(contact.phones.all())],
            sorted(group.name for group in contact.groups.all()),
            sorted((value.field.name, value.value) for value in contact.custom_values.all()),
        )
        for contact in contacts
    }


def exported(by: Membership) -> bytes:
    export = contact_export_run(contact_export_start(by, ContactFilters()).pk)
    with default_storage.open(export.stored_name, "rb") as written:
        return written.read()


def imported(by: Membership, data: bytes) -> ContactImport:
    started = contact_import_create(
        membership=by, file_name="contacts.csv", content=io.BytesIO(data), size=len(data)
    )
    contact_import_start(
        membership=by, contact_import=started, mapping=started.mapping, background=False
    )
    return contact_import_run(started.pk)


def test_an_export_imported_into_a_fresh_organization_gives_the_same_contacts(
    org: Organization, admin: Membership, other_org: Organization
) -> None:
    with_fields(org)
    add_contacts(org, admin, 12)
    data = exported(admin)
    with_fields(other_org)
    other_admin = make_member(other_org, "admin@other.test", Role.ADMINISTRATIVE)

    done = imported(other_admin, data)

    assert list(done.problems.values_list("row", "reason")) == []
    assert (done.created, done.skipped) == (12, 0)
    assert everything(other_org) == everything(org)
    assert len(everything(org)) == 12


def test_an_export_imported_into_its_own_organization_changes_nothing(
    org: Organization, admin: Membership
) -> None:
    with_fields(org)
    add_contacts(org, admin, 6)
    before = everything(org)

    done = imported(admin, exported(admin))

    assert (done.created, done.updated, done.unchanged, done.skipped) == (0, 0, 6, 0)
    assert everything(org) == before


def test_the_exports_own_headers_are_guessed(org: Organization) -> None:
    with_fields(org)
    header = [
        "First name", "Last name", "Name", "Phones", "E-mail", "External UID", "Client ID",
        "Client type", "Groups", "Home location", "Time zone", "Opt-in", "Consent",
        "Created from", "First texted at", "Created at", "Visits",
    ]  # fmt: skip
    visits = CustomField.objects.get(organization=org, name="Visits")

    assert mapping_guess(header, CustomField.objects.filter(organization=org)) == [
        "first_name", "last_name", "", "phone", "email", "external_uid", "client_id",
        "client_type", "groups", "home_location", "time_zone", "opt_in", "", "", "", "",
        f"custom:{visits.pk}",
    ]  # fmt: skip


@pytest.mark.parametrize("text", ["=1+1", "+1 202", "-3", "@sum", "\tx", "'quoted", "'", "O'Neil"])
def test_reading_a_cell_undoes_exactly_what_the_formula_guard_added(text: str) -> None:
    assert csv_cell_read(csv_cell(text)) == text


def test_a_quote_the_guard_did_not_add_is_kept() -> None:
    assert csv_cell_read("'abc") == "'abc"
    assert csv_cell_read("''=x") == "''=x"


def test_several_labelled_phones_in_one_cell(org: Organization, admin: Membership) -> None:
    done = imported(
        admin,
        b"Name,Phones\n"
        b'Lee Park,"work: +1 202-555-0141; (202) 555-0142;  cell phone : 2025550143"\n',
    )

    assert done.created == 1
    contact = Contact.objects.get(organization=org)
    assert [(p.number, p.label) for p in phones_in_order(contact.phones.all())] == [
        ("+12025550141", "work"),
        ("+12025550142", ""),
        ("+12025550143", "cell phone"),
    ]


def test_an_opt_in_column_takes_only_the_statuses(org: Organization, admin: Membership) -> None:
    done = imported(
        admin,
        b"Phone,Opt-in\n2025550141,Opted out\n2025550142,Opted in\n2025550143,yes\n",
    )

    assert (done.created, done.opted_out, done.skipped) == (2, 1, 1)
    assert list(done.problems.values_list("row", "column", "reason")) == [
        (
            4,
            "Opt-in",
            "“yes” is neither Opted in nor Opted out. For a yes or no, match the column with "
            "Opted out.",
        )
    ]
    statuses = dict(
        Contact.objects.filter(organization=org).values_list("phones__number", "opt_in_status")
    )
    assert statuses == {"+12025550141": "opted_out", "+12025550142": "opted_in"}
