"""Canned responses: the organization's and the key owner's own; list, read, add, edit, delete,
and one filled in for a conversation's contact, as the composer's picker fills it.

No `from __future__ import annotations` here: @paginate wraps the list view (see
conversations.py).
"""

from datetime import datetime
from typing import Annotated, Any, Literal

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status
from pydantic import model_validator

from twoway.api.auth import request_membership
from twoway.api.pagination import Pagination
from twoway.api.schemas import (
    ERROR_RESPONSES,
    MAX_ID,
    ErrorOut,
    InputSchema,
    NulFree,
    OutputSchema,
    ValidationErrorOut,
    lengths,
)
from twoway.canned.access import access_canned_response, access_canned_response_change
from twoway.canned.merge_fields import placeholders
from twoway.canned.models import CANNED_BODY_MAX_LENGTH, CANNED_NAME_MAX_LENGTH, CannedResponse
from twoway.canned.selectors import canned_response_filled, canned_responses_list
from twoway.canned.services import (
    canned_response_create,
    canned_response_delete,
    canned_response_update,
)

router = Router(tags=["canned responses"])

# A text naming a merge field the organization does not have is a 422 in the API's error format
# (`unknown_merge_field`), beside ninja's own 422 for a body that does not match the schema.
WRITE_ERRORS = {**ERROR_RESPONSES, 422: ValidationErrorOut | ErrorOut}

Scope = Literal["organization", "personal"]
Name = Annotated[NulFree, lengths(1, CANNED_NAME_MAX_LENGTH)]
Body = Annotated[NulFree, lengths(1, CANNED_BODY_MAX_LENGTH)]
BODY_HELP = (
    "The text. Merge fields in braces (`{first_name}`, `{last_name}`, `{business_name}`, "
    "`{agent_name}`, and each custom contact field's name in lower case with `_` for spaces, "
    "e.g. `{membership_level}`) are filled in for the contact; an unknown one answers 422 "
    "`unknown_merge_field`."
)


class CannedResponseOut(OutputSchema):
    id: int
    name: str
    body: str
    scope: Scope = Field(
        description="`organization`: everyone's, kept by administrators; `personal`: the key "
        "owner's own, seen by nobody else."
    )
    merge_fields: list[str] = Field(description="The merge fields the text uses, in order.")
    created_at: datetime
    updated_at: datetime

    @model_validator(mode="before")
    @classmethod
    def _from_model(cls, value: Any) -> Any:
        if not isinstance(value, CannedResponse):
            return value
        return {
            "id": value.pk,
            "name": value.name,
            "body": value.body,
            "scope": "personal" if value.is_personal else "organization",
            "merge_fields": placeholders(value.body),
            "created_at": value.created_at,
            "updated_at": value.updated_at,
        }


class CannedResponseIn(InputSchema):
    name: Name
    body: Body = Field(description=BODY_HELP)
    scope: Scope = Field(
        "personal", description="`organization` needs an administrator's key (403 otherwise)."
    )


class CannedResponsePatch(InputSchema):
    name: Name | None = None
    body: Body | None = Field(None, description=BODY_HELP)


class CannedResponseFilled(OutputSchema):
    id: int
    conversation_id: int
    text: str = Field(
        description="The text with the contact's values in; a field without a value stays as "
        "written (`{first_name}`), so the gap shows, and is listed in `empty_fields`."
    )
    empty_fields: list[str] = Field(description="Merge fields this contact has no value for.")
    unknown_fields: list[str] = Field(
        description="Braced names that are no merge field any more (a custom field renamed or "
        "deleted since the text was saved), left as written."
    )


class FillParams(Schema):
    conversation_id: int = Field(
        ge=1, le=MAX_ID, description="A conversation the key's owner sees: its contact's values."
    )


@router.get(
    "",
    response={200: list[CannedResponseOut], **ERROR_RESPONSES},
    operation_id="canned_response_list",
)
@paginate(Pagination)
def list_canned_responses(request: HttpRequest) -> QuerySet[CannedResponse]:
    """The organization's responses, then the key owner's own, each by name."""
    return canned_responses_list(request_membership(request))


@router.post(
    "", response={201: CannedResponseOut, **WRITE_ERRORS}, operation_id="canned_response_create"
)
def create_canned_response(request: HttpRequest, payload: CannedResponseIn) -> Status:
    canned = canned_response_create(
        actor=request_membership(request),
        name=payload.name,
        body=payload.body,
        personal=payload.scope == "personal",
    )
    return Status(201, canned)


@router.get(
    "/{canned_id}",
    response={200: CannedResponseOut, **ERROR_RESPONSES},
    operation_id="canned_response_get",
)
def get_canned_response(request: HttpRequest, canned_id: int) -> CannedResponse:
    """The organization's, or the key owner's own; another person's is not found (404)."""
    return access_canned_response(request_membership(request), canned_id)


@router.patch(
    "/{canned_id}",
    response={200: CannedResponseOut, **WRITE_ERRORS},
    operation_id="canned_response_update",
)
def update_canned_response(
    request: HttpRequest, canned_id: int, payload: CannedResponsePatch
) -> CannedResponse:
    """Change what you send; the organization's need an administrator's key (403)."""
    membership = request_membership(request)
    canned = access_canned_response_change(membership, canned_id)
    canned_response_update(actor=membership, canned=canned, name=payload.name, body=payload.body)
    return canned


@router.delete(
    "/{canned_id}",
    response={204: None, **ERROR_RESPONSES},
    operation_id="canned_response_delete",
)
def delete_canned_response(request: HttpRequest, canned_id: int) -> Status[None]:
    membership = request_membership(request)
    canned = access_canned_response_change(membership, canned_id)
    canned_response_delete(actor=membership, canned=canned)
    return Status(204, None)


@router.get(
    "/{canned_id}/rendered",
    response={200: CannedResponseFilled, **ERROR_RESPONSES},
    operation_id="canned_response_rendered",
)
def render_canned_response(
    request: HttpRequest, canned_id: int, params: Query[FillParams]
) -> CannedResponseFilled:
    """The text filled in for the contact of `conversation_id`, as the composer's picker puts
    it in the message box. Nothing is sent."""
    canned, filled = canned_response_filled(
        request_membership(request), canned_id=canned_id, conversation_id=params.conversation_id
    )
    return CannedResponseFilled(
        id=canned.pk,
        conversation_id=params.conversation_id,
        text=filled.text,
        empty_fields=filled.empty,
        unknown_fields=filled.unknown,
    )
