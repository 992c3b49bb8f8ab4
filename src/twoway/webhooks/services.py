"""Writes of outgoing webhooks: endpoints added, changed, removed, their secret rotated, and
deliveries sent again or as a test. Callers pass an endpoint from `access_webhook_endpoint`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from twoway.accounts.access import require_admin
from twoway.accounts.models import Membership
from twoway.core.errors import InvalidInput
from twoway.webhooks import event_types as types
from twoway.webhooks.addresses import url_check
from twoway.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from twoway.webhooks.recording import deliveries_enqueue, envelope
from twoway.webhooks.signing import secret_new

# How long a rotated secret keeps signing beside the new one.
ROTATION_OVERLAP = dt.timedelta(hours=24)
DESCRIPTION_MAX = 200
URL_MAX = 500


def _clean(url: str, description: str, event_types: Iterable[str]) -> tuple[str, str, list[str]]:
    url = url.strip()
    if not url:
        raise InvalidInput("Give the URL the events should be sent to.")
    if len(url) > URL_MAX:
        raise InvalidInput(f"The URL is longer than {URL_MAX} characters.")
    url_check(url)
    description = description.strip()
    if len(description) > DESCRIPTION_MAX:
        raise InvalidInput(f"The description is longer than {DESCRIPTION_MAX} characters.")
    chosen = list(dict.fromkeys(event_types))
    unknown = [t for t in chosen if t not in types.EVENT_TYPES]
    if unknown:
        raise InvalidInput(
            f"Unknown event type {unknown[0]!r}: choose from {', '.join(types.EVENT_TYPES)}."
        )
    if not chosen:
        raise InvalidInput("Choose at least one event type.")
    return url, description, [t for t in types.EVENT_TYPES if t in chosen]


@transaction.atomic
def endpoint_create(
    *, actor: Membership, url: str, description: str, event_types: Iterable[str]
) -> WebhookEndpoint:
    """A new endpoint with a new secret (`endpoint.secret`, for the caller to show once)."""
    require_admin(actor)
    url, description, chosen = _clean(url, description, event_types)
    return WebhookEndpoint.objects.create(
        organization_id=actor.organization_id,
        url=url,
        description=description,
        event_types=chosen,
        secret=secret_new(),
    )


@transaction.atomic
def endpoint_update(
    *,
    endpoint: WebhookEndpoint,
    url: str | None = None,
    description: str | None = None,
    event_types: Iterable[str] | None = None,
) -> WebhookEndpoint:
    url, description, chosen = _clean(
        endpoint.url if url is None else url,
        endpoint.description if description is None else description,
        endpoint.event_types if event_types is None else event_types,
    )
    endpoint.url, endpoint.description, endpoint.event_types = url, description, chosen
    endpoint.save(update_fields=["url", "description", "event_types"])
    return endpoint


@transaction.atomic
def endpoint_enable(*, endpoint: WebhookEndpoint, enabled: bool) -> WebhookEndpoint:
    """Enabled again, what waited for it goes out (each conversation's events in order)."""
    if endpoint.enabled == enabled:
        return endpoint
    endpoint.enabled = enabled
    endpoint.disabled_reason = "" if enabled else "Disabled by an administrator"
    endpoint.save(update_fields=["enabled", "disabled_reason"])
    if enabled:
        waiting = endpoint.deliveries.filter(status=DeliveryStatus.PENDING).order_by("id")
        waiting.update(next_attempt_at=timezone.now())
        deliveries_enqueue(list(waiting.values_list("id", flat=True)))
    return endpoint


def endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    endpoint.delete()


@transaction.atomic
def endpoint_secret_rotate(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """A new secret signs from now on; the one it replaces signs beside it for 24 hours."""
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = timezone.now() + ROTATION_OVERLAP
    endpoint.secret = secret_new()
    endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at"])
    return endpoint


@transaction.atomic
def delivery_resend(*, delivery: WebhookDelivery) -> None:
    """The same event (same body and webhook-id) tried once more now, whatever became of it."""
    if delivery.next_attempt_at is None:
        # In flight from now (the log shows it so); the try of a pending one is this one.
        WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    _force(delivery.pk)


@transaction.atomic
def endpoint_test_event_send(*, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """A `webhook.test` event to this endpoint alone, enabled or not, tried once now."""
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        event_type=types.TEST,
        body=envelope(types.TEST, {"endpoint_id": endpoint.pk, "message": "Hello from Twoway"}),
        status=DeliveryStatus.PENDING,
        next_attempt_at=timezone.now(),
    )
    _force(delivery.pk)
    return delivery


def _force(delivery_id: int) -> None:
    from twoway.webhooks.tasks import webhook_deliver_job

    webhook_deliver_job.enqueue(delivery_id, force=True)
