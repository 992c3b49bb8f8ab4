from __future__ import annotations

from django.db.models import F, QuerySet

from twoway.accounts.models import Membership
from twoway.canned.access import access_canned_response, canned_responses_visible_to
from twoway.canned.merge_fields import Filled, merge_fields_fill
from twoway.canned.models import CannedResponse
from twoway.conversations.access import access_conversation


def canned_responses_list(membership: Membership, query: str = "") -> QuerySet[CannedResponse]:
    """The member's responses: the organization's first, then their own, each by name; `query`
    keeps those whose name or text holds it."""
    found = canned_responses_visible_to(membership)
    query = query.strip()
    if query:
        found = found.filter(name__icontains=query) | found.filter(body__icontains=query)
    # NULLs sort first on SQLite and last on PostgreSQL unless told: told, so both agree.
    return found.order_by(F("owner_id").asc(nulls_first=True), "name", "pk")


def canned_response_filled(
    membership: Membership, *, canned_id: int, conversation_id: int
) -> tuple[CannedResponse, Filled]:
    """A response the member may use, its merge fields filled from the contact of a
    conversation they see."""
    conversation = access_conversation(membership, conversation_id)
    canned = access_canned_response(membership, canned_id)
    filled = merge_fields_fill(
        body=canned.body, contact=conversation.contact, membership=membership
    )
    return canned, filled
