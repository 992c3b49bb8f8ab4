"""Which conversations and messages a member sees, and what they may do with them (the rules are
listed in `accounts.access`)."""

from __future__ import annotations

from uuid import UUID

from django.db.models import Q, QuerySet
from django.utils import timezone

from twoway.accounts.access import require_admin, sms_permission_missing
from twoway.accounts.models import Membership, Role
from twoway.conversations.models import Conversation, Message
from twoway.core.errors import NotFound, PermissionDenied
from twoway.numbers.access import numbers_seen_by


def conversations_visible_to(membership: Membership) -> QuerySet[Conversation]:
    """The conversations of the numbers open to the member, released numbers' too: their
    history stays readable after the number is gone."""
    # The number ids as a list, not a subquery: PostgreSQL never gathers statistics on a
    # table of a few numbers, and with a subquery it estimated one number and sorted a whole
    # folder for the inbox's first page instead of reading its index in order (50,000
    # conversations: 580 ms instead of 1-10; docs/performance.md, "Inbox").
    number_ids = list(numbers_seen_by(membership).values_list("pk", flat=True))
    return Conversation.objects.filter(
        organization_id=membership.organization_id, phone_number_id__in=number_ids
    )


def access_conversation(membership: Membership, conversation_id: int) -> Conversation:
    conversation = (
        conversations_visible_to(membership)
        .select_related("contact", "phone_number")
        .filter(pk=conversation_id)
        .first()
    )
    if conversation is None:
        raise NotFound("That conversation does not exist.")
    return conversation


def access_conversation_reply(membership: Membership, conversation_id: int) -> Conversation:
    """Answering needs "Send SMS to clients" on top of seeing the conversation; `message_send`
    checks it again for every other way in."""
    conversation = access_conversation(membership, conversation_id)
    if not membership.can_reply:
        raise sms_permission_missing()
    refusal = answer_refusal(conversation)
    if refusal:
        raise PermissionDenied(refusal, code="number_released")
    return conversation


def answer_refusal(conversation: Conversation) -> str:
    """Why nobody can answer the conversation any more, whoever they are; empty if they can."""
    number = conversation.phone_number
    if number.released_at is not None:
        released = timezone.localtime(number.released_at)  # the reader's zone
        return (
            f"{number.display} was released on {released:%b} {released.day}, {released.year} "
            "and is no longer yours, so this conversation cannot be answered: its history "
            "stays here to read."
        )
    return ""


def access_conversation_delete(membership: Membership, conversation_id: int) -> Conversation:
    """Deleting is for administrators, and only while the organization allows it."""
    conversation = access_conversation(membership, conversation_id)
    require_admin(membership)
    if not membership.organization.allow_conversation_delete:
        raise PermissionDenied(
            "Deleting conversations is turned off for your organization (Settings, Organization).",
            code="delete_disabled",
        )
    return conversation


def can_delete_conversations(membership: Membership) -> bool:
    """Whether to offer Delete at all: the button is hidden from whoever may not use it."""
    return membership.is_admin and membership.organization.allow_conversation_delete


def can_export_conversations(membership: Membership) -> bool:
    return membership.role != Role.LIMITED


def access_conversation_export(membership: Membership, conversation_id: int) -> Conversation:
    conversation = access_conversation(membership, conversation_id)
    if not can_export_conversations(membership):
        raise PermissionDenied(
            "Your role can answer conversations but not export them.", code="export_not_allowed"
        )
    return conversation


def can_assign_conversations(membership: Membership) -> bool:
    return membership.role != Role.LIMITED


def access_conversation_assign(membership: Membership, conversation_id: int) -> Conversation:
    conversation = access_conversation(membership, conversation_id)
    if not can_assign_conversations(membership):
        raise PermissionDenied(
            "Your role can answer conversations but not assign them.", code="assign_not_allowed"
        )
    return conversation


def access_message(membership: Membership, uid: UUID) -> Message:
    """A message of a conversation the member sees; a text without a conversation (marketing,
    transactional, perhaps from the shared system number) to admins, to whoever sent it, and
    to the members who may use the number it went from."""
    numbers = numbers_seen_by(membership)
    without_conversation = Q(conversation__isnull=True)
    if not membership.is_admin:
        without_conversation &= Q(sent_by_id=membership.user_id) | Q(
            from_number__in=numbers.values("number")
        )
    message = (
        Message.objects.filter(organization_id=membership.organization_id, uid=uid)
        .filter(Q(conversation__phone_number__in=numbers) | without_conversation)
        .first()
    )
    if message is None:
        raise NotFound("That message does not exist.")
    return message


def access_message_change(membership: Membership, uid: UUID) -> Message:
    """Changing or cancelling a (scheduled) text: a message the member sees, and "Send SMS to
    clients", as sending it took."""
    message = access_message(membership, uid)
    if not membership.can_reply:
        raise PermissionDenied(
            "You do not have the “Send SMS to clients” permission.", code="no_sms_permission"
        )
    return message
