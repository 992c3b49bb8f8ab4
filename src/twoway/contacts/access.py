"""Which contacts a member may browse and edit (the rules are listed in `accounts.access`)."""

from __future__ import annotations

from django.db.models import QuerySet

from twoway.accounts.access import require_admin
from twoway.accounts.models import Membership, Role
from twoway.contacts.models import (
    Contact,
    ContactExport,
    ContactGroup,
    ContactImport,
    ContactMerge,
    CustomField,
)
from twoway.core.errors import NotFound, PermissionDenied


def can_manage_contacts(membership: Membership) -> bool:
    return membership.role in (Role.ADMINISTRATIVE, Role.STANDARD)


def require_contacts_manager(membership: Membership) -> None:
    """Administrative and Standard members browse, add and edit contacts."""
    if not can_manage_contacts(membership):
        raise PermissionDenied(
            "Your role answers conversations in your inbox; it cannot browse contacts.",
            code="contacts_not_allowed",
        )


def contacts_visible_to(membership: Membership) -> QuerySet[Contact]:
    """The organization's contacts, for the roles that manage contacts."""
    require_contacts_manager(membership)
    return Contact.objects.filter(organization_id=membership.organization_id)


class ContactMerged(NotFound):
    """The contact was merged into another (`survivor_id`), which its links now lead to."""

    code = "contact_merged"

    def __init__(self, merged_id: int, survivor: Contact) -> None:
        super().__init__(
            f"Contact {merged_id} was merged into {survivor.name or 'another contact'} "
            f"(contact {survivor.pk})."
        )
        self.survivor_id = survivor.pk


def access_contact(membership: Membership, contact_id: int) -> Contact:
    """The organization's contact; one merged away raises `ContactMerged`, naming the
    survivor (only the organization's own merges are looked up)."""
    contact = contacts_visible_to(membership).filter(pk=contact_id).first()
    if contact is None:
        merge = (
            ContactMerge.objects.select_related("survivor")
            .filter(organization_id=membership.organization_id, merged_id=contact_id)
            .first()
        )
        if merge is not None:
            raise ContactMerged(contact_id, merge.survivor)
        raise NotFound("That contact does not exist.")
    return contact


def access_contact_group(membership: Membership, group_id: int) -> ContactGroup:
    """A group of the organization, for an administrator (who defines groups)."""
    require_admin(membership)
    group = ContactGroup.objects.filter(
        organization_id=membership.organization_id, pk=group_id
    ).first()
    if group is None:
        raise NotFound("That group does not exist.")
    return group


def access_custom_field(membership: Membership, field_id: int) -> CustomField:
    """A custom field of the organization, for an administrator (who defines them)."""
    require_admin(membership)
    field = CustomField.objects.filter(
        organization_id=membership.organization_id, pk=field_id
    ).first()
    if field is None:
        raise NotFound("That custom field does not exist.")
    return field


def access_contact_import(membership: Membership, import_id: int) -> ContactImport:
    """An import of the organization's, for those who may add contacts (who may import)."""
    require_contacts_manager(membership)
    found = ContactImport.objects.filter(
        organization_id=membership.organization_id, pk=import_id
    ).first()
    if found is None:
        raise NotFound("That import does not exist.")
    return found


def access_contact_export(membership: Membership, export_id: int) -> ContactExport:
    """An export of the organization's, for its requester (it holds what they may see)."""
    require_contacts_manager(membership)
    found = ContactExport.objects.filter(
        organization_id=membership.organization_id, pk=export_id, created_by=membership
    ).first()
    if found is None:
        raise NotFound("That export does not exist.")
    return found
