"""GET /consent: the consent ledger, newest first, with the web page's filters.

The whole organization's ledger is for administrators' keys; a key whose owner may open a
contact (Administrative, Standard) reads that contact's entries with `contact_id`, as their
card shows them. No `from __future__ import annotations` here: @paginate wraps the list view
(see conversations.py).
"""

from datetime import datetime
from typing import Annotated

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from twoway.api.auth import request_membership
from twoway.api.pagination import Pagination
from twoway.api.schemas import ERROR_RESPONSES, NulFree, lengths
from twoway.api.search import IsoDateTime
from twoway.compliance.access import access_consent_ledger
from twoway.compliance.models import ConsentEvent, ConsentEventKind, ConsentSource
from twoway.compliance.selectors import (
    LedgerFilters,
    consent_event_who,
    consent_events_filtered,
    consent_events_of_contact,
)
from twoway.contacts.access import access_contact
from twoway.contacts.lookup import contact_ids_matching
from twoway.core.errors import InvalidInput
from twoway.core.text import CONTACT_QUERY_MAX_LENGTH

router = Router(tags=["consent"])


class ConsentEventOut(Schema):
    id: int
    kind: ConsentEventKind = Field(
        description="opt_out, opt_in, consent_sent (the consent message went), opt_out_flagged "
        "(a worded possible opt-out) or flag_dismissed (an agent decided it was not one)."
    )
    source: ConsentSource = Field(
        description="keyword (the contact's text), manual (a person in Twoway), api, import, "
        "message (Twoway's consent message) or merge (two contacts merged)."
    )
    who: str = Field(
        description="The e-mail of the person who caused it, or the contact, or Twoway; "
        "empty for old entries whose `text` names the person."
    )
    text: str = Field(description="The words that caused it, or who changed it and how.")
    phone_number: str = Field(description="The contact's number it concerns, if one.")
    contact_id: int
    contact_name: str
    message_id: int | None = Field(description="The message that caused it or that it is.")
    created_at: datetime

    @staticmethod
    def resolve_who(entry: ConsentEvent) -> str:
        return consent_event_who(entry)

    @staticmethod
    def resolve_contact_name(entry: ConsentEvent) -> str:
        return entry.contact.name


class ConsentListParams(Schema):
    kind: ConsentEventKind | None = None
    source: ConsentSource | None = None
    since: IsoDateTime | None = Field(None, description="Recorded at or after.")
    until: IsoDateTime | None = Field(None, description="Recorded before.")
    contact_id: int | None = Field(None, ge=1, description="Only this contact's entries.")
    contact: Annotated[NulFree, lengths(0, CONTACT_QUERY_MAX_LENGTH)] = Field(
        "",
        description="Part of a contact's name, e-mail, external UID or client ID, or of one of "
        "their numbers (its digits, typed any way).",
    )


def _entries(request: HttpRequest, params: ConsentListParams) -> QuerySet[ConsentEvent]:
    membership = request_membership(request)
    if params.contact_id is not None:
        # Another organization's contact, or one the owner may not open, is not found.
        contact = access_contact(membership, params.contact_id)
        entries = consent_events_of_contact(membership.organization_id, contact.pk)
    else:
        entries = access_consent_ledger(membership)
    if params.since and params.until and params.since >= params.until:
        raise InvalidInput("`since` must be before `until`.", code="invalid_dates")
    organization = membership.organization
    filters = LedgerFilters(
        kind=params.kind or "",
        source=params.source or "",
        since=params.since,
        until=params.until,
        contact_id=params.contact_id,
        contact_ids=(
            contact_ids_matching(organization.pk, params.contact, organization.country)
            if params.contact.strip()
            else None
        ),
    )
    return consent_events_filtered(entries, filters)


@router.get(
    "", response={200: list[ConsentEventOut], **ERROR_RESPONSES}, operation_id="consent_list"
)
@paginate(Pagination)
def list_consent(request: HttpRequest, params: Query[ConsentListParams]) -> QuerySet[ConsentEvent]:
    """The consent ledger's entries that meet every filter, newest first. Entries are never
    changed or removed: there is nothing to write here."""
    return _entries(request, params)
