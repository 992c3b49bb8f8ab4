"""Carrier events pruned after their retention: processed ones only, failed ones kept."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from twoway.carrier_events.models import CarrierEvent, EventKind
from twoway.carrier_events.tasks import carrier_events_prune

pytestmark = pytest.mark.django_db


def event(name: str, *, age_days: float, processed: bool = True, failed: bool = False) -> int:
    at = timezone.now() - dt.timedelta(days=age_days)
    row = CarrierEvent.objects.create(
        carrier="simulator", kind=EventKind.INBOUND, dedupe_key=name, payload={"id": name}
    )
    fields: dict[str, Any] = {"received_at": at}
    if processed:
        fields["processed_at"] = at + dt.timedelta(seconds=1)
    if failed:
        fields.update(failed_at=at + dt.timedelta(seconds=1), error="no such number")
    CarrierEvent.objects.filter(pk=row.pk).update(**fields)
    return row.pk


def left() -> set[str]:
    return set(CarrierEvent.objects.values_list("dedupe_key", flat=True))


def test_processed_events_older_than_the_retention_are_deleted_in_batches(settings) -> None:
    settings.CARRIER_EVENTS_RETENTION_DAYS = 30
    for i in range(5):
        event(f"old-{i}", age_days=40 - i)
    event("old-failed", age_days=39.5, failed=True)
    event("old-waiting", age_days=35, processed=False)
    event("young", age_days=29)
    event("new", age_days=0)

    assert carrier_events_prune.call(batch_size=2) == 5

    assert left() == {"old-failed", "old-waiting", "young", "new"}
    assert carrier_events_prune.call(batch_size=2) == 0


def test_an_event_received_long_ago_but_processed_lately_is_kept(settings) -> None:
    settings.CARRIER_EVENTS_RETENTION_DAYS = 30
    pk = event("retried", age_days=40)
    CarrierEvent.objects.filter(pk=pk).update(processed_at=timezone.now() - dt.timedelta(days=2))

    assert carrier_events_prune.call() == 0
    assert left() == {"retried"}


def test_a_retention_of_zero_keeps_every_event(settings) -> None:
    settings.CARRIER_EVENTS_RETENTION_DAYS = 0
    event("ancient", age_days=4000)

    assert carrier_events_prune.call() == 0
    assert left() == {"ancient"}
