"""Background jobs of the contacts app."""

from __future__ import annotations

import logging

from django.db import InterfaceError, OperationalError

from twoway.contacts.imports import (
    contact_import_fail,
    contact_import_run,
    contact_imports_abandoned_prune,
)
from twoway.contacts.models import ContactImport
from twoway.jobs.tasks_api import JobFailed, job, job_progress

log = logging.getLogger(__name__)


def _progress(contact_import: ContactImport) -> None:
    job_progress(
        done=contact_import.bytes_done,
        total=contact_import.size,
        message=f"{contact_import.rows_done:,} rows of {contact_import.file_name}",
    )


@job
def contact_import_job(import_id: int) -> dict[str, int]:
    """Run a queued contact import; what it did, for the job's result."""
    try:
        done = contact_import_run(import_id, progress=_progress)
    except (OperationalError, InterfaceError):
        raise  # tried again, from the last batch committed
    except Exception as exc:
        # Anything else would fail the same way on every try: the import says it stopped.
        log.exception("Contact import %s stopped", import_id)
        found = ContactImport.objects.filter(pk=import_id).first()
        if found is not None:
            contact_import_fail(found, "The import stopped on an unexpected error; try again.")
        raise JobFailed(str(exc)) from exc
    return {
        "rows": done.rows_done,
        "created": done.created,
        "updated": done.updated,
        "unchanged": done.unchanged,
        "skipped": done.skipped,
    }


@job
def contact_imports_prune() -> int:
    """The periodic chore dropping uploads nobody went on to import; how many."""
    return contact_imports_abandoned_prune()


@job
def contact_export_job(export_id: int) -> int:
    """Write a requested contacts export; how many contacts it holds."""
    from twoway.contacts.exports import contact_export_run

    done = contact_export_run(
        export_id,
        progress=lambda export: job_progress(
            done=export.rows_done, total=export.total, message=f"{export.rows_done:,} contacts"
        ),
    )
    return done.rows_done
