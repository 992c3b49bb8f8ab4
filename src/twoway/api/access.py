"""What an API key may reach: every row of its organization, nothing of any other.

`accounts.access` checks a *person* (membership, per-number inbox access); a key acts for the
whole organization, so these scope by organization alone. Rows of another organization are
reported as not found, never as forbidden, so ids reveal nothing.
"""

from __future__ import annotations

import contextlib
from uuid import UUID

from django.db.models import F, QuerySet

from twoway.accounts.models import Organization
from twoway.conversations.models import Conversation, Message
from twoway.core.errors import NotFound
from twoway.core.phones import InvalidPhoneNumber, normalize_phone
from twoway.numbers.models import PhoneNumber


def org_phone_numbers(organization: Organization) -> QuerySet[PhoneNumber]:
    return PhoneNumber.objects.filter(organization=organization).order_by("id")


def org_phone_number(organization: Organization, ref: int | str) -> PhoneNumber:
    """A sender by id (an integer) or by number, typed as E.164, nationally or as a short code."""
    numbers = org_phone_numbers(organization)
    if isinstance(ref, int):
        found = numbers.filter(pk=ref).first()
    else:
        candidates = {ref.strip()}
        # A short code, or nothing we know, does not normalize: the lookup below decides.
        with contextlib.suppress(InvalidPhoneNumber):
            candidates.add(normalize_phone(ref, organization.country))
        found = numbers.filter(number__in=candidates).first()
    if found is None:
        raise NotFound("That phone number does not exist or is not yours to use.")
    return found


def org_conversations(organization: Organization, folder: str | None) -> QuerySet[Conversation]:
    """Newest activity first; conversations without any message yet go last."""
    conversations = Conversation.objects.filter(organization=organization)
    if folder:
        conversations = conversations.filter(folder=folder)
    return conversations.order_by(F("last_message_at").desc(nulls_last=True), "-id")


def org_conversation(organization: Organization, conversation_id: int) -> Conversation:
    found = Conversation.objects.filter(organization=organization, pk=conversation_id).first()
    if found is None:
        raise NotFound("That conversation does not exist.")
    return found


def org_message(organization: Organization, uid: UUID) -> Message:
    found = Message.objects.filter(organization=organization, uid=uid).first()
    if found is None:
        raise NotFound("That message does not exist.")
    return found
