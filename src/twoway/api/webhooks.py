"""Webhook endpoints (administrators' keys): list, read, add, change, delete, rotate the secret.

The secret (`whsec_...`) is in the answer of the create and of the rotation only. What each
event's body holds is in docs/webhooks.md. No `from __future__ import annotations` here:
@paginate wraps the list view (see conversations.py).
"""

from datetime import datetime
from typing import Annotated, Literal

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Router
from ninja.pagination import paginate
from ninja.responses import Status

from twoway.api.auth import request_membership
from twoway.api.pagination import Pagination
from twoway.api.schemas import (
    ERROR_RESPONSES,
    ErrorOut,
    InputSchema,
    NulFree,
    OutputSchema,
    ValidationErrorOut,
    lengths,
)
from twoway.webhooks.access import access_webhook_endpoint
from twoway.webhooks.models import WebhookEndpoint
from twoway.webhooks.selectors import endpoints_list
from twoway.webhooks.services import (
    DESCRIPTION_MAX,
    URL_MAX,
    endpoint_create,
    endpoint_delete,
    endpoint_enable,
    endpoint_secret_rotate,
    endpoint_update,
)

router = Router(tags=["webhooks"])

# A URL that leads to a private address, or a host that cannot be found: 400 with the reason.
WRITE_ERRORS = {**ERROR_RESPONSES, 422: ValidationErrorOut | ErrorOut}

EventType = Literal[
    "message.received", "message.sent", "message.status", "contact.opted_out", "contact.opted_in"
]
Url = Annotated[NulFree, lengths(1, URL_MAX)]
Description = Annotated[NulFree, lengths(0, DESCRIPTION_MAX)]
URL_HELP = (
    "An http:// or https:// URL whose host resolves to public addresses only (unless the "
    "installation sets TWOWAY_WEBHOOKS_ALLOW_PRIVATE)."
)


class WebhookEndpointOut(OutputSchema):
    id: int
    url: str
    description: str
    event_types: list[str]
    enabled: bool
    disabled_reason: str = Field(description="Why it was disabled; empty while enabled.")
    previous_secret_expires_at: datetime | None = Field(
        description="Until when the secret replaced by the last rotation still signs beside "
        "the new one."
    )
    created_at: datetime


class WebhookEndpointWithSecret(WebhookEndpointOut):
    secret: str = Field(description="The signing secret, `whsec_` and base64: shown this once.")


class WebhookEndpointIn(InputSchema):
    url: Url = Field(description=URL_HELP)
    description: Description = ""
    event_types: list[EventType] = Field(min_length=1)


class WebhookEndpointPatch(InputSchema):
    url: Url | None = Field(None, description=URL_HELP)
    description: Description | None = None
    event_types: list[EventType] | None = Field(None, min_length=1)
    enabled: bool | None = Field(
        None, description="`true` sends what waited while it was disabled, in order."
    )


@router.get(
    "",
    response={200: list[WebhookEndpointOut], **ERROR_RESPONSES},
    operation_id="webhook_endpoint_list",
)
@paginate(Pagination)
def list_webhook_endpoints(request: HttpRequest) -> QuerySet[WebhookEndpoint]:
    return endpoints_list(request_membership(request))


@router.post(
    "",
    response={201: WebhookEndpointWithSecret, **WRITE_ERRORS},
    operation_id="webhook_endpoint_create",
)
def create_webhook_endpoint(request: HttpRequest, payload: WebhookEndpointIn) -> Status:
    endpoint = endpoint_create(
        actor=request_membership(request),
        url=payload.url,
        description=payload.description,
        event_types=payload.event_types,
    )
    return Status(201, endpoint)


@router.get(
    "/{endpoint_id}",
    response={200: WebhookEndpointOut, **ERROR_RESPONSES},
    operation_id="webhook_endpoint_get",
)
def get_webhook_endpoint(request: HttpRequest, endpoint_id: int) -> WebhookEndpoint:
    return access_webhook_endpoint(request_membership(request), endpoint_id)


@router.patch(
    "/{endpoint_id}",
    response={200: WebhookEndpointOut, **WRITE_ERRORS},
    operation_id="webhook_endpoint_update",
)
def update_webhook_endpoint(
    request: HttpRequest, endpoint_id: int, payload: WebhookEndpointPatch
) -> WebhookEndpoint:
    endpoint = access_webhook_endpoint(request_membership(request), endpoint_id)
    endpoint_update(
        endpoint=endpoint,
        url=payload.url,
        description=payload.description,
        event_types=payload.event_types,
    )
    if payload.enabled is not None:
        endpoint_enable(endpoint=endpoint, enabled=payload.enabled)
    return endpoint


@router.delete(
    "/{endpoint_id}",
    response={204: None, **ERROR_RESPONSES},
    operation_id="webhook_endpoint_delete",
)
def delete_webhook_endpoint(request: HttpRequest, endpoint_id: int) -> Status[None]:
    endpoint_delete(endpoint=access_webhook_endpoint(request_membership(request), endpoint_id))
    return Status(204, None)


@router.post(
    "/{endpoint_id}/rotate-secret",
    response={200: WebhookEndpointWithSecret, **ERROR_RESPONSES},
    operation_id="webhook_endpoint_rotate_secret",
)
def rotate_webhook_secret(request: HttpRequest, endpoint_id: int) -> WebhookEndpoint:
    """A new secret signs from now on; the previous one signs beside it for 24 hours (two
    signatures in `webhook-signature`), so a receiver can switch without missing an event."""
    endpoint = access_webhook_endpoint(request_membership(request), endpoint_id)
    return endpoint_secret_rotate(endpoint=endpoint)
