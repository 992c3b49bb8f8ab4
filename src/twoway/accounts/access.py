"""Access checks: every read of an organization's rows by a person goes through one of these.

Each `access_*` fetches the object *and* checks the user may see it, so nothing is read from
another organization by accident. A row of another organization is reported as not found.
The API goes through the same functions with the membership of the key's owner, so a key can do
exactly what its owner can in the web UI.

Who may do what (PRODUCT C3):
- view, note, archive/unarchive, mark unread, mute: anyone who sees the conversation (its number
  is open to them; admins see all numbers). Triage is part of answering, which Limited users do.
- reply: also needs "Send SMS to clients" (checked by `message_send`); initiate: Administrative
  or Standard with that permission (`Membership.can_initiate`).
- delete a conversation: Administrative only, and only while the organization allows deleting.
- export a conversation: anyone who sees it except Limited users, whose job is answering in the
  inbox, not taking a client's history out of it.
- assign a conversation (to a person or a team) or unassign it: Administrative and Standard
  users who see it, with or without "Send SMS". Not Limited users: they answer what is in their
  inbox, and deciding who answers a conversation is handing out work, which is for the others.
  The assignee must be able to see the conversation too: an active member who may use its number
  (`members_who_see`), or a team the number is open to (`teams_who_see`).
- contacts (browse, read, edit, opt out by hand): Administrative and Standard, every contact of
  the organization; Limited users see a contact only through their conversations.
- settings and numbers: Administrative only.
- API keys: every member creates and revokes their own; admins see and revoke everyone's.
"""

from __future__ import annotations

import contextlib
from typing import Any
from uuid import UUID

from django.db.models import Q, QuerySet

from twoway.accounts.models import ApiKey, Membership, Role, Team
from twoway.contacts.models import Contact
from twoway.conversations.models import Conversation, Message
from twoway.core.errors import NotFound, PermissionDenied
from twoway.core.phones import InvalidPhoneNumber, normalize_phone
from twoway.numbers.models import PhoneNumber


def access_membership(user: Any) -> Membership:
    """The user's membership; users outside any organization may do nothing."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        raise PermissionDenied("Log in first.")
    try:
        membership = user.membership
    except Membership.DoesNotExist:
        raise PermissionDenied("Your account does not belong to an organization.") from None
    return membership  # type: ignore[no-any-return]


def numbers_usable_by(membership: Membership) -> QuerySet[PhoneNumber]:
    """Numbers the member may send from and whose inbox they see (the number's inbox settings):
    all of them for admins; for others those open to everyone or listing them or their team."""
    numbers = PhoneNumber.objects.filter(organization_id=membership.organization_id)
    if not membership.is_admin:
        allowed = (
            Q(access_everyone=True)
            | Q(access_users=membership)
            | Q(access_teams__members=membership)
        )
        numbers = numbers.filter(pk__in=PhoneNumber.objects.filter(allowed).values("pk"))
    return numbers.order_by("id")


def require_admin(membership: Membership) -> None:
    if not membership.is_admin:
        raise PermissionDenied("Only administrators can do that.", code="admin_only")


def access_phone_number(membership: Membership, number: int | str) -> PhoneNumber:
    """A number the member may use, by id (an integer) or by the number itself, typed as
    E.164, nationally or as a short code (the API's `from`)."""
    numbers = numbers_usable_by(membership)
    if isinstance(number, int):
        found = numbers.filter(pk=number).first()
    else:
        candidates = {number.strip()}
        # A short code, or nothing we know, does not normalize: the lookup below decides.
        with contextlib.suppress(InvalidPhoneNumber):
            candidates.add(normalize_phone(number, membership.organization.country))
        found = numbers.filter(number__in=candidates).first()
    if found is None:
        raise NotFound("That phone number does not exist or is not yours to use.")
    return found


def conversations_visible_to(membership: Membership) -> QuerySet[Conversation]:
    # The number ids as a list, not a subquery: PostgreSQL never gathers statistics on a
    # table of a few numbers, and with a subquery it estimated one number and sorted a whole
    # folder for the inbox's first page instead of reading its index in order (50,000
    # conversations: 580 ms instead of 1-10; docs/performance.md, "Inbox").
    number_ids = list(numbers_usable_by(membership).values_list("pk", flat=True))
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
        raise PermissionDenied(
            "You do not have the “Send SMS to clients” permission.", code="no_sms_permission"
        )
    return conversation


def access_conversation_delete(membership: Membership, conversation_id: int) -> Conversation:
    """Deleting is for administrators, and only while the organization allows it (C5)."""
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


def members_who_see(number: PhoneNumber) -> QuerySet[Membership]:
    """Active members whose inbox shows the number's conversations: the reverse of
    `numbers_usable_by`."""
    if number.organization_id is None:  # the shared system number: nobody's inbox
        return Membership.objects.none()
    members = Membership.objects.filter(
        organization_id=number.organization_id, user__is_active=True
    )
    if not number.access_everyone:
        in_teams = Team.members.through.objects.filter(
            team_id__in=number.access_teams.values("pk")
        ).values("membership_id")
        members = members.filter(
            Q(role=Role.ADMINISTRATIVE)
            | Q(pk__in=number.access_users.values("pk"))
            | Q(pk__in=in_teams)
        )
    return members


def teams_who_see(number: PhoneNumber) -> QuerySet[Team]:
    """Teams the number is open to as a team: every team when it is open to everyone."""
    if number.organization_id is None:
        return Team.objects.none()
    teams = Team.objects.filter(organization_id=number.organization_id)
    if not number.access_everyone:
        teams = teams.filter(pk__in=number.access_teams.values("pk"))
    return teams


def access_message(membership: Membership, uid: UUID) -> Message:
    """A message of a conversation the member sees; a text without a conversation (marketing,
    transactional, perhaps from the shared system number) to admins, to whoever sent it, and
    to the members who may use the number it went from."""
    numbers = numbers_usable_by(membership)
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


def can_manage_contacts(membership: Membership) -> bool:
    return membership.role in (Role.ADMINISTRATIVE, Role.STANDARD)


def contacts_visible_to(membership: Membership) -> QuerySet[Contact]:
    """The organization's contacts, for the roles that manage contacts."""
    if not can_manage_contacts(membership):
        raise PermissionDenied(
            "Your role answers conversations in your inbox; it cannot browse contacts.",
            code="contacts_not_allowed",
        )
    return Contact.objects.filter(organization_id=membership.organization_id)


def access_contact(membership: Membership, contact_id: int) -> Contact:
    contact = contacts_visible_to(membership).filter(pk=contact_id).first()
    if contact is None:
        raise NotFound("That contact does not exist.")
    return contact


def api_keys_visible_to(membership: Membership) -> QuerySet[ApiKey]:
    """A member's own keys; an admin's view is every key of the organization."""
    keys = ApiKey.objects.filter(organization_id=membership.organization_id)
    if not membership.is_admin:
        keys = keys.filter(owner=membership)
    return keys


def access_api_key(membership: Membership, key_id: int) -> ApiKey:
    key = api_keys_visible_to(membership).select_related("owner__user").filter(pk=key_id).first()
    if key is None:
        raise NotFound("That API key does not exist.")
    return key
