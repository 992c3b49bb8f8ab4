"""The composer's canned-response picker: the list it offers, and one response filled in for the
conversation's contact. It fills the message box only; sending stays the Send button's."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from twoway.accounts.decorators import member_view
from twoway.accounts.models import Membership
from twoway.canned.merge_fields import Filled
from twoway.canned.selectors import canned_response_filled, canned_responses_list
from twoway.conversations.access import access_conversation


def filled_warning(filled: Filled) -> str:
    """The sentence the composer shows above a response whose fields could not all be filled."""
    parts = []
    if filled.empty:
        fields = ", ".join(f"{{{key}}}" for key in filled.empty)
        parts.append(f"This contact has no value for {fields}.")
    if filled.unknown:
        fields = ", ".join(f"{{{key}}}" for key in filled.unknown)
        parts.append(f"{fields} {'is' if len(filled.unknown) == 1 else 'are'} no merge field.")
    if not parts:
        return ""
    return " ".join([*parts, "Left in the text as written: fill in or remove before sending."])


@member_view
def canned_picker(
    request: HttpRequest, membership: Membership, conversation_id: int
) -> HttpResponse:
    """The responses the member may use, as options of the picker's list."""
    conversation = access_conversation(membership, conversation_id)
    context = {
        "membership": membership,
        "conversation": conversation,
        "responses": canned_responses_list(membership),
    }
    return render(request, "web/_canned_options.html", context)


@member_view
def canned_fill(
    request: HttpRequest, membership: Membership, conversation_id: int, canned_id: int
) -> HttpResponse:
    """One response, its merge fields filled from this conversation's contact."""
    canned, filled = canned_response_filled(
        membership, canned_id=canned_id, conversation_id=conversation_id
    )
    return JsonResponse(
        {
            "name": canned.name,
            "text": filled.text,
            "empty_fields": filled.empty,
            "unknown_fields": filled.unknown,
            "warning": filled_warning(filled),
        }
    )
