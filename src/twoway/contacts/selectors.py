"""Contact reads, always through what a member may see (`contacts.access`)."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Case, QuerySet, Value, When

from twoway.accounts.models import Membership
from twoway.compliance.models import ConsentEvent, ConsentEventKind
from twoway.contacts.access import contacts_visible_to, require_contacts_manager
from twoway.contacts.lookup import contacts_matching
from twoway.contacts.models import (
    Contact,
    ContactGroup,
    ContactImport,
    CustomField,
    CustomFieldValue,
)

# What a contact's every field needs read with it (the API's list and the card).
CONTACT_RELATIONS = ("phones", "groups", "custom_values__field")


def contacts_list(membership: Membership, query: str = "") -> QuerySet[Contact]:
    """The organization's contacts by name (unnamed ones last), with their phones; `query`
    narrows by a part of the name, e-mail, external UID, client ID or phone number."""
    contacts = contacts_visible_to(membership).prefetch_related(*CONTACT_RELATIONS)
    contacts = contacts_matching(contacts, query, membership.organization.country)
    unnamed_last = Case(When(name="", then=Value(1)), default=Value(0))
    return contacts.order_by(unnamed_last, "name", "pk")


def contact_groups(organization_id: int) -> QuerySet[ContactGroup]:
    return ContactGroup.objects.filter(organization_id=organization_id).order_by("name", "pk")


def custom_fields(organization_id: int) -> QuerySet[CustomField]:
    """The organization's custom fields in the order they were added."""
    return CustomField.objects.filter(organization_id=organization_id).order_by("pk")


def contact_custom_values(contact: Contact) -> dict[int, str]:
    """The contact's custom values by field id."""
    return dict(CustomFieldValue.objects.filter(contact=contact).values_list("field_id", "value"))


def contact_imports(membership: Membership) -> QuerySet[ContactImport]:
    """The organization's imports, newest first."""
    require_contacts_manager(membership)
    return ContactImport.objects.filter(organization_id=membership.organization_id).order_by(
        "-created_at", "-pk"
    )


def contact_import_problems(contact_import: ContactImport) -> Iterator[tuple[int, str, str]]:
    """The import's error report, by row, read a chunk at a time."""
    problems = contact_import.problems.order_by("row", "pk").values_list("row", "column", "reason")
    return problems.iterator(chunk_size=2000)


def flagged_opt_out_text(contact: Contact) -> str:
    """The words of the worded opt-out waiting for an agent ("" when none waits)."""
    if contact.opt_out_flagged_at is None:
        return ""
    flagged = (
        ConsentEvent.objects.filter(contact=contact, kind=ConsentEventKind.OPT_OUT_FLAGGED)
        .order_by("-created_at", "-pk")
        .values_list("text", flat=True)
        .first()
    )
    return flagged or ""
