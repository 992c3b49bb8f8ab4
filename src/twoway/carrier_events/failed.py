"""Carrier events processing gave up on, for operators: listed, and handed back to the worker
once what made them fail is fixed."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet

from twoway.carrier_events.models import CarrierEvent
from twoway.realtime.wakeup import wake_worker


def failed_events(limit: int = 50) -> QuerySet[CarrierEvent]:
    """The failed events, newest first."""
    return CarrierEvent.objects.filter(failed_at__isnull=False).order_by("-failed_at", "-id")[
        :limit
    ]


def failed_events_retry(*, ids: Iterable[int]) -> int:
    """Hand failed events back to the worker as if just received; returns how many. Events
    that did not fail are left alone (one processed already must never be processed twice)."""
    count = CarrierEvent.objects.filter(pk__in=list(ids), failed_at__isnull=False).update(
        processed_at=None, failed_at=None, retry_at=None, attempts=0, error=""
    )
    if count:
        wake_worker(events=True)
    return count
