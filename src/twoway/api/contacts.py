"""Contacts: list, read, add and edit every field. Administrative and Standard keys only.

No `from __future__ import annotations` here: @paginate wraps the list view (see
conversations.py).
"""

from typing import Annotated

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status

from twoway.api.auth import request_membership
from twoway.api.pagination import Pagination
from twoway.api.schemas import (
    ERROR_RESPONSES,
    ContactIn,
    ContactMergeIn,
    ContactMergeKeep,
    ContactOut,
    ContactPatch,
    ErrorOut,
    NulFree,
    lengths,
)
from twoway.contacts.access import ContactMerged, access_contact
from twoway.contacts.models import Contact
from twoway.contacts.selectors import CONTACT_RELATIONS, contacts_list
from twoway.contacts.services import (
    ContactChanges,
    contact_create,
    contact_update,
)
from twoway.contacts.validation import PhoneInput
from twoway.conversations.contact_merge import contact_merge
from twoway.core.text import CONTACT_QUERY_MAX_LENGTH

router = Router(tags=["contacts"])


class ContactListParams(Schema):
    q: Annotated[NulFree, lengths(0, CONTACT_QUERY_MAX_LENGTH)] = Field(
        "",
        description="Part of a name, e-mail, external UID, client ID or phone number (its "
        "digits, typed any way); empty lists them all.",
    )


def _changes(payload: ContactIn) -> ContactChanges:
    """The body as the contact services take it (fields not sent stay None)."""
    values = payload.model_dump(exclude_unset=True, exclude={"phones"})
    phones = None
    if payload.phones is not None:
        phones = [PhoneInput(p.number, p.label, p.primary) for p in payload.phones]
    return ContactChanges(**values, phones=phones)


def _read(contact: Contact) -> Contact:
    """The contact as stored, with what its every field needs."""
    return (
        Contact.objects.prefetch_related(*CONTACT_RELATIONS)
        .select_related("source_number")
        .get(pk=contact.pk)
    )


@router.get("", response={200: list[ContactOut], **ERROR_RESPONSES}, operation_id="contact_list")
@paginate(Pagination)
def list_contacts(request: HttpRequest, params: Query[ContactListParams]) -> QuerySet[Contact]:
    """The organization's contacts by name; `q` matches part of a name, e-mail or phone."""
    return contacts_list(request_membership(request), params.q).select_related("source_number")


@router.post("", response={201: ContactOut, **ERROR_RESPONSES}, operation_id="contact_create")
def create_contact(request: HttpRequest, payload: ContactIn) -> Status:
    """Add a contact (created from `api`). It needs a name, a phone number or an e-mail; a
    number another contact has answers 400 `phone_taken`."""
    membership = request_membership(request)
    contact = contact_create(
        organization=membership.organization, created_by=membership, changes=_changes(payload)
    )
    return Status(201, _read(contact))


@router.get(
    "/{contact_id}",
    response={200: ContactOut, 308: ErrorOut, **ERROR_RESPONSES},
    operation_id="contact_get",
)
def get_contact(request: HttpRequest, contact_id: int) -> Contact | HttpResponse:
    """A contact merged into another answers 308, its `Location` the survivor (an error body
    `contact_merged` says so too); a write to it answers 404 `contact_merged`, naming it."""
    try:
        return _read(access_contact(request_membership(request), contact_id))
    except ContactMerged as merged:
        body = {"error": {"code": merged.code, "message": merged.message}}
        response = JsonResponse(body, status=308)
        response["Location"] = f"{request.path.rsplit('/', 1)[0]}/{merged.survivor_id}"
        return response


@router.patch(
    "/{contact_id}", response={200: ContactOut, **ERROR_RESPONSES}, operation_id="contact_update"
)
def update_contact(request: HttpRequest, contact_id: int, payload: ContactPatch) -> Contact:
    """Change the fields you send; a refused change changes nothing. `opted_out` is recorded
    in the consent ledger."""
    membership = request_membership(request)
    contact = access_contact(membership, contact_id)
    contact_update(contact=contact, changed_by=membership, source="api", changes=_changes(payload))
    return _read(contact)


@router.post(
    "/{contact_id}/merge",
    response={200: ContactOut, **ERROR_RESPONSES},
    operation_id="contact_merge",
)
def merge_contact(request: HttpRequest, contact_id: int, payload: ContactMergeIn) -> Contact:
    """Merge contact `merge` into this one, which keeps every phone (its primary stays),
    group, custom value, conversation and consent ledger entry of both, and answers as it
    now is; `keep` picks the surviving values. Opted out wins (recorded in the ledger). The
    merged contact's id then leads here (GET answers 308). A contact merged with itself
    answers 400 `merge_same_contact`; one of another organization, 404."""
    keep = payload.keep or ContactMergeKeep.model_validate({})
    survivor = contact_merge(
        membership=request_membership(request),
        survivor_id=contact_id,
        merged_id=payload.merge,
        keep=keep.model_dump(exclude_none=True, exclude={"custom_fields"}),
        keep_custom=keep.custom_fields,
    )
    return _read(survivor)
