"""Contacts exported to CSV in the background: those the contacts table showed the person who
asked (its search and filters, kept as its query string), every field a column and each custom
field one more, written a batch at a time to the storage for them to download. Cells that a
spreadsheet would run as a formula are written as text (`core.text.csv_cell`).
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from django.core.files import File
from django.core.files.storage import default_storage
from django.db.models import QuerySet
from django.utils import timezone

from twoway.accounts.models import Membership
from twoway.contacts.lookup import ContactFilters, contacts_filtered
from twoway.contacts.models import (
    Contact,
    ContactExport,
    ContactExportStatus,
    CustomField,
    phones_in_order,
)
from twoway.core.text import csv_cell

# Contacts read (with their phones, groups and custom values) and written per step.
EXPORT_BATCH = 2000

FIXED_COLUMNS = [
    "First name",
    "Last name",
    "Name",
    "Phones",
    "E-mail",
    "External UID",
    "Client ID",
    "Client type",
    "Groups",
    "Home location",
    "Time zone",
    "Opt-in",
    "Consent",
    "Created from",
    "First texted at",
    "Created at",
]


def contact_export_start(membership: Membership, filters: ContactFilters) -> ContactExport:
    """An export of what the table shows `membership` with `filters`, queued for the job."""
    from twoway.contacts.tasks import contact_export_job

    export = ContactExport.objects.create(
        organization_id=membership.organization_id,
        created_by=membership,
        query=filters.as_params(),
        total=contacts_filtered(membership, filters).count(),
    )
    contact_export_job.enqueue(export.pk)
    return export


def contact_export_run(
    export_id: int, *, progress: Callable[[ContactExport], None] | None = None
) -> ContactExport:
    """Write the export's file; its rows counted after each batch."""
    export = ContactExport.objects.select_related("created_by__organization").get(pk=export_id)
    membership = export.created_by
    if membership is None:  # its requester left: nobody to show it to
        return _finish(export, error="The person who asked for it is no longer a member.")
    export.status = ContactExportStatus.RUNNING
    export.rows_done = 0
    export.save(update_fields=["status", "rows_done"])
    contacts = contacts_filtered(membership, ContactFilters.from_params(export.query))
    fields = list(CustomField.objects.filter(organization_id=export.organization_id).order_by("pk"))
    # A file on disk, not in memory, however many contacts; "utf-8-sig" writes the BOM without
    # which Excel does not read the file as UTF-8 (names with accents).
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "contacts.csv"
        with path.open("w", encoding="utf-8-sig", newline="") as out:
            writer = csv.writer(out)
            header = [*FIXED_COLUMNS, *(field.name for field in fields)]
            writer.writerow([csv_cell(name) for name in header])
            for batch in _batches(contacts):
                for contact in batch:
                    writer.writerow([csv_cell(value) for value in _row(contact, fields)])
                export.rows_done += len(batch)
                export.save(update_fields=["rows_done"])
                if progress is not None:
                    progress(export)
        with path.open("rb") as written:
            export.stored_name = default_storage.save(
                f"exports/contacts-{export.pk}.csv", File(written)
            )
    return _finish(export)


def _finish(export: ContactExport, *, error: str = "") -> ContactExport:
    export.status = ContactExportStatus.FAILED if error else ContactExportStatus.DONE
    export.error = error
    export.finished_at = timezone.now()
    export.save(update_fields=["status", "error", "finished_at", "stored_name"])
    return export


def _batches(contacts: QuerySet[Contact]) -> Iterator[list[Contact]]:
    """The contacts in id order, a batch at a time, each read with what its row shows."""
    after = 0
    while True:
        batch = list(
            contacts.filter(pk__gt=after)
            .prefetch_related("phones", "groups", "custom_values")
            .order_by("pk")[:EXPORT_BATCH]
        )
        if not batch:
            return
        yield batch
        after = batch[-1].pk


def _row(contact: Contact, fields: list[CustomField]) -> list[str]:
    phones = "; ".join(
        f"{phone.label}: {phone.number}" if phone.label else phone.number
        for phone in phones_in_order(contact.phones.all())
    )
    values = {value.field_id: value.value for value in contact.custom_values.all()}
    return [
        contact.first_name,
        contact.last_name,
        contact.name,
        phones,
        contact.email,
        contact.external_uid,
        contact.client_id,
        contact.client_type,
        "; ".join(sorted(group.name for group in contact.groups.all())),
        contact.home_location,
        contact.time_zone,
        contact.get_opt_in_status_display(),
        contact.get_consent_status_display(),
        contact.get_created_from_display(),
        contact.lead_texted_at.isoformat() if contact.lead_texted_at else "",
        contact.created_at.isoformat(),
        *(values.get(field.pk, "") for field in fields),
    ]
