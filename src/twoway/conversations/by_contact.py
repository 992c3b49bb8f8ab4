"""Contacts' conversations as the contacts table and its chat window open them."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import F

from twoway.accounts.models import Membership
from twoway.conversations.access import conversations_visible_to
from twoway.conversations.models import Conversation


def latest_conversations(
    membership: Membership, contact_ids: Iterable[int]
) -> dict[int, Conversation]:
    """Each contact's most recently active conversation that the member may open (a contact
    whose conversations are all on numbers the member may not use has none here)."""
    ids = list(contact_ids)
    if not ids:
        return {}
    found: dict[int, Conversation] = {}
    conversations = (
        conversations_visible_to(membership)
        .filter(contact_id__in=ids)
        .order_by(F("last_message_at").desc(nulls_last=True), "-id")
    )
    for conversation in conversations:
        found.setdefault(conversation.contact_id, conversation)
    return found
