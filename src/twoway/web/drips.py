"""The composer's droplet: the organization's drip campaigns with a preview of their steps, one
applied to the conversation's contact, and an applied drip cancelled from the thread."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from twoway.accounts.decorators import member_view
from twoway.accounts.models import Membership
from twoway.conversations.access import access_conversation_reply
from twoway.conversations.models import Conversation
from twoway.core.errors import InvalidInput, TwowayError
from twoway.drips.access import access_applied_drip, access_drip_campaign
from twoway.drips.applying import drip_apply, drip_cancel, drip_refusal, drips_permission_refusal
from twoway.drips.selectors import drip_campaigns_list
from twoway.web.inbox import redrawn_thread_context


@member_view
def drip_picker(request: HttpRequest, membership: Membership, conversation_id: int) -> HttpResponse:
    """The campaigns the member may apply here, each with its steps, or why none may be."""
    conversation = access_conversation_reply(membership, conversation_id)
    contact = conversation.contact
    context = {
        "membership": membership,
        "conversation": conversation,
        "campaigns": drip_campaigns_list(membership),
        "refusal": drips_permission_refusal(membership)
        or drip_refusal(contact, contact.name or conversation.contact_number),
    }
    return render(request, "web/_drip_options.html", context)


@require_POST
@member_view
def conversation_drip_apply(
    request: HttpRequest, membership: Membership, conversation_id: int
) -> HttpResponse:
    """Apply a campaign: the thread redrawn with its steps scheduled, or with why not."""
    conversation = access_conversation_reply(membership, conversation_id)
    error = ""
    try:
        campaign_id = request.POST.get("campaign_id", "")
        if not campaign_id.isdigit():
            raise InvalidInput("Pick a drip campaign to apply.", code="campaign_required")
        campaign = access_drip_campaign(membership, int(campaign_id))
        drip_apply(membership=membership, conversation=conversation, campaign=campaign)
    except TwowayError as exc:
        error = exc.message
    return _thread(request, membership, conversation, error)


@require_POST
@member_view
def conversation_drip_cancel(
    request: HttpRequest, membership: Membership, conversation_id: int, applied_id: int
) -> HttpResponse:
    """Cancel every step of an applied drip still waiting; the thread redrawn."""
    conversation, applied = access_applied_drip(membership, conversation_id, applied_id)
    error = ""
    try:
        drip_cancel(membership=membership, applied=applied)
    except TwowayError as exc:
        error = exc.message
    return _thread(request, membership, conversation, error)


def _thread(
    request: HttpRequest, membership: Membership, conversation: Conversation, error: str
) -> HttpResponse:
    context = redrawn_thread_context(request, membership, conversation)
    context.update(drip_error=error)
    return render(request, "web/_thread.html", context, status=422 if error else 200)
