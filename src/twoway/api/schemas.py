"""Request and response bodies of the API. Shapes only: every rule lives in the services."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from ninja import Field, Schema
from pydantic import field_validator

# ---- errors ---------------------------------------------------------------------------------


class ErrorDetail(Schema):
    code: str = Field(description="Stable, machine-readable reason, e.g. `opted_out`.")
    message: str = Field(description="A sentence meant to be shown to a person as it is.")


class ErrorOut(Schema):
    error: ErrorDetail


class ValidationErrorOut(Schema):
    """django-ninja's own format for a request that does not match the schema."""

    detail: list[dict[str, Any]]


# Declared on every operation so clients (and schemathesis) know each failure's shape.
ERROR_RESPONSES: dict[int, type[Schema]] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    422: ValidationErrorOut,
}


# ---- messages -------------------------------------------------------------------------------


class MessageIn(Schema):
    # `from` is a Python keyword, hence the alias.
    from_: int | str | None = Field(
        None,
        alias="from",
        description=(
            "One of your numbers: E.164 (`+14155550100`), as typed, or its numeric id. Required "
            "for direct texts. Transactional texts may leave it out (the organization's own "
            "number, sent from the shared system number until it is verified); marketing texts "
            "usually do (the system number)."
        ),
        examples=["+14155550100"],
    )
    to: str = Field(
        description="The contact's number: 10 digits (`415-555-0123`) or E.164.",
        examples=["415-555-0123"],
    )
    body: str = Field(description="The text; at most the organization's maximum length.")
    category: Literal["direct", "transactional", "marketing"] = Field(
        "direct",
        description="`marketing` is never sent to a contact who opted out, even when confirmed.",
    )
    confirm_opted_out: bool = Field(
        False,
        description="Send a direct or transactional text to a contact who opted out anyway.",
    )

    @field_validator("from_", mode="before")
    @classmethod
    def _reject_booleans(cls, value: object) -> object:
        # pydantic's lax int reads `true` as 1, which would pick the number with id 1. (StrictInt
        # would also refuse 15.0, which JSON Schema counts as an integer.)
        if isinstance(value, bool):
            raise ValueError("Give a phone number or a number id, not true or false.")
        return value


class MessageOut(Schema):
    """A message or a note of a conversation; notes (`kind` "note") never reach the contact."""

    id: UUID = Field(validation_alias="uid")
    conversation_id: int | None = Field(
        description="None for texts that open no conversation (marketing)."
    )
    kind: str
    direction: str
    status: str = Field(description="Delivery status; empty for notes.")
    category: str
    body: str
    segments: int
    encoding: str
    # Read from the model's *_number columns, written as `from`/`to` (routers use by_alias).
    from_: str = Field(validation_alias="from_number", serialization_alias="from")
    to: str = Field(validation_alias="to_number")
    error_code: str
    error_message: str
    created_at: datetime
    sent_at: datetime | None
    delivered_at: datetime | None


class NoteIn(Schema):
    body: str


# ---- conversations and numbers --------------------------------------------------------------


class AssigneeOut(Schema):
    id: int = Field(description="The user's id, as `user_id` takes it.")
    name: str = Field(description="Their full name, or their e-mail when they have none.")


class AssigneeTeamOut(Schema):
    id: int
    name: str


class ConversationOut(Schema):
    id: int
    folder: str
    contact_id: int
    contact_number: str
    phone_number_id: int
    unread_count: int
    muted: bool
    assignee: AssigneeOut | None = Field(
        description="The person it is assigned to; None when unassigned or assigned to a team."
    )
    assignee_team: AssigneeTeamOut | None = Field(
        description="The team it is assigned to; None when unassigned or assigned to a person."
    )
    last_message_at: datetime | None
    last_message_preview: str
    created_at: datetime

    @staticmethod
    def resolve_assignee(conversation: Any) -> dict[str, Any] | None:
        user = conversation.assignee
        if user is None:
            return None
        return {"id": user.pk, "name": user.get_full_name() or user.email}


# The largest id a row can have: the databases' integers are 64-bit.
MAX_ID = 2**63 - 1


class AssignIn(Schema):
    """One of `user_id` and `team_id`, or neither to unassign."""

    user_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="A member who may use the conversation's number."
    )
    team_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="A team of your organization the number is open to."
    )

    @field_validator("user_id", "team_id", mode="before")
    @classmethod
    def _reject_booleans(cls, value: object) -> object:
        # pydantic's lax int reads `true` as 1, which would pick the user or team with id 1.
        if isinstance(value, bool):
            raise ValueError("Give an id, not true or false.")
        return value


class PhoneNumberOut(Schema):
    id: int
    number: str
    label: str
    number_type: str
    sms_enabled: bool
    mms_enabled: bool


# ---- contacts -------------------------------------------------------------------------------


class ContactOut(Schema):
    id: int
    name: str
    email: str
    phones: list[str] = Field(description="E.164 numbers, oldest first.")
    opt_in_status: Literal["opted_in", "opted_out"]
    consent_status: str
    external_uid: str
    client_id: str
    created_from: str
    created_at: datetime

    @staticmethod
    def resolve_phones(contact: Any) -> list[str]:
        return [phone.number for phone in sorted(contact.phones.all(), key=lambda p: p.pk)]


class ContactPatch(Schema):
    """Only the fields sent change."""

    name: str | None = Field(None, max_length=200)
    email: str | None = Field(None, max_length=254)
    opted_out: bool | None = Field(
        None, description="Opt the contact out (true) or back in (false); written to the ledger."
    )
