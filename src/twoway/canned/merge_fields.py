"""Merge fields: `{first_name}` and the like in a canned response, filled from a conversation's
contact when the response goes in the composer.

The keys are the built-in ones below and one per custom contact field, made from its name
("Membership level" is `{membership_level}`). A built-in key wins over a custom field's of the
same spelling, and of two custom fields whose names make one key, the older keeps it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from twoway.accounts.models import Membership, Organization
from twoway.contacts.models import Contact, CustomField
from twoway.contacts.selectors import contact_custom_values, custom_fields
from twoway.core.errors import InvalidInput

# `{word}` is a merge field; braces around anything else (spaces, punctuation) are plain text.
PLACEHOLDER = re.compile(r"\{(\w+)\}")
_NOT_KEY = re.compile(r"[^a-z0-9]+")

BUILT_IN = {
    "first_name": "The contact's first name",
    "last_name": "The contact's last name",
    "business_name": "Your organization's name",
    "agent_name": "Your name as the team sees it (else your e-mail)",
}


def field_key(name: str) -> str:
    """A custom field's merge key: its name in lower case, runs of other characters as `_`."""
    return _NOT_KEY.sub("_", name.casefold()).strip("_")


@dataclass(frozen=True)
class MergeField:
    key: str
    description: str
    custom_field: CustomField | None = None


def merge_fields(organization_id: int) -> list[MergeField]:
    """Every merge field the organization's canned responses may use, built-in ones first."""
    found = [MergeField(key, description) for key, description in BUILT_IN.items()]
    taken = set(BUILT_IN)
    for field in custom_fields(organization_id):
        key = field_key(field.name)
        if not key or key in taken:
            continue
        taken.add(key)
        found.append(MergeField(key, f"The contact's “{field.name}”", field))
    return found


class UnknownMergeField(InvalidInput):
    """A text names a merge field the organization does not have: the request was understood,
    its text cannot be kept (422, as the API answers a body it cannot take)."""

    code = "unknown_merge_field"
    status = 422


def placeholders(body: str) -> list[str]:
    """The merge keys a text names, each once, in the order they first appear."""
    return list(dict.fromkeys(PLACEHOLDER.findall(body)))


def merge_fields_check(organization_id: int, body: str) -> None:
    """Refuse a text naming a merge field the organization does not have."""
    known = {field.key for field in merge_fields(organization_id)}
    unknown = [key for key in placeholders(body) if key not in known]
    if not unknown:
        return
    named = ", ".join(f"{{{key}}}" for key in unknown)
    listed = ", ".join(f"{{{key}}}" for key in sorted(known))
    raise UnknownMergeField(
        f"{named} {'is not a merge field' if len(unknown) == 1 else 'are not merge fields'}. "
        f"The merge fields are {listed}."
    )


@dataclass(frozen=True)
class Filled:
    """A canned response with its merge fields filled for one contact.

    `empty` names the fields this contact has no value for, and `unknown` those that are no
    merge field any more (a custom field renamed or deleted since the response was saved).
    Both are left in the text as they were written, `{first_name}`: dropped, the text would
    read as finished ("Hi , your appointment is at .") and could be sent as it is; kept, the
    gap is plain to see in the box, and the warning says what to fill in before sending.
    """

    text: str
    empty: list[str]
    unknown: list[str]


def merge_fields_fill(*, body: str, contact: Contact, membership: Membership) -> Filled:
    user = membership.user
    return _fill(body, contact, membership.organization, user.get_full_name() or user.email)


# A field with no value in an automated text: the gap goes, with the space or comma it leaves.
_LOOSE_SPACE = re.compile(r"[ \t]+([,.!?;:])|[ \t]{2,}")


def merge_fields_fill_automated(*, body: str, contact: Contact, organization: Organization) -> str:
    """The text Twoway sends alone (an away message, a keyword rule's answer): no person sends
    it, so `{agent_name}` is the organization's name, and a field the contact has no value for
    (or one that is no merge field any more) is left out ("Hi {first_name}," reads "Hi,"),
    since no one is there to fill it in."""
    filled = _fill(body, contact, organization, organization.name, keep_empty=False)
    tidy = _LOOSE_SPACE.sub(lambda m: m.group(1) or " ", filled.text)
    return tidy.strip()


def _fill(
    body: str,
    contact: Contact,
    organization: Organization,
    agent_name: str,
    *,
    keep_empty: bool = True,
) -> Filled:
    fields = {field.key: field for field in merge_fields(organization.pk)}
    custom = contact_custom_values(contact) if any(f.custom_field for f in fields.values()) else {}
    values = {
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "business_name": organization.name,
        "agent_name": agent_name,
    }
    for key, field in fields.items():
        if field.custom_field is not None:
            values[key] = custom.get(field.custom_field.pk, "")
    empty: list[str] = []
    unknown: list[str] = []

    def fill(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in fields:
            if key not in unknown:
                unknown.append(key)
            return match.group(0) if keep_empty else ""
        value = values[key].strip()
        if not value:
            if key not in empty:
                empty.append(key)
            return match.group(0) if keep_empty else ""
        return value

    return Filled(PLACEHOLDER.sub(fill, body), empty, unknown)
