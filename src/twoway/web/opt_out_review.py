"""Worded opt-outs ("please stop texting me") waiting for an agent: confirmed or dismissed in
the thread, and listed together under Possible opt-outs."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from twoway.accounts.decorators import member_view
from twoway.accounts.models import Membership
from twoway.contacts.services import contact_review_opt_out
from twoway.conversations.access import access_conversation_reply
from twoway.conversations.selectors import conversations_with_flagged_opt_out
from twoway.core.errors import InvalidInput
from twoway.web.inbox import redrawn_thread_context

DECISIONS = {"confirm": True, "dismiss": False}


@require_POST
@member_view
def conversation_opt_out_review(
    request: HttpRequest, membership: Membership, conversation_id: int
) -> HttpResponse:
    """Confirm opt-out / Not an opt-out: decided once by whoever answers first; the thread is
    redrawn (and, off htmx, the page it came from is shown again)."""
    conversation = access_conversation_reply(membership, conversation_id)
    decision = request.POST.get("decision", "")
    if decision not in DECISIONS:
        raise InvalidInput("Choose Confirm opt-out or Not an opt-out.", code="decision")
    contact_review_opt_out(
        contact=conversation.contact, confirmed=DECISIONS[decision], by=membership
    )
    if request.htmx:  # type: ignore[attr-defined]
        context = redrawn_thread_context(request, membership, conversation)
        return render(request, "web/_thread.html", context)
    if request.POST.get("next") == "list":
        return redirect("possible_opt_outs")
    return redirect("conversation", conversation_id=conversation.pk)


@member_view
def possible_opt_outs(request: HttpRequest, membership: Membership) -> HttpResponse:
    conversations = conversations_with_flagged_opt_out(membership)[:200]
    return render(
        request,
        "web/possible_opt_outs.html",
        {"membership": membership, "conversations": conversations},
    )
