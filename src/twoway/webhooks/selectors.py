"""Reads of outgoing webhooks, always within one organization."""

from __future__ import annotations

from django.db.models import QuerySet

from twoway.accounts.access import require_admin
from twoway.accounts.models import Membership
from twoway.webhooks.models import WebhookDelivery, WebhookEndpoint

LOG_LENGTH = 50


def endpoints_list(membership: Membership) -> QuerySet[WebhookEndpoint]:
    require_admin(membership)
    return WebhookEndpoint.objects.filter(organization_id=membership.organization_id)


def deliveries_recent(endpoint: WebhookEndpoint) -> list[WebhookDelivery]:
    """The endpoint's latest deliveries, newest first, each with its tries."""
    return list(endpoint.deliveries.prefetch_related("attempt_log").order_by("-id")[:LOG_LENGTH])


def deliveries_in_flight(deliveries: list[WebhookDelivery]) -> bool:
    """Some delivery has a try to come (a first, a retry, a Resend): the log redraws itself."""
    return any(delivery.next_attempt_at is not None for delivery in deliveries)
