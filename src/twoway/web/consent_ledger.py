"""The consent ledger, read: one contact's Consent history on their card, and the whole
organization's under Settings, Consent ledger (administrators), filtered and exported as CSV.
Nothing here writes: the ledger is appended to by `compliance.services` alone."""

from __future__ import annotations

import csv
import datetime
import functools
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from twoway.accounts.decorators import member_view, organization_zone
from twoway.accounts.models import Membership
from twoway.compliance.access import access_consent_ledger
from twoway.compliance.models import ConsentEvent, ConsentEventKind, ConsentSource
from twoway.compliance.selectors import (
    CSV_COLUMNS,
    LedgerFilters,
    consent_csv_row,
    consent_event_who,
    consent_events_filtered,
    consent_events_in_batches,
    consent_events_of_contact,
)
from twoway.contacts.access import access_contact
from twoway.contacts.lookup import contact_ids_matching
from twoway.core.errors import InvalidInput
from twoway.core.text import CONTACT_QUERY_MAX_LENGTH, csv_cell, query_problem

ENTRIES_PER_PAGE = 50
CONTACT_ENTRIES_PER_PAGE = 10


@dataclass
class LedgerRow:
    """An entry as the pages show it."""

    entry: ConsentEvent
    who: str


def ledger_rows(page: Page[ConsentEvent]) -> list[LedgerRow]:
    return [LedgerRow(entry, consent_event_who(entry)) for entry in page]


def contact_history_page(
    membership: Membership, contact_id: int, page_number: str | None
) -> dict[str, Any]:
    """The context of a contact's Consent history (its access checked by the caller)."""
    entries = consent_events_of_contact(membership.organization_id, contact_id)
    page = Paginator(entries, CONTACT_ENTRIES_PER_PAGE).get_page(page_number)
    return {"consent_page": page, "consent_rows": ledger_rows(page), "contact_id": contact_id}


@require_GET
@member_view
def contact_consent_history(
    request: HttpRequest, membership: Membership, contact_id: int
) -> HttpResponse:
    """One page of the card's Consent history, for its pager (htmx swaps it in place)."""
    contact = access_contact(membership, contact_id)
    context = contact_history_page(membership, contact.pk, request.GET.get("page"))
    return render(request, "web/_consent_history.html", context)


def _date(value: str, label: str) -> datetime.date | None:
    if not value:
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            f"The {label} date must be a date such as 2026-12-31.", code="invalid_date"
        ) from None


@dataclass
class SentFilters:
    """The filters as sent in the query string: checked, kept for the form and the links."""

    filters: LedgerFilters
    values: dict[str, str] = field(default_factory=dict)

    @property
    def query(self) -> str:
        return urlencode({k: v for k, v in self.values.items() if v})


def ledger_filters_from(request: HttpRequest, membership: Membership) -> SentFilters:
    """?kind=&source=&from=&to=&contact= (dates in the organization's time zone, both days
    included); anything that cannot be read is refused, saying what."""
    values = {name: request.GET.get(name, "").strip() for name in ("kind", "source", "from", "to")}
    values["contact"] = request.GET.get("contact", "").strip()
    if values["kind"] and values["kind"] not in ConsentEventKind.values:
        raise InvalidInput("Choose a kind from the list.", code="invalid_kind")
    if values["source"] and values["source"] not in ConsentSource.values:
        raise InvalidInput("Choose a source from the list.", code="invalid_source")
    problem = query_problem(values["contact"], CONTACT_QUERY_MAX_LENGTH)
    if problem:
        raise InvalidInput(problem, code="invalid_query")
    start, end = _date(values["from"], "From"), _date(values["to"], "To")
    if start and end and start > end:
        raise InvalidInput("The From date is after the To date.", code="invalid_dates")
    zone = organization_zone(membership.organization.time_zone)
    organization = membership.organization
    filters = LedgerFilters(
        kind=values["kind"],
        source=values["source"],
        since=datetime.datetime.combine(start, datetime.time.min, zone) if start else None,
        until=(
            datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time.min, zone)
            if end
            else None
        ),
        contact_ids=(
            contact_ids_matching(organization.pk, values["contact"], organization.country)
            if values["contact"]
            else None
        ),
    )
    return SentFilters(filters, values)


@require_GET
@member_view
def consent_ledger(request: HttpRequest, membership: Membership) -> HttpResponse:
    entries = access_consent_ledger(membership)
    context: dict[str, Any] = {
        "membership": membership,
        "kinds": ConsentEventKind.choices,
        "sources": ConsentSource.choices,
    }
    try:
        sent = ledger_filters_from(request, membership)
    except InvalidInput as exc:
        values = {n: request.GET.get(n, "") for n in ("kind", "source", "from", "to", "contact")}
        context.update(error=exc.message, values=values, page=None, rows=[])
        return render(request, "web/settings/consent_ledger.html", context, status=400)
    page = Paginator(consent_events_filtered(entries, sent.filters), ENTRIES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    context.update(values=sent.values, query=sent.query, page=page, rows=ledger_rows(page))
    return render(request, "web/settings/consent_ledger.html", context)


class _Line:
    """A file for `csv.writer` that hands back each row it is given, to stream it."""

    def write(self, value: str) -> str:
        return value


def _csv_text(entries: QuerySet[ConsentEvent], zone: datetime.tzinfo) -> Iterator[str]:
    writer = csv.writer(_Line())
    # The BOM: spreadsheets then read the file as UTF-8, as the contacts export is.
    yield "\ufeff" + writer.writerow(CSV_COLUMNS)
    for batch in consent_events_in_batches(entries):
        # Every cell guarded: a contact's text such as "=HYPERLINK(...)" stays text.
        yield "".join(
            writer.writerow([csv_cell(cell) for cell in consent_csv_row(entry, zone)])
            for entry in batch
        )


async def _streamed(chunks: Iterator[str]) -> AsyncIterator[str]:
    """`chunks` read a batch at a time off the event loop, in the request's thread (its
    database connection), so an ASGI server sends each batch as it is read."""
    step = sync_to_async(functools.partial(next, chunks, None))
    while (chunk := await step()) is not None:
        yield chunk


@require_GET
@member_view
def consent_ledger_export(request: HttpRequest, membership: Membership) -> HttpResponse:
    """The filtered entries as CSV, streamed while they are read: the whole ledger of years
    needs no background job and no file kept."""
    entries = access_consent_ledger(membership)
    sent = ledger_filters_from(request, membership)
    zone = organization_zone(membership.organization.time_zone)
    chunks = _csv_text(consent_events_filtered(entries, sent.filters), zone)
    content = _streamed(chunks) if isinstance(request, ASGIRequest) else chunks
    response = StreamingHttpResponse(content, content_type="text/csv; charset=utf-8")
    day = timezone.localdate()
    response["Content-Disposition"] = f'attachment; filename="consent-ledger-{day}.csv"'
    # Streamed, which the views' decorator passes on like any other answer.
    return response  # type: ignore[return-value]
