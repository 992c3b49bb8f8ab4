"""Background jobs of the realtime app."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone

from twoway.jobs.pruning import DEFAULT_BATCH_SIZE, oldest_rows_delete
from twoway.jobs.tasks_api import job
from twoway.realtime.models import RealtimeEvent


@job
def realtime_events_prune(*, batch_size: int = DEFAULT_BATCH_SIZE) -> int:
    """Delete the realtime events older than `REALTIME_EVENTS_RETENTION_HOURS` (0: kept); how
    many. An open inbox reads events only from the last one it saw, a reconnecting one (SSE
    Last-Event-ID) from the one before it dropped: seconds or minutes old, rarely hours."""
    hours = settings.REALTIME_EVENTS_RETENTION_HOURS
    if hours <= 0:
        return 0
    return oldest_rows_delete(
        RealtimeEvent.objects.all(),
        age_field="created_at",
        before=timezone.now() - dt.timedelta(hours=hours),
        batch_size=batch_size,
    )
