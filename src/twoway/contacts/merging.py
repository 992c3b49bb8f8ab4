"""Merging one contact into another, read side: which value of each field survives, and
which contacts look like the same person (merge suggestions).

The merge page shows the plan, and the merge (`conversations.contact_merge`) writes it. A
field keeps the survivor's value by default, the merged contact's where the survivor's is
empty, or whichever the person picked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.db.models import Q, Value
from django.db.models.functions import Lower

from twoway.accounts.models import Membership
from twoway.contacts.access import contacts_visible_to
from twoway.contacts.models import Contact, CustomField
from twoway.contacts.services import UnknownCustomField
from twoway.contacts.validation import NAME_MAX_LENGTH, TEXT_FIELDS, display_name
from twoway.core.errors import InvalidInput

KEEP_THIS = "this"  # the survivor's value
KEEP_OTHER = "other"  # the merged contact's value
KEEPS = (KEEP_THIS, KEEP_OTHER)


@dataclass(frozen=True)
class FieldChoice:
    """One field of the two contacts and which of their values survives."""

    name: str  # a text field's attribute, or a custom field's name
    label: str
    this: str
    other: str
    keep: str

    @property
    def differs(self) -> bool:
        return self.this != self.other

    @property
    def kept(self) -> str:
        return self.other if self.keep == KEEP_OTHER else self.this


@dataclass(frozen=True)
class MergePlan:
    fields: list[FieldChoice]
    # Only the custom fields either contact has a value of.
    custom: list[tuple[CustomField, FieldChoice]]

    @property
    def name(self) -> str:
        """The survivor's display name: its first and last name as chosen."""
        kept = {choice.name: choice.kept for choice in self.fields}
        return display_name(kept["first_name"], kept["last_name"])

    @property
    def differing(self) -> list[FieldChoice]:
        return [choice for choice in self.fields if choice.differs]


def _choice(name: str, label: str, this: str, other: str, picked: str | None) -> FieldChoice:
    if picked is None:
        picked = KEEP_OTHER if not this and other else KEEP_THIS
    elif picked not in KEEPS:
        raise InvalidInput(
            f"{label}: keep “{KEEP_THIS}” or “{KEEP_OTHER}”, not “{picked}”.", code="invalid_keep"
        )
    return FieldChoice(name, label, this, other, picked)


def merge_plan(
    survivor: Contact,
    merged: Contact,
    *,
    custom_fields: list[CustomField],
    custom_values: tuple[dict[int, str], dict[int, str]],
    keep: Mapping[str, str] | None = None,
    keep_custom: Mapping[str, str] | None = None,
) -> MergePlan:
    """The values that survive. `keep` picks by field attribute (`email`: "other"),
    `keep_custom` by custom field name; `custom_values` are the two contacts' values by field
    id. An unknown field, or a name too long once first and last are put together, is
    refused before anything is written."""
    keep = keep or {}
    keep_custom = keep_custom or {}
    if unknown := sorted(set(keep) - set(TEXT_FIELDS)):
        raise InvalidInput(f"There is no contact field “{unknown[0]}”.", code="unknown_field")
    fields = [
        _choice(name, label, getattr(survivor, name), getattr(merged, name), keep.get(name))
        for name, (label, _) in TEXT_FIELDS.items()
    ]
    by_name = {field.name: field for field in custom_fields}
    if unknown := sorted(set(keep_custom) - set(by_name)):
        raise UnknownCustomField(unknown[0])
    these, others = custom_values
    custom = [
        (
            field,
            _choice(
                field.name,
                field.name,
                these.get(field.pk, ""),
                others.get(field.pk, ""),
                keep_custom.get(field.name),
            ),
        )
        for field in custom_fields
        if these.get(field.pk) or others.get(field.pk)
    ]
    plan = MergePlan(fields, custom)
    if len(plan.name) > NAME_MAX_LENGTH:
        raise InvalidInput(
            f"First and last name together can be at most {NAME_MAX_LENGTH} characters; "
            "keep the other first or last name.",
            code="name_too_long",
        )
    return plan


# Enough for a person to see whether there is a duplicate; more is a data problem to search.
DUPLICATES_SHOWN = 10


def contact_duplicates(membership: Membership, contact: Contact) -> list[Contact]:
    """The organization's other contacts with the same e-mail or name, in any case (phones
    cannot be shared: a number is one contact's), oldest first, with their phones."""
    alike = Q()
    if contact.email:
        alike |= Q(email_lower=Lower(Value(contact.email)))
    if contact.name:
        alike |= Q(name_lower=Lower(Value(contact.name)))
    if not alike:
        return []
    # Spelt as the (organization, lower(...)) indexes are, so they answer; lowered by the
    # database on both sides, as its LOWER folds case (SQLite's only ASCII).
    found = (
        contacts_visible_to(membership)
        .annotate(email_lower=Lower("email"), name_lower=Lower("name"))
        .filter(alike)
        .exclude(pk=contact.pk)
        .prefetch_related("phones")
        .order_by("pk")
    )
    return list(found[:DUPLICATES_SHOWN])
