"""Access checks: every read of an organization's rows by a person goes through an `access_*`
function of the domain that owns the rows (`numbers.access`, `conversations.access`,
`contacts.access`, and this module for memberships and API keys).

Each `access_*` fetches the object *and* checks the user may see it, so nothing is read from
another organization by accident. A row of another organization is reported as not found.
The API goes through the same functions with the membership of the key's owner, so a key can do
exactly what its owner can in the web UI.

Who may do what:
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
- canned responses: everyone uses the organization's, admins add and change them; every member
  keeps their own, which nobody else sees (`canned.access`).
- drip campaigns: everyone sees the organization's, admins add and change them; whoever may
  reply in a conversation applies one to its contact and cancels it (`drips.access`).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from twoway.accounts.models import ApiKey, Membership
from twoway.core.errors import NotFound, PermissionDenied


def access_membership(user: Any) -> Membership:
    """The user's membership; users outside any organization may do nothing."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        raise PermissionDenied("Log in first.")
    # With its organization, which nearly every page and check reads: one query, not two.
    membership = Membership.objects.select_related("organization").filter(user_id=user.pk).first()
    if membership is None:
        raise PermissionDenied("Your account does not belong to an organization.")
    user.membership = membership  # what `user.membership` gives from now on, unread again
    return membership


def require_admin(membership: Membership) -> None:
    if not membership.is_admin:
        raise PermissionDenied("Only administrators can do that.", code="admin_only")


NO_SMS_PERMISSION = (
    "You do not have the “Send SMS to clients” permission: an administrator of your "
    "organization can give it to you under Settings, Users."
)
ROLE_CANNOT_INITIATE = "Your role can answer existing conversations but not start new ones."


def sms_permission_missing() -> PermissionDenied:
    return PermissionDenied(NO_SMS_PERMISSION, code="no_sms_permission")


def initiate_refusal(membership: Membership) -> PermissionDenied | None:
    """Why the member may not start a conversation, naming what they lack (the permission
    before the role: a Standard user without it is held back by it alone); None if they may."""
    if not membership.can_send_sms:
        return sms_permission_missing()
    if not membership.can_initiate:
        return PermissionDenied(ROLE_CANNOT_INITIATE, code="cannot_initiate")
    return None


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
