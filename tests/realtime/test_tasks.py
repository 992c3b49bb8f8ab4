"""Realtime events pruned after their retention: hours, far more than a reconnect needs."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from twoway.accounts.models import Organization
from twoway.realtime.models import RealtimeEvent
from twoway.realtime.tasks import realtime_events_prune

pytestmark = pytest.mark.django_db


def published(org: Organization, *, age_hours: float) -> int:
    event = RealtimeEvent.objects.create(
        organization=org, kind="message.created", conversation_id=1
    )
    RealtimeEvent.objects.filter(pk=event.pk).update(
        created_at=timezone.now() - dt.timedelta(hours=age_hours)
    )
    return event.pk


def test_events_older_than_the_retention_are_deleted_in_batches(
    org: Organization, settings
) -> None:
    settings.REALTIME_EVENTS_RETENTION_HOURS = 24
    for age in (50, 40, 30, 26, 25):
        published(org, age_hours=age)
    young = [published(org, age_hours=23), published(org, age_hours=0)]

    assert realtime_events_prune.call(batch_size=2) == 5

    assert list(RealtimeEvent.objects.order_by("pk").values_list("pk", flat=True)) == young
