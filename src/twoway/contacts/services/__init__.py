from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from twoway.accounts.models import Membership, Organization
from twoway.compliance.models import ConsentEventKind
from twoway.compliance.services import consent_record
from twoway.contacts.access import require_contacts_manager
from twoway.contacts.models import (
    ConsentStatus,
    Contact,
    ContactGroup,
    ContactPhone,
    CreatedFrom,
    CustomField,
    CustomFieldValue,
    OptInStatus,
)
from twoway.contacts.validation import (
    NAME_MAX_LENGTH,
    TEXT_FIELDS,
    CleanPhone,
    PhoneInput,
    clean_custom_value,
    clean_phones,
    clean_text,
    display_name,
    name_split,
)
from twoway.core.errors import InvalidInput
from twoway.core.text import NUL_MESSAGE, has_nul
from twoway.numbers.models import PhoneNumber


def contact_find_by_phone(*, organization: Organization, number: str) -> Contact | None:
    phone = (
        ContactPhone.objects.select_related("contact")
        .filter(organization=organization, number=number)
        .first()
    )
    return phone.contact if phone else None


def contact_get_or_create_by_phone(
    *,
    organization: Organization,
    number: str,
    created_from: str = CreatedFrom.MANUAL,
    source_number: PhoneNumber | None = None,
) -> tuple[Contact, bool]:
    """The contact who has this E.164 number, created (as a lead when inbound) if nobody has."""
    if contact := contact_find_by_phone(organization=organization, number=number):
        return contact, False
    try:
        with transaction.atomic():
            contact = Contact.objects.create(
                organization=organization,
                created_from=created_from,
                source_number=source_number,
                lead_texted_at=timezone.now() if created_from == CreatedFrom.INBOUND else None,
            )
            ContactPhone.objects.create(organization=organization, contact=contact, number=number)
            return contact, True
    except IntegrityError:
        # Another request created it between our read and write (PostgreSQL); use theirs.
        found = contact_find_by_phone(organization=organization, number=number)
        if found is None:
            raise
        return found, False


def contact_set_opt_in(
    *,
    contact: Contact,
    opted_in: bool,
    source: str,
    text: str = "",
    phone_number: str = "",
    message_id: int | None = None,
    actor: str = "",
) -> bool:
    """Set the opt-in status and write the ledger entry (`actor`: the e-mail of the person who
    changed it, if one did). False when it was already so."""
    status = OptInStatus.OPTED_IN if opted_in else OptInStatus.OPTED_OUT
    updated = (
        Contact.objects.filter(pk=contact.pk)
        .exclude(opt_in_status=status)
        # Either way the question of a flagged worded opt-out is answered.
        .update(opt_in_status=status, opt_out_flagged_at=None)
    )
    contact.opt_in_status = status
    if updated:
        contact.opt_out_flagged_at = None
    if not updated:
        return False
    consent_record(
        organization_id=contact.organization_id,
        contact_id=contact.pk,
        kind=ConsentEventKind.OPT_IN if opted_in else ConsentEventKind.OPT_OUT,
        source=source,
        text=text,
        phone_number=phone_number,
        message_id=message_id,
        actor=actor,
    )
    return True


def contact_flag_opt_out(
    *, contact: Contact, text: str, phone_number: str, message_id: int | None
) -> None:
    """A worded opt-out arrived: keep it for an agent to decide, in the ledger and on the
    contact (the earliest flag waiting stays; a second one only adds a ledger entry)."""
    Contact.objects.filter(pk=contact.pk, opt_out_flagged_at__isnull=True).update(
        opt_out_flagged_at=timezone.now()
    )
    contact.refresh_from_db(fields=["opt_out_flagged_at"])
    consent_record(
        organization_id=contact.organization_id,
        contact_id=contact.pk,
        kind=ConsentEventKind.OPT_OUT_FLAGGED,
        source="keyword",
        text=text,
        phone_number=phone_number,
        message_id=message_id,
    )


@transaction.atomic
def contact_review_opt_out(*, contact: Contact, confirmed: bool, by: Membership) -> bool:
    """An agent decided on a flagged opt-out: confirmed opts the contact out (in the ledger as
    theirs), dismissed leaves them opted in. False when nothing was waiting (someone else
    decided first): the decision is taken once."""
    cleared = Contact.objects.filter(pk=contact.pk, opt_out_flagged_at__isnull=False).update(
        opt_out_flagged_at=None
    )
    contact.opt_out_flagged_at = None
    if not cleared:
        return False
    who = by.user.get_full_name() or by.user.email
    if confirmed:
        contact_set_opt_in(
            contact=contact,
            opted_in=False,
            source="manual",
            text=f"Possible opt-out confirmed by {who}",
            actor=by.user.email,
        )
    else:
        consent_record(
            organization_id=contact.organization_id,
            contact_id=contact.pk,
            kind=ConsentEventKind.FLAG_DISMISSED,
            source="manual",
            text=f"Not an opt-out, decided by {who}",
            actor=by.user.email,
        )
    return True


def contact_mark_consent_sent(
    *, contact: Contact, message_id: int, body: str, to_number: str
) -> None:
    """The consent message (`message_id`) is on its way: note it on the contact and in the
    ledger."""
    Contact.objects.filter(pk=contact.pk).update(consent_status=ConsentStatus.SENT)
    contact.consent_status = ConsentStatus.SENT
    consent_record(
        organization_id=contact.organization_id,
        contact_id=contact.pk,
        kind=ConsentEventKind.CONSENT_SENT,
        source="message",
        text=body,
        phone_number=to_number,
        message_id=message_id,
    )


class UnknownCustomField(InvalidInput):
    """A custom field the organization has not defined."""

    code = "unknown_custom_field"

    def __init__(self, name: str) -> None:
        super().__init__(
            f"There is no custom field “{name}”; an administrator adds them under Settings, "
            "Contact fields."
        )
        self.name = name


@dataclass(frozen=True)
class ContactChanges:
    """What to set on a contact; None leaves a field as it is."""

    # A whole name, split into first and last (the last word); or give those two.
    name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    external_uid: str | None = None
    client_id: str | None = None
    client_type: str | None = None
    home_location: str | None = None
    time_zone: str | None = None
    # The whole list: phones left out are removed.
    phones: list[PhoneInput] | None = None
    # The whole set, by name.
    groups: list[str] | None = None
    # Only the fields named change; an empty value (or None) clears one.
    custom_fields: dict[str, object] | None = None
    opted_out: bool | None = None


_TEXT_ATTRIBUTES = tuple(TEXT_FIELDS)


@dataclass
class _Plan:
    """The changes checked, ready to write; nothing is written before all of them pass."""

    values: dict[str, str]
    phones: list[CleanPhone] | None
    groups: list[ContactGroup] | None
    custom: list[tuple[CustomField, str]]


def _plan(organization: Organization, contact: Contact, changes: ContactChanges) -> _Plan:
    values: dict[str, str] = {}
    for field in _TEXT_ATTRIBUTES:
        given = getattr(changes, field)
        if given is not None:
            values[field] = clean_text(field, given)
    if changes.name is not None:
        if changes.first_name is not None or changes.last_name is not None:
            raise InvalidInput(
                "Give a whole name or a first and last name, not both.", code="two_names"
            )
        if has_nul(changes.name):
            raise InvalidInput(f"Name: {NUL_MESSAGE}", code="null_character")
        first, last = name_split(changes.name)
        values["first_name"] = clean_text("first_name", first)
        values["last_name"] = clean_text("last_name", last)
    if "first_name" in values or "last_name" in values:
        name = display_name(
            values.get("first_name", contact.first_name),
            values.get("last_name", contact.last_name),
        )
        if len(name) > NAME_MAX_LENGTH:
            raise InvalidInput(
                f"First and last name together can be at most {NAME_MAX_LENGTH} characters.",
                code="name_too_long",
            )
        values["name"] = name
    phones = None
    if changes.phones is not None:
        phones = clean_phones(changes.phones, region=organization.country)
        _check_phones_free(organization, contact, phones)
    return _Plan(
        values=values,
        phones=phones,
        groups=None if changes.groups is None else _groups_named(organization, changes.groups),
        custom=_custom_values(organization, changes.custom_fields or {}),
    )


def _check_phones_free(
    organization: Organization, contact: Contact, phones: list[CleanPhone]
) -> None:
    """Every number is this contact's or nobody's, and every phone id is this contact's."""
    own = set(contact.phones.values_list("pk", flat=True)) if contact.pk else set()
    for phone in phones:
        if phone.phone_id is not None and phone.phone_id not in own:
            raise InvalidInput(
                "A phone number on the form is no longer this contact's; reload the page.",
                code="phone_not_found",
            )
    taken = (
        ContactPhone.objects.filter(
            organization=organization, number__in=[phone.number for phone in phones]
        )
        .exclude(contact_id=contact.pk)
        .select_related("contact")
        .first()
    )
    if taken is not None:
        raise InvalidInput(
            f"{taken.number} is already the number of {taken.contact.name or 'another contact'}"
            f" (contact {taken.contact_id}).",
            code="phone_taken",
        )


def _groups_named(organization: Organization, names: list[str]) -> list[ContactGroup]:
    wanted = {name.strip() for name in names}
    groups = list(ContactGroup.objects.filter(organization=organization, name__in=wanted))
    missing = wanted - {group.name for group in groups}
    if missing:
        raise InvalidInput(
            f"There is no group “{sorted(missing)[0]}”; an administrator adds groups under "
            "Settings, Contact fields.",
            code="unknown_group",
        )
    return groups


def _custom_values(
    organization: Organization, given: dict[str, object]
) -> list[tuple[CustomField, str]]:
    if not given:
        return []
    defined = {field.name: field for field in CustomField.objects.filter(organization=organization)}
    values = []
    for name, value in given.items():
        field = defined.get(name)
        if field is None:
            raise UnknownCustomField(name)
        values.append((field, clean_custom_value(field, value)))
    return values


def _write(contact: Contact, plan: _Plan) -> None:
    for attribute, value in plan.values.items():
        setattr(contact, attribute, value)
    if contact.pk is None:
        contact.save()
    elif plan.values:
        contact.save(update_fields=list(plan.values))
    if plan.phones is not None:
        _write_phones(contact, plan.phones)
    if plan.groups is not None:
        contact.groups.set(plan.groups)
    for field, value in plan.custom:
        if value:
            CustomFieldValue.objects.update_or_create(
                contact=contact, field=field, defaults={"value": value}
            )
        else:
            CustomFieldValue.objects.filter(contact=contact, field=field).delete()


def _write_phones(contact: Contact, phones: list[CleanPhone]) -> None:
    """Make the contact's phones these: kept ones updated in place, exactly one primary."""
    existing = {phone.pk: phone for phone in contact.phones.all()}
    by_number = {phone.number: phone for phone in existing.values()}
    kept: list[tuple[ContactPhone | None, CleanPhone]] = [
        (existing[p.phone_id] if p.phone_id is not None else by_number.get(p.number), p)
        for p in phones
    ]
    primary = next((n for n, (_, p) in enumerate(kept) if p.primary), None)
    if primary is None and kept:
        # Nobody chose: the primary stays the one it was, else the first listed.
        current = next((ph for ph in existing.values() if ph.is_primary), None)
        current = current or min(existing.values(), key=lambda ph: ph.pk, default=None)
        primary = next((n for n, (row, _) in enumerate(kept) if row is current), 0)
    kept_ids = {row.pk for row, _ in kept if row is not None}
    # Removed rows go first, so a number taken off one row may be added back as a new one.
    contact.phones.exclude(pk__in=kept_ids).delete()
    contact.phones.filter(is_primary=True).update(is_primary=False)
    try:
        with transaction.atomic():
            for n, (row, phone) in enumerate(kept):
                row = row or ContactPhone(organization_id=contact.organization_id, contact=contact)
                row.number, row.is_primary = phone.number, n == primary
                if phone.label is not None:
                    row.label = phone.label
                row.save()
    except IntegrityError:
        # Another request gave one of these numbers to another contact meanwhile.
        raise InvalidInput(
            "One of these numbers was just given to another contact; reload the page.",
            code="phone_taken",
        ) from None


def _record_opt_out(contact: Contact, opted_out: bool, by: Membership, source: str) -> None:
    # Through `contact_set_opt_in`, so the consent ledger records who changed it and how.
    contact_set_opt_in(
        contact=contact,
        opted_in=not opted_out,
        source=source,
        text=f"Changed by {by.user.email}" + (" over the API" if source == "api" else ""),
        actor=by.user.email,
    )


@transaction.atomic
def contact_update(
    *,
    contact: Contact,
    changed_by: Membership,
    changes: ContactChanges,
    source: str = "manual",
) -> Contact:
    """Edit a contact (the card, the API): every change is checked before any is written, so
    a refusal changes nothing. `source` ("manual" from the card, "api") goes to the ledger."""
    require_contacts_manager(changed_by)
    plan = _plan(contact.organization, contact, changes)
    _write(contact, plan)
    if changes.opted_out is not None:
        _record_opt_out(contact, changes.opted_out, changed_by, source)
    return contact


@transaction.atomic
def contact_create(
    *, organization: Organization, created_by: Membership, changes: ContactChanges
) -> Contact:
    """A contact added through the API, with what `contact_update` takes."""
    require_contacts_manager(created_by)
    if created_by.organization_id != organization.pk:
        raise InvalidInput("That organization is not yours.", code="not_your_organization")
    contact = Contact(organization=organization, created_from=CreatedFrom.API)
    plan = _plan(organization, contact, changes)
    if not (plan.values.get("name") or plan.values.get("email") or plan.phones):
        raise InvalidInput(
            "A contact needs at least a name, a phone number or an e-mail address.",
            code="empty_contact",
        )
    _write(contact, plan)
    if changes.opted_out:
        _record_opt_out(contact, True, created_by, "api")
    return contact
