"""Who may see and change webhook endpoints: an organization's administrators (the web UI and
their API keys), never another organization's."""

from __future__ import annotations

from twoway.accounts.access import require_admin
from twoway.accounts.models import Membership
from twoway.core.errors import NotFound
from twoway.webhooks.models import WebhookDelivery, WebhookEndpoint


def access_webhook_endpoint(membership: Membership, endpoint_id: int) -> WebhookEndpoint:
    require_admin(membership)
    endpoint = WebhookEndpoint.objects.filter(
        organization_id=membership.organization_id, pk=endpoint_id
    ).first()
    if endpoint is None:
        raise NotFound("That webhook endpoint does not exist.")
    return endpoint


def access_webhook_delivery(
    membership: Membership, endpoint_id: int, delivery_id: int
) -> WebhookDelivery:
    endpoint = access_webhook_endpoint(membership, endpoint_id)
    delivery = endpoint.deliveries.filter(pk=delivery_id).first()
    if delivery is None:
        raise NotFound("That delivery does not exist.")
    delivery.endpoint = endpoint
    return delivery
