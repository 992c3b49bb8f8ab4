from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction

from twoway.accounts.models import Membership, Organization
from twoway.compliance.models import ConsentEventKind
from twoway.compliance.services import consent_record
from twoway.contacts.models import (
    ConsentStatus,
    Contact,
    ContactPhone,
    CreatedFrom,
    OptInStatus,
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
                organization=organization, created_from=created_from, source_number=source_number
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
) -> bool:
    """Set the opt-in status and write the ledger entry. False when it was already so."""
    status = OptInStatus.OPTED_IN if opted_in else OptInStatus.OPTED_OUT
    updated = (
        Contact.objects.filter(pk=contact.pk)
        .exclude(opt_in_status=status)
        .update(opt_in_status=status)
    )
    contact.opt_in_status = status
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


@transaction.atomic
def contact_update(
    *,
    contact: Contact,
    changed_by: Membership,
    source: str = "manual",
    name: str | None = None,
    email: str | None = None,
    opted_out: bool | None = None,
) -> Contact:
    """Edit a contact's card; fields left None stay as they are.

    A change of "Opted out" goes through `contact_set_opt_in`, so the consent ledger records
    who changed it and how (`source`: "manual" from the card, "api").
    """
    fields: list[str] = []
    if any(has_nul(text) for text in (name or "", email or "")):
        raise InvalidInput(NUL_MESSAGE, code="null_character")
    if name is not None:
        name = name.strip()
        if len(name) > 200:
            raise InvalidInput("A name can be at most 200 characters.", code="name_too_long")
        contact.name = name
        fields.append("name")
    if email is not None:
        email = email.strip()
        if email:
            try:
                validate_email(email)
            except ValidationError:
                raise InvalidInput(
                    f"“{email}” is not an e-mail address.", code="invalid_email"
                ) from None
        contact.email = email
        fields.append("email")
    if fields:
        contact.save(update_fields=fields)
    if opted_out is not None:
        contact_set_opt_in(
            contact=contact,
            opted_in=not opted_out,
            source=source,
            text=f"Changed by {changed_by.user.email}"
            + (" over the API" if source == "api" else ""),
        )
    return contact
