"""Reading the consent ledger: one contact's entries, the organization's filtered, and the rows
of its CSV export. Always one organization's, newest first (ties by id, so pages never skip or
repeat an entry)."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from twoway.compliance.models import ConsentEvent, ConsentSource
from twoway.core.phones import format_for_display

NEWEST_FIRST = ("-created_at", "-pk")
# Entries read per query while the CSV export streams.
EXPORT_BATCH = 500

CSV_COLUMNS = ["When", "Kind", "Source", "Who", "Contact", "Contact number", "Text", "Entry"]


@dataclass(frozen=True)
class LedgerFilters:
    """What the ledger page, its export and the API narrow the entries to; empty keeps all.
    `since` is inclusive, `until` exclusive; `contact_ids` the contacts a name or number search
    found (a queryset of their ids, read by the database, not here)."""

    kind: str = ""
    source: str = ""
    since: datetime.datetime | None = None
    until: datetime.datetime | None = None
    contact_id: int | None = None
    contact_ids: QuerySet[Any] | None = None


def consent_events_of_contact(organization_id: int, contact_id: int) -> QuerySet[ConsentEvent]:
    """A contact's entries, newest first (the contact's access is checked by the caller)."""
    return ConsentEvent.objects.filter(
        organization_id=organization_id, contact_id=contact_id
    ).order_by(*NEWEST_FIRST)


def consent_events_filtered(
    entries: QuerySet[ConsentEvent], filters: LedgerFilters
) -> QuerySet[ConsentEvent]:
    """`entries` (one organization's, from `access_consent_ledger`) that meet every filter,
    newest first, with their contacts."""
    if filters.kind:
        entries = entries.filter(kind=filters.kind)
    if filters.source:
        entries = entries.filter(source=filters.source)
    if filters.since is not None:
        entries = entries.filter(created_at__gte=filters.since)
    if filters.until is not None:
        entries = entries.filter(created_at__lt=filters.until)
    if filters.contact_id is not None:
        entries = entries.filter(contact_id=filters.contact_id)
    if filters.contact_ids is not None:
        entries = entries.filter(contact_id__in=filters.contact_ids)
    return entries.select_related("contact").order_by(*NEWEST_FIRST)


def consent_event_who(entry: ConsentEvent) -> str:
    """Who caused the entry, as a reader of the ledger says it."""
    if entry.actor:
        return entry.actor
    if entry.source == ConsentSource.KEYWORD:
        number = format_for_display(entry.phone_number) if entry.phone_number else ""
        return f"The contact, from {number}" if number else "The contact"
    if entry.source == ConsentSource.MESSAGE:
        return "Twoway (automatic)"
    # Entries written before the ledger kept who: their text names the person.
    return ""


def consent_events_in_batches(entries: QuerySet[ConsentEvent]) -> Iterator[list[ConsentEvent]]:
    """`entries` (newest first) a batch at a time, each batch one query that starts after the
    last entry of the one before: memory stays flat however long the ledger, and entries
    appended meanwhile (newer than the first batch) are not mixed in."""
    batch = list(entries[:EXPORT_BATCH])
    while batch:
        yield batch
        last = batch[-1]
        older = Q(created_at__lt=last.created_at) | Q(created_at=last.created_at, pk__lt=last.pk)
        batch = list(entries.filter(older)[:EXPORT_BATCH])


def consent_csv_row(entry: ConsentEvent, zone: datetime.tzinfo) -> list[str]:
    """An entry as `CSV_COLUMNS` (the time in `zone`, the organization's, ISO 8601 with its
    offset); cells are plain text, guarded for spreadsheets by the writer."""
    contact = entry.contact
    number = entry.phone_number or ""
    return [
        entry.created_at.astimezone(zone).isoformat(timespec="seconds"),
        entry.get_kind_display(),
        entry.get_source_display(),
        consent_event_who(entry),
        contact.name,
        number,
        entry.text,
        str(entry.pk),
    ]
