"""Which contacts a member may browse and edit (the rules are listed in `accounts.access`)."""

from __future__ import annotations

from django.db.models import QuerySet

from twoway.accounts.models import Membership, Role
from twoway.contacts.models import Contact
from twoway.core.errors import NotFound, PermissionDenied


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
