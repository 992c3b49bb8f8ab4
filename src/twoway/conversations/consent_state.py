"""What became of a contact's consent message, as the conversation header and the contact card
say it: a text that was not delivered is never shown as sent."""

from __future__ import annotations

from twoway.compliance.models import ConsentEvent, ConsentEventKind
from twoway.contacts.models import ConsentStatus, Contact
from twoway.conversations.models import Message, Status

_NOT_REACHED = {Status.UNDELIVERED: "undelivered", Status.FAILED: "failed"}


def consent_message_state(contact: Contact) -> str:
    """The badge's words: not sent, sent (or delivered), or undelivered/failed with the
    carrier's reason."""
    if contact.consent_status != ConsentStatus.SENT:
        return str(ConsentStatus(contact.consent_status).label)
    event = (
        ConsentEvent.objects.filter(contact_id=contact.pk, kind=ConsentEventKind.CONSENT_SENT)
        .filter(message__isnull=False)
        .order_by("-created_at", "-pk")
        .first()
    )
    message_id = event.message_id if event else None
    message = Message.objects.filter(pk=message_id).first() if message_id else None
    if message is None:
        return str(ConsentStatus.SENT.label)
    if message.status in _NOT_REACHED:
        reason = f": {message.error_message}" if message.error_message else ""
        return f"Consent message {_NOT_REACHED[Status(message.status)]}{reason}"
    if message.status == Status.DELIVERED:
        return "Consent message delivered"
    return str(ConsentStatus.SENT.label)
