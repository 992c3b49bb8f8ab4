"""Contacts: list, read, edit (name, e-mail, opted out). Administrative and Standard keys only.

No `from __future__ import annotations` here: @paginate wraps the list view (see
conversations.py).
"""

from typing import Annotated

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from twoway.api.auth import request_membership
from twoway.api.pagination import Pagination
from twoway.api.schemas import ERROR_RESPONSES, ContactOut, ContactPatch, NulFree, lengths
from twoway.contacts.access import access_contact
from twoway.contacts.models import Contact
from twoway.contacts.selectors import contacts_list
from twoway.contacts.services import contact_update
from twoway.core.text import CONTACT_QUERY_MAX_LENGTH

router = Router(tags=["contacts"])


class ContactListParams(Schema):
    q: Annotated[NulFree, lengths(0, CONTACT_QUERY_MAX_LENGTH)] = Field(
        "", description="Part of a name, e-mail or phone number; empty lists them all."
    )


@router.get("", response={200: list[ContactOut], **ERROR_RESPONSES}, operation_id="contact_list")
@paginate(Pagination)
def list_contacts(request: HttpRequest, params: Query[ContactListParams]) -> QuerySet[Contact]:
    """The organization's contacts by name; `q` matches part of a name, e-mail or phone."""
    return contacts_list(request_membership(request), params.q)


@router.get(
    "/{contact_id}", response={200: ContactOut, **ERROR_RESPONSES}, operation_id="contact_get"
)
def get_contact(request: HttpRequest, contact_id: int) -> Contact:
    return access_contact(request_membership(request), contact_id)


@router.patch(
    "/{contact_id}", response={200: ContactOut, **ERROR_RESPONSES}, operation_id="contact_update"
)
def update_contact(request: HttpRequest, contact_id: int, payload: ContactPatch) -> Contact:
    """Change the fields you send. `opted_out` is recorded in the consent ledger."""
    membership = request_membership(request)
    contact = access_contact(membership, contact_id)
    return contact_update(
        contact=contact,
        changed_by=membership,
        source="api",
        name=payload.name,
        email=payload.email,
        opted_out=payload.opted_out,
    )
