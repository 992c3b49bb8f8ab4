from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction

from twoway.accounts.models import Organization
from twoway.compliance.models import ConsentEvent, ConsentEventKind
from twoway.contacts.models import (
    ConsentStatus,
    Contact,
    ContactPhone,
    CreatedFrom,
    OptInStatus,
)
from twoway.numbers.models import PhoneNumber

if TYPE_CHECKING:
    from twoway.conversations.models import Message


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
    ConsentEvent.objects.create(
        organization_id=contact.organization_id,
        contact=contact,
        kind=ConsentEventKind.OPT_IN if opted_in else ConsentEventKind.OPT_OUT,
        source=source,
        text=text[:500],
        phone_number=phone_number,
        message_id=message_id,
    )
    return True


def contact_mark_consent_sent(*, contact: Contact, message: Message) -> None:
    """The consent message is on its way: note it on the contact and in the ledger."""
    Contact.objects.filter(pk=contact.pk).update(consent_status=ConsentStatus.SENT)
    contact.consent_status = ConsentStatus.SENT
    ConsentEvent.objects.create(
        organization_id=contact.organization_id,
        contact=contact,
        kind=ConsentEventKind.CONSENT_SENT,
        source="message",
        text=message.body[:500],
        phone_number=message.to_number,
        message=message,
    )
