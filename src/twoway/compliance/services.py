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
) -> ConsentEvent:
    """Append an entry. `source` says how it came (keyword, manual, api, import, message);
    `text` the words that caused it, or who changed it by hand."""
    return ConsentEvent.objects.create(
        organization_id=organization_id,
        contact_id=contact_id,
        kind=kind,
        source=source,
        text=text[:TEXT_MAX_LENGTH],
        phone_number=phone_number,
        message_id=message_id,
    )
