"""Drip campaigns applied to a conversation's contact, and an applied drip cancelled
(`drips.applying`); the same rules as the composer's droplet."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Router
from ninja.responses import Status
from pydantic import Field

from twoway.api.auth import request_membership
from twoway.api.schemas import (
    ERROR_RESPONSES,
    MAX_ID,
    ErrorOut,
    InputSchema,
    MessageOut,
    OutputSchema,
)
from twoway.conversations.access import access_conversation_reply
from twoway.drips.access import access_applied_drip, access_drip_campaign
from twoway.drips.applying import drip_apply, drip_cancel
from twoway.drips.models import AppliedDrip

router = Router(tags=["drips"], by_alias=True)


class DripApplyIn(InputSchema):
    campaign_id: int = Field(
        ge=1,
        le=MAX_ID,
        description="One of the organization's drip campaigns (GET /drip-campaigns).",
    )


class AppliedDripOut(OutputSchema):
    id: int
    conversation_id: int
    campaign_id: int | None = Field(description="None once the campaign was deleted.")
    campaign_name: str
    applied_at: datetime
    steps: list[MessageOut] = Field(
        description="Its steps' texts, in order: scheduled until sent, or cancelled."
    )


def _out(applied: AppliedDrip) -> AppliedDripOut:
    steps = [step.message for step in applied.steps.select_related("message").order_by("position")]
    return AppliedDripOut.model_validate(
        {
            "id": applied.pk,
            "conversation_id": applied.conversation_id,
            "campaign_id": applied.campaign_id,
            "campaign_name": applied.campaign_name,
            "applied_at": applied.applied_at,
            "steps": [MessageOut.model_validate(message) for message in steps],
        }
    )


@router.post(
    "/{conversation_id}/drips",
    response={201: AppliedDripOut, **ERROR_RESPONSES},
    operation_id="conversation_drip_apply",
)
def apply_drip(
    request: HttpRequest, conversation_id: int, payload: DripApplyIn
) -> Status[AppliedDripOut]:
    """Apply a drip campaign to the conversation's contact: every step is scheduled at once,
    each its delay after now, moved into the contact's quiet hours. Refused (403 `opted_out`)
    for a contact who opted out or whose possible opt-out waits for a decision. Any reply from
    the contact deletes the steps not sent yet."""
    membership = request_membership(request)
    conversation = access_conversation_reply(membership, conversation_id)
    campaign = access_drip_campaign(membership, payload.campaign_id)
    applied = drip_apply(membership=membership, conversation=conversation, campaign=campaign)
    return Status(201, _out(applied))


@router.post(
    "/{conversation_id}/drips/{applied_id}/cancel",
    # 409: a step was being sent as it was cancelled.
    response={200: AppliedDripOut, **ERROR_RESPONSES, 409: ErrorOut},
    operation_id="conversation_drip_cancel",
)
def cancel_drip(request: HttpRequest, conversation_id: int, applied_id: int) -> AppliedDripOut:
    """Cancel the steps of an applied drip not sent yet; they stay as `canceled`."""
    membership = request_membership(request)
    _, applied = access_applied_drip(membership, conversation_id, applied_id)
    drip_cancel(membership=membership, applied=applied)
    return _out(applied)
