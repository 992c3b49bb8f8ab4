"""Deliveries recorded with the facts they report, in the same transaction.

The realtime writer (`events_publish`) and the consent ledger's writer (`consent_record`) call
in here; nothing else does, so each fact is reported once, whichever path produced it. A
delivery is a row and a job enqueued beside it: both commit with the fact or neither does, and
the worker's job runner sends it afterwards, so a text is never held up by an endpoint.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any

from django.utils import timezone

from twoway.core.rows import rows_insert
from twoway.realtime.events import DomainEvent, MessageCreated, MessageStatus
from twoway.webhooks import event_types as types
from twoway.webhooks.models import WebhookDelivery, WebhookEndpoint


def envelope(event_type: str, data: dict[str, Any]) -> str:
    """The exact body sent: what the signature covers, kept as it went out."""
    return json.dumps(
        {"type": event_type, "timestamp": timezone.now().isoformat(), "data": data},
        separators=(",", ":"),
        ensure_ascii=False,
    )


def _from_domain_event(event: DomainEvent) -> tuple[str, dict[str, Any]] | None:
    """The webhook event a realtime event reports, if any (a note, a queued text: none)."""
    if isinstance(event, MessageCreated):
        if event.direction != "in" or event.note:
            return None
        return types.MESSAGE_RECEIVED, {
            "message_id": event.message,
            "conversation_id": event.conversation_id,
            "contact": event.contact,
            "preview": event.preview,
        }
    if isinstance(event, MessageStatus):
        if event.status == "sent":
            event_type = types.MESSAGE_SENT
        elif event.status in types.REPORTED_STATUSES:
            event_type = types.MESSAGE_STATUS
        else:
            return None
        return event_type, {
            "message_id": event.message,
            "conversation_id": event.conversation_id,
            "status": event.status,
        }
    return None


def domain_events_record(events: Sequence[DomainEvent]) -> None:
    facts = []
    for event in events:
        found = _from_domain_event(event)
        if found is not None:
            facts.append((event.organization_id, event.conversation_id, *found))
    if facts:
        facts_record(facts)


def consent_change_record(
    *, organization_id: int, contact_id: int, opted_in: bool, source: str, phone_number: str
) -> None:
    """A contact opted out or back in (the consent ledger's entry)."""
    event_type = types.CONTACT_OPTED_IN if opted_in else types.CONTACT_OPTED_OUT
    data = {"contact_id": contact_id, "phone_number": phone_number, "source": source}
    facts_record([(organization_id, None, event_type, data)])


def facts_record(facts: Sequence[tuple[int, int | None, str, dict[str, Any]]]) -> None:
    """(organization, conversation, type, data) each to the enabled endpoints subscribed to
    its type. One read of the endpoints whatever the number of facts; none when no
    organization in them has an endpoint."""
    organizations = {organization_id for organization_id, *_ in facts}
    endpoints: dict[int, list[WebhookEndpoint]] = {}
    for endpoint in WebhookEndpoint.objects.filter(
        organization_id__in=organizations, enabled=True
    ).only("id", "organization_id", "event_types"):
        endpoints.setdefault(endpoint.organization_id, []).append(endpoint)
    if not endpoints:
        return
    rows = []
    for organization_id, conversation_id, event_type, data in facts:
        wanted = [e for e in endpoints.get(organization_id, ()) if event_type in e.event_types]
        if not wanted:
            continue
        body = envelope(event_type, data)
        for endpoint in wanted:
            rows.append(
                {
                    "endpoint_id": endpoint.pk,
                    "uid": uuid.uuid4(),
                    "event_type": event_type,
                    "conversation_id": conversation_id,
                    "body": body,
                    "next_attempt_at": timezone.now(),
                }
            )
    deliveries_enqueue(rows_insert(WebhookDelivery, rows, returning=True))


def deliveries_enqueue(delivery_ids: Sequence[int]) -> None:
    from twoway.webhooks.tasks import webhook_deliver_job

    for delivery_id in delivery_ids:
        webhook_deliver_job.enqueue(delivery_id)
