"""Importing a CSV file of contacts: the upload is stored and looked at (`contact_import_create`),
its columns matched with fields (`contact_import_start`), then the rows are read a batch at a
time in the background (`contact_import_run`, the job of `contacts.tasks`), each batch written
and its progress and problems committed together. A run that was interrupted starts again after
the last batch it committed; and since an import only adds what contacts lack, a batch written
twice changes nothing the second time."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Iterator
from typing import IO

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.db.models import F
from django.utils import timezone

from twoway.accounts.models import Membership
from twoway.contacts.access import require_contacts_manager
from twoway.contacts.csv_files import NotContactsCsv, csv_facts, csv_preview, csv_records
from twoway.contacts.import_columns import Column, mapping_check, mapping_guess
from twoway.contacts.import_rows import Problem, RowReader, RowValues
from twoway.contacts.models import (
    ContactGroup,
    ContactImport,
    ContactImportProblem,
    ContactImportStatus,
    CustomField,
)
from twoway.contacts.services.imported import contacts_import_batch
from twoway.core.errors import InvalidInput

# Rows written together: big enough that the statements per row are few, small enough that a
# batch holds SQLite's write lock for a fraction of a second.
BATCH_ROWS = 1000
REASON_MAX_LENGTH = 1000
# An upload whose columns were never matched is dropped after this (the housekeeping chore).
ABANDONED_AFTER = dt.timedelta(days=1)
# A batch another writer beat to a new number (a text from it, another import) is read again.
_BATCH_TRIES = 3


def max_bytes() -> int:
    return int(settings.CONTACT_IMPORT_MAX_MB * 1024 * 1024)


def size_problem(size: int) -> str:
    """Why a file this big is refused, or ""."""
    if size <= max_bytes():
        return ""
    return (
        f"The file is {size / 1024 / 1024:,.1f} MB; an import takes at most "
        f"{settings.CONTACT_IMPORT_MAX_MB:g} MB. Split it into smaller files and import each."
    )


def _custom_fields(organization_id: int) -> list[CustomField]:
    return list(CustomField.objects.filter(organization_id=organization_id).order_by("pk"))


def contact_import_create(
    *, membership: Membership, file_name: str, content: IO[bytes], size: int
) -> ContactImport:
    """Keep the file and look at it: a new import waiting for its columns to be matched, or
    `InvalidInput` saying why the file cannot be imported (nothing is kept then)."""
    require_contacts_manager(membership)
    if problem := size_problem(size):
        raise InvalidInput(problem, code="file_too_large")
    if size == 0:
        raise NotContactsCsv("The file is empty: there is nothing to import.")
    organization_id = membership.organization_id
    stored = default_storage.save(
        f"contact-imports/{organization_id}/{secrets.token_hex(16)}.csv", File(content)
    )
    try:
        # What was kept, not what was announced, is what the limit and the progress go by.
        size = default_storage.size(stored)
        if problem := size_problem(size):
            raise InvalidInput(problem, code="file_too_large")
        with default_storage.open(stored, "rb") as kept:
            facts = csv_facts(kept)
        return ContactImport.objects.create(
            organization_id=organization_id,
            created_by=membership,
            file_name=file_name[:255],
            stored_name=stored,
            size=size,
            encoding=facts.encoding,
            delimiter=facts.delimiter,
            columns=facts.columns,
            mapping=mapping_guess(facts.columns, _custom_fields(organization_id)),
        )
    except BaseException:
        default_storage.delete(stored)
        raise


def contact_import_preview(contact_import: ContactImport) -> list[list[str]]:
    """The first rows of a file waiting for its columns to be matched."""
    if not contact_import.stored_name:
        return []
    with default_storage.open(contact_import.stored_name, "rb") as kept:
        return csv_preview(
            kept, contact_import.encoding, contact_import.delimiter, len(contact_import.columns)
        )


def contact_import_start(
    *,
    membership: Membership,
    contact_import: ContactImport,
    mapping: list[str],
    background: bool = True,
) -> None:
    """Check the columns chosen and queue the import: for the job runner once committed, or,
    with `background` False, for the caller to run (`contact_import_run`, the command line)."""
    require_contacts_manager(membership)
    if contact_import.status != ContactImportStatus.MAPPING:
        raise InvalidInput("This import has started already.", code="import_started")
    mapping_check(contact_import.columns, mapping, _custom_fields(contact_import.organization_id))
    contact_import.mapping = mapping
    contact_import.status = ContactImportStatus.QUEUED
    contact_import.save(update_fields=["mapping", "status"])
    if background:
        from twoway.contacts.tasks import contact_import_job

        pk = contact_import.pk
        transaction.on_commit(lambda: contact_import_job.enqueue(pk))


def contact_import_cancel(*, membership: Membership, contact_import: ContactImport) -> None:
    """Drop an import whose columns were not matched yet, and its file."""
    require_contacts_manager(membership)
    if contact_import.status != ContactImportStatus.MAPPING:
        raise InvalidInput("This import has started already.", code="import_started")
    _forget_file(contact_import)
    contact_import.delete()


def contact_imports_abandoned_prune(*, older_than: dt.timedelta = ABANDONED_AFTER) -> int:
    """Drop the imports whose columns nobody matched within a day, and their files."""
    abandoned = ContactImport.objects.filter(
        status=ContactImportStatus.MAPPING, created_at__lt=timezone.now() - older_than
    )
    count = 0
    for contact_import in abandoned.iterator():
        _forget_file(contact_import)
        contact_import.delete()
        count += 1
    return count


def _forget_file(contact_import: ContactImport) -> None:
    if contact_import.stored_name:
        default_storage.delete(contact_import.stored_name)
        contact_import.stored_name = ""


def contact_import_fail(contact_import: ContactImport, error: str) -> None:
    """The import stopped for good: say why, and let its file go."""
    _finish(contact_import, ContactImportStatus.FAILED, error)


def _finish(contact_import: ContactImport, status: str, error: str = "") -> None:
    _forget_file(contact_import)
    contact_import.status = status
    contact_import.error = error[:500]
    contact_import.finished_at = timezone.now()
    contact_import.save(update_fields=["stored_name", "status", "error", "finished_at"])


class _Batch:
    def __init__(self) -> None:
        self.values: list[RowValues] = []
        self.problems: list[Problem] = []
        self.rows = 0
        self.skipped = 0
        self.offset = 0


def _batches(
    contact_import: ContactImport, stream: IO[bytes], reader: RowReader
) -> Iterator[_Batch]:
    """The rows after those already committed, read and checked, a batch at a time."""
    committed = contact_import.rows_done
    batch = _Batch()
    for n, record in enumerate(
        csv_records(stream, contact_import.encoding, contact_import.delimiter)
    ):
        if n < committed:
            continue
        batch.rows += 1
        batch.offset = record.offset
        read = reader.read(record)
        if isinstance(read, RowValues):
            batch.values.append(read)
        elif read:
            batch.problems += read
            batch.skipped += 1
        if batch.rows == BATCH_ROWS:
            yield batch
            batch = _Batch()
    batch.offset = contact_import.size
    yield batch


def _write_batch(contact_import: ContactImport, batch: _Batch, ledger_text: str) -> None:
    for attempt in range(1, _BATCH_TRIES + 1):
        try:
            with transaction.atomic():
                outcome = contacts_import_batch(
                    organization=contact_import.organization,
                    rows=batch.values,
                    ledger_text=ledger_text,
                    actor=contact_import.created_by.user.email if contact_import.created_by else "",
                )
                problems = batch.problems + [
                    Problem(row, "", reason) for row, reason in outcome.conflicts
                ]
                ContactImportProblem.objects.bulk_create(
                    ContactImportProblem(
                        contact_import=contact_import,
                        row=problem.row,
                        column=problem.column[:255],
                        reason=problem.reason[:REASON_MAX_LENGTH],
                    )
                    for problem in problems
                )
                counts = {
                    "rows_done": batch.rows,
                    "created": outcome.created,
                    "updated": outcome.updated,
                    "unchanged": outcome.unchanged,
                    "skipped": batch.skipped + len(outcome.conflicts),
                    "opted_out": outcome.opted_out,
                }
                ContactImport.objects.filter(pk=contact_import.pk).update(
                    bytes_done=batch.offset,
                    **{name: F(name) + value for name, value in counts.items()},
                )
            break
        except IntegrityError:
            if attempt == _BATCH_TRIES:
                raise
    contact_import.refresh_from_db()


def contact_import_run(
    import_id: int, *, progress: Callable[[ContactImport], None] | None = None
) -> ContactImport:
    """Import the rows of a queued import (again after the last batch committed, when a run
    was interrupted), then let its file go. `progress` hears after each batch."""
    contact_import = ContactImport.objects.select_related("organization", "created_by__user").get(
        pk=import_id
    )
    if contact_import.is_finished or contact_import.status == ContactImportStatus.MAPPING:
        return contact_import
    if contact_import.status == ContactImportStatus.QUEUED:
        contact_import.status = ContactImportStatus.RUNNING
        contact_import.save(update_fields=["status"])
    organization = contact_import.organization
    fields = _custom_fields(organization.pk)
    try:
        columns: list[Column] = mapping_check(
            contact_import.columns, contact_import.mapping, fields
        )
    except InvalidInput as exc:
        _finish(contact_import, ContactImportStatus.FAILED, exc.message)
        return contact_import
    reader = RowReader(
        columns=columns,
        header_width=len(contact_import.columns),
        region=organization.country,
        groups=ContactGroup.objects.filter(organization=organization),
        custom_fields=fields,
    )
    who = contact_import.created_by.user.email if contact_import.created_by else "someone"
    ledger_text = f"Imported from {contact_import.file_name} by {who}"
    try:
        with default_storage.open(contact_import.stored_name, "rb") as kept:
            for batch in _batches(contact_import, kept, reader):
                _write_batch(contact_import, batch, ledger_text)
                if progress is not None:
                    progress(contact_import)
    except (OperationalError, InterfaceError):
        raise  # the database went away: the job is tried again, from the last batch
    except FileNotFoundError:
        _finish(contact_import, ContactImportStatus.FAILED, "The uploaded file is gone.")
        return contact_import
    _finish(contact_import, ContactImportStatus.DONE)
    return contact_import
