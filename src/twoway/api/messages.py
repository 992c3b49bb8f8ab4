"""POST /messages sends through the one send pipeline; GET /messages/{id} reads its status."""

from __future__ import annotations

from uuid import UUID

from django.http import HttpRequest
from ninja import Router
from ninja.responses import Status

from twoway.api.auth import request_membership
from twoway.api.schemas import ERROR_RESPONSES, MessageIn, MessageOut
from twoway.contacts.models import CreatedFrom
from twoway.conversations.access import access_message
from twoway.conversations.models import Category, Message
from twoway.core.errors import InvalidInput
from twoway.messaging.services import message_send
from twoway.numbers.access import access_phone_number

# by_alias: MessageOut writes its `from_` field as "from".
router = Router(tags=["messages"], by_alias=True)


@router.post("", response={201: MessageOut, **ERROR_RESPONSES}, operation_id="message_send")
def send_message(request: HttpRequest, payload: MessageIn) -> Status[Message]:
    """Queue a text to a contact; the contact is created if the number is new.

    The key acts as its owner: `from` must be a number they may use, they need "Send SMS to
    clients" (403 `no_sms_permission`), and a Limited user's key may only answer existing
    conversations (403 `cannot_initiate`). Opted-out contacts: 403 `opted_out` unless
    `confirm_opted_out` (never for marketing).
    """
    membership = request_membership(request)
    if payload.from_ is None and payload.category == Category.DIRECT:
        raise InvalidInput(
            "Say which of your numbers to text from (`from`).", code="sender_required"
        )
    message = message_send(
        phone_number=(
            access_phone_number(membership, payload.from_) if payload.from_ is not None else None
        ),
        organization=membership.organization,
        to=payload.to,
        body=payload.body,
        category=payload.category,
        membership=membership,
        confirm_opted_out=payload.confirm_opted_out,
        label="api",
        created_from=CreatedFrom.API,
    )
    return Status(201, message)


@router.get("/{uid}", response={200: MessageOut, **ERROR_RESPONSES}, operation_id="message_get")
def get_message(request: HttpRequest, uid: UUID) -> Message:
    """A message with its current delivery status."""
    return access_message(request_membership(request), uid)
