"""Background jobs of the carrier events app."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from twoway.carrier_events.models import CarrierEvent
from twoway.jobs.pruning import DEFAULT_BATCH_SIZE, oldest_rows_delete
from twoway.jobs.tasks_api import job


@job
def carrier_events_prune(*, batch_size: int = DEFAULT_BATCH_SIZE) -> int:
    """Delete the carrier events processed more than `CARRIER_EVENTS_RETENTION_DAYS` ago (0:
    kept); how many. Failed ones stay for the operators' list, and so do those still waiting."""
    days = settings.CARRIER_EVENTS_RETENTION_DAYS
    if days <= 0:
        return 0
    before = timezone.now() - dt.timedelta(days=days)
    return oldest_rows_delete(
        CarrierEvent.objects.all(),
        age_field="received_at",
        before=before,
        deletable=Q(processed_at__lt=before, failed_at__isnull=True),
        batch_size=batch_size,
    )
