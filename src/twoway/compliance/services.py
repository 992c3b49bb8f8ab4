"""The consent ledger's one writer: every opt-in, opt-out, consent message and flagged opt-out of
a contact is appended here, never edited, so an audit reads what happened and why."""

from __future__ import annotations

from twoway.compliance.models import ConsentEvent, ConsentEventKind

# What the ledger keeps of the words that caused an entry.
TEXT_MAX_LENGTH = 500


def consent_record(
    *,
    organization_id: int,
    contact_id: int,
    kind: ConsentEventKind,
    source: str,
    text: str = "",
    phone_number: str = "",
    message_id: int | None = None,
    actor: str = "",
) -> ConsentEvent:
    """Append an entry. `source` says how it came (keyword, manual, api, import, message, merge);
    `text` the words that caused it, or who changed it by hand; `actor` the e-mail of the person
    who did (empty for the contact's own keyword and Twoway's consent message)."""
    return ConsentEvent.objects.create(
        organization_id=organization_id,
        contact_id=contact_id,
        kind=kind,
        source=source,
        text=text[:TEXT_MAX_LENGTH],
        phone_number=phone_number,
        message_id=message_id,
        actor=actor[:254],
    )


def consent_events_move(*, organization_id: int, from_contact_id: int, to_contact_id: int) -> int:
    """A merged contact's entries become the survivor's, as they were: the ledger of a person
    stays whole when two of their contacts become one (nothing else of an entry changes)."""
    return ConsentEvent.objects.filter(
        organization_id=organization_id, contact_id=from_contact_id
    ).update(contact_id=to_contact_id)
