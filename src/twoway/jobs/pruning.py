"""Deleting old rows of a big table a batch at a time, for the retention chores."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import Model, Q, QuerySet

from twoway.jobs.tasks_api import job_progress

DEFAULT_BATCH_SIZE = 1000


def oldest_rows_delete(
    rows: QuerySet[Any],
    *,
    age_field: str,
    before: dt.datetime,
    deletable: Q | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> int:
    """Delete the rows written before `before` (by `age_field`) that match `deletable`; returns
    how many.

    Rows are read in primary-key order, the order they were written in, `batch_size` at a time
    through the key's index, and each batch is deleted in a transaction of its own: a big table
    is neither scanned whole nor held in one long transaction. The pass ends at the first row
    written at or after `before`. Rows kept among the old ones (`deletable` false) are read again
    by every pass, so they should be few.
    """
    model: type[Model] = rows.model
    deleted = 0
    after: Any = None
    while True:
        page = rows.order_by("pk")
        if after is not None:
            page = page.filter(pk__gt=after)
        batch = list(page.values_list("pk", age_field)[:batch_size])
        old = [pk for pk, written in batch if written is not None and written < before]
        if old:
            with transaction.atomic():
                doomed = model._default_manager.filter(pk__in=old)
                if deletable is not None:
                    doomed = doomed.filter(deletable)
                _, per_model = doomed.delete()
            deleted += per_model.get(model._meta.label, 0)
            job_progress(done=deleted, message=f"{model._meta.verbose_name_plural} deleted")
        if len(batch) < batch_size or len(old) < len(batch):
            return deleted
        after = batch[-1][0]
