"""A drip campaign applied to a conversation's contact: every step scheduled at once as a
scheduled text (`messaging.scheduling` sends them at their time), each moved into the contact's
quiet hours (`messaging.quiet_hours`); and a whole applied drip cancelled."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from twoway.accounts.models import Membership
from twoway.canned.merge_fields import merge_fields_fill
from twoway.contacts.models import Contact
from twoway.conversations.models import Category, Conversation, Status
from twoway.core.errors import InvalidInput, PermissionDenied
from twoway.drips.models import AppliedDrip, AppliedDripStep, DripCampaign, DripStep
from twoway.messaging.quiet_hours import automated_send_time
from twoway.messaging.scheduling import scheduled_cancel
from twoway.messaging.services import OptedOutError, message_send

# What the thread shows as the sender of a step; `sent_by_label` holds at most 60 characters.
LABEL_MAX_LENGTH = 60


def drip_label(name: str, position: int, total: int) -> str:
    """“Drip: Welcome, step 2 of 3”, the name shortened when it would not fit."""
    tail = f", step {position} of {total}"
    room = LABEL_MAX_LENGTH - len("Drip: ") - len(tail)
    if len(name) > room:
        name = name[: room - 1] + "…"
    return f"Drip: {name}{tail}"


def drip_refusal(contact: Contact, who: str) -> str:
    """Why no drip may be applied to this contact now; empty when one may."""
    if contact.is_opted_out:
        return f"{who} has opted out of texts; drip campaigns are not applied to them."
    if contact.opt_out_flagged_at is not None:
        return (
            f"{who} may have asked to stop texts: their possible opt-out waits for a decision "
            "(Possible opt-outs). Decide it before applying a drip campaign."
        )
    return ""


def drips_permission_refusal(membership: Membership) -> str:
    """Why this person may not apply drip campaigns; empty when they may."""
    if not membership.organization.drips_enabled:
        return (
            "Drip campaigns are switched off for this organization: an administrator can switch "
            "them on in Settings, Organization."
        )
    if not membership.can_use_drips:
        return (
            "Your account may not apply drip campaigns: ask an administrator to tick “Apply "
            "drip campaigns” for you in Settings, Users."
        )
    return ""


def step_text(step: DripStep) -> str:
    """The step's words: its own, or its canned response's as they are now."""
    if step.canned_response is not None:
        return step.canned_response.body
    return step.body


@transaction.atomic
def drip_apply(
    *,
    membership: Membership,
    conversation: Conversation,
    campaign: DripCampaign,
    now: dt.datetime | None = None,
) -> AppliedDrip:
    """Schedule every step of `campaign` for the conversation's contact (access checked by the
    caller: `access_conversation_reply` and `access_drip_campaign`). All steps are scheduled or,
    with the reason, none."""
    now = now or timezone.now()
    organization = membership.organization
    if refusal := drips_permission_refusal(membership):
        raise PermissionDenied(refusal, code="drips_not_allowed")
    contact = conversation.contact
    who = contact.name or conversation.contact_number
    if refusal := drip_refusal(contact, who):
        raise OptedOutError(refusal)
    if not organization.two_way_enabled or conversation.phone_number.is_held:
        raise PermissionDenied(
            "Two-way texting is off for this organization, so drip campaigns cannot be applied: "
            "the contact's replies, which stop a drip, would not be received.",
            code="two_way_off",
        )
    steps = list(campaign.steps.select_related("canned_response"))
    if not steps:
        raise InvalidInput("This drip campaign has no steps.", code="steps_required")
    applied = AppliedDrip.objects.create(
        organization=organization,
        conversation=conversation,
        campaign=campaign,
        campaign_name=campaign.name,
        applied_by=membership.user,
    )
    scheduled: list[dt.datetime] = []
    for step in steps:
        filled = merge_fields_fill(body=step_text(step), contact=contact, membership=membership)
        missing = filled.empty + filled.unknown
        if missing:
            fields = ", ".join(f"{{{key}}}" for key in missing)
            raise InvalidInput(
                f"Step {step.position} uses {fields}, which {who} has no value for. Fill it in "
                "on their contact card, or change the step, then apply again.",
                code="merge_field_empty",
            )
        due = now + dt.timedelta(days=step.delay_days, hours=step.delay_hours)
        send_at = automated_send_time(
            organization=organization,
            contact=contact,
            to_number=conversation.contact_number,
            at=due,
            also_taken=scheduled,
        )
        scheduled.append(send_at)
        message = message_send(
            phone_number=conversation.phone_number,
            to=conversation.contact_number,
            body=filled.text,
            category=Category.DRIP,
            organization=organization,
            label=drip_label(campaign.name, step.position, len(steps)),
            send_at=send_at,
        )
        AppliedDripStep.objects.create(applied=applied, message=message, position=step.position)
    return applied


@transaction.atomic
def drip_cancel(*, membership: Membership, applied: AppliedDrip) -> int:
    """Cancel the steps of an applied drip not sent yet (access checked by the caller:
    `access_applied_drip`); how many were cancelled."""
    waiting = [
        step.message
        for step in applied.steps.select_related("message")
        if step.message.status == Status.SCHEDULED
    ]
    for message in waiting:
        scheduled_cancel(message=message, membership=membership)
    return len(waiting)
