"""Request and response bodies of the API. Shapes and the limits every text has; the rules
that depend on the organization live in the services."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from ninja import Field, Schema
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    StrictBool,
    StrictFloat,
    StrictInt,
    StringConstraints,
    WithJsonSchema,
    field_validator,
)
from pydantic_core import PydanticCustomError

from twoway.accounts.models import RENDERED_MAX_LENGTH
from twoway.accounts.names import person_name
from twoway.contacts.models import phones_in_order
from twoway.contacts.validation import custom_value_read
from twoway.core.text import NUL_MESSAGE, has_nul
from twoway.media.models import MediaStatus
from twoway.media.rules import MMS_ENCODING
from twoway.media.signing import media_public_url

# ---- text and bodies ------------------------------------------------------------------------

# The schema's way of saying "no NUL character" (ECMA regular expression, as OpenAPI uses).
NO_NUL_PATTERN = "^[^\\x00]*$"


def _refuse_nul(value: str) -> str:
    if has_nul(value):
        raise PydanticCustomError("null_character", NUL_MESSAGE)
    return value


# A string of the API without NUL characters, on either database. The pattern tells the
# schema's readers; the validator says what is wrong in plain words. Every text field also has
# a maximum length (the column's size, or what carriers accept), so a long value is a 422 and
# never a database error.
NulFree = Annotated[
    str, AfterValidator(_refuse_nul), Field(json_schema_extra={"pattern": NO_NUL_PATTERN})
]


def lengths(min_length: int, max_length: int) -> StringConstraints:
    return StringConstraints(min_length=min_length, max_length=max_length)


# The largest id a row can have: the databases' integers are 64-bit.
MAX_ID = 2**63 - 1


class InputSchema(BaseModel):
    """A request body: a JSON object of known keys. A plain pydantic model, not ninja's Schema,
    whose validator reads attributes off anything given, so that `"hello"`, `123` or `null`
    were read as an object with every key missing; and an unknown key is refused instead of
    ignored (a misspelt `userid` unassigned a conversation)."""

    model_config = ConfigDict(extra="forbid")


class OutputSchema(BaseModel):
    """A response body, read off a model's attributes or a dict. A plain pydantic model, not
    ninja's Schema, whose validator wraps every object it reads: the answer of a 1,000-text
    batch spent about a seventh of its CPU there."""

    model_config = ConfigDict(from_attributes=True)


# ---- errors ---------------------------------------------------------------------------------


class ErrorDetail(OutputSchema):
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
    # An address that sent too many wrong keys is refused for a while.
    429: ErrorOut,
}


# ---- messages -------------------------------------------------------------------------------


# One of the organization's numbers: its id, or the number as typed.
NumberRef = Annotated[int, Field(ge=1, le=MAX_ID)] | Annotated[NulFree, lengths(1, 40)]


class MessageIn(InputSchema):
    # `from` is a Python keyword, hence the alias.
    from_: NumberRef | None = Field(
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
    to: Annotated[NulFree, lengths(1, 40)] = Field(
        description="The contact's number: 10 digits (`415-555-0123`) or E.164. Not an "
        "extension, a premium-rate number, one of your own numbers or a country outside the "
        "organization's allowed destinations (400 with the reason).",
        examples=["415-555-0123"],
    )
    body: Annotated[NulFree, lengths(1, RENDERED_MAX_LENGTH)] = Field(
        description="The text; at most the organization's maximum length (400 `too_long` "
        "beyond it), and something visible (400 `empty_body` for spaces or invisible marks only). "
        "Emoji names between colons (`:thumbs_up:`, `:+1:`) are sent as the emoji."
    )
    category: Literal["direct", "transactional", "marketing"] = Field(
        "direct",
        description="`marketing` is never sent to a contact who opted out, even when confirmed.",
    )
    # Strict: true or false, not 0, "yes" or "off" (the schema says boolean).
    confirm_opted_out: StrictBool = Field(
        False,
        description="Send a direct or transactional text to a contact who opted out anyway.",
    )
    send_at: datetime | None = Field(
        None,
        description="Send it later, at this time: ISO 8601 with its offset from UTC "
        "(`2027-01-05T09:30:00-05:00`; a time without one is a 422), in the future and at most "
        "a year ahead (400 `send_at_past`, `send_at_too_far`). The text is stored as "
        "`scheduled` and reserves its segments now; a contact who opted out cannot be sent a "
        "scheduled text (403 `opted_out`), and one who opts out before its time is not sent it.",
        examples=["2027-01-05T09:30:00-05:00"],
    )

    @field_validator("send_at", mode="after")
    @classmethod
    def _refuse_naive(cls, value: datetime | None) -> datetime | None:
        return aware_time(value)

    @field_validator("from_", mode="before")
    @classmethod
    def _reject_booleans(cls, value: object) -> object:
        # pydantic's lax int reads `true` as 1, which would pick the number with id 1. (StrictInt
        # would also refuse 15.0, which JSON Schema counts as an integer.)
        if isinstance(value, bool):
            raise ValueError("Give a phone number or a number id, not true or false.")
        # Here too, so the problem is named once and not once per member of the union.
        return _refuse_nul(value) if isinstance(value, str) else value


class MediaOut(OutputSchema):
    """A picture or video of an MMS."""

    content_type: str = Field(description="Empty while an inbound file is being fetched.")
    size: int
    status: Literal["ready", "fetching", "failed"]
    url: str | None = Field(
        description="A signed link to the file, valid for MMS_URL_MAX_AGE_SECONDS without a "
        "key; None until the file is ready."
    )


def media_out(message: Any) -> list[dict[str, Any]]:
    """An MMS's media; a plain text's are none, read without a query."""
    if message.encoding != MMS_ENCODING:
        return []
    return [
        {
            "content_type": item.content_type,
            "size": item.size,
            "status": item.status,
            "url": media_public_url(item) if item.status == MediaStatus.READY else None,
        }
        for item in message.media.all()
    ]


class MessageOut(OutputSchema):
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
    send_at: datetime | None = Field(
        description="When a scheduled text is (or was) due; None for texts sent at once."
    )
    media: list[MediaOut] = Field(
        default_factory=list, description="An MMS's pictures and videos, in order."
    )

    @field_validator("media", mode="before")
    @classmethod
    def _media_of(cls, value: Any) -> Any:
        # Read off a Message, `media` is its related manager: its message says whether it is
        # an MMS at all.
        instance = getattr(value, "instance", None)
        return media_out(instance) if instance is not None else value


class MessageChangeIn(InputSchema):
    """What to change of a scheduled text: its words, its time, or both."""

    body: Annotated[NulFree, lengths(1, RENDERED_MAX_LENGTH)] | None = Field(
        None, description="The new text, checked as `POST /messages` checks one."
    )
    send_at: datetime | None = Field(
        None, description="The new time: ISO 8601 with its offset, as `POST /messages` takes it."
    )

    @field_validator("send_at", mode="after")
    @classmethod
    def _refuse_naive(cls, value: datetime | None) -> datetime | None:
        return aware_time(value)


def aware_time(value: datetime | None) -> datetime | None:
    """A time with its offset from UTC: a time without one could mean any time zone."""
    if value is not None and value.utcoffset() is None:
        raise PydanticCustomError(
            "send_at_naive",
            "Give the time with its offset from UTC, e.g. 2027-01-05T09:30:00-05:00 or "
            "2027-01-05T14:30:00Z.",
        )
    return value


# The most texts one batch request may carry.
BATCH_MAX_MESSAGES = 1000


class MessagesBatchIn(InputSchema):
    # Each text is checked against MessageIn on its own, so one bad text is refused alone.
    messages: list[dict[str, Any]] = Field(
        min_length=1,
        max_length=BATCH_MAX_MESSAGES,
        description=f"1 to {BATCH_MAX_MESSAGES} texts, each as `POST /messages` takes one.",
    )


class BatchResultOut(OutputSchema):
    status: int = Field(
        description="What `POST /messages` would have answered for this text: 201 when it is "
        "queued, else the error's status (422 for a text that does not match the schema)."
    )
    message: MessageOut | None = Field(None, description="The message queued (201 only).")
    error: ErrorDetail | None = Field(None, description="Why the text was refused.")


class MessagesBatchOut(OutputSchema):
    accepted: int
    refused: int
    results: list[BatchResultOut] = Field(description="One per text, in the order given.")


# The longest note the conversation service stores.
NOTE_MAX_LENGTH = 5000


class NoteIn(InputSchema):
    body: Annotated[NulFree, lengths(1, NOTE_MAX_LENGTH)]


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
        return {"id": user.pk, "name": person_name(user)}


class AssignIn(InputSchema):
    """One of `user_id` and `team_id`, or neither (`{}`) to unassign; both is a 400
    (`two_assignees`)."""

    # Both ids at once is not a request this schema describes (the service answers 400).
    model_config = ConfigDict(
        json_schema_extra={
            "not": {
                "required": ["user_id", "team_id"],
                "properties": {"user_id": {"type": "integer"}, "team_id": {"type": "integer"}},
            }
        }
    )

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


class ContactPhoneOut(Schema):
    id: int
    number: str = Field(description="E.164.")
    label: str = Field(description="What the number is, e.g. `mobile`; may be empty.")
    primary: bool = Field(validation_alias="is_primary", description="The number texts go to.")


class ContactPhoneIn(InputSchema):
    number: Annotated[NulFree, lengths(1, 40)] = Field(
        description="E.164, or as typed in the organization's country (`415-555-0123`).",
        examples=["+14155550123"],
    )
    label: Annotated[NulFree, lengths(0, 40)] | None = Field(
        None, description="Left out: a number the contact has keeps its label."
    )
    primary: StrictBool = False


# A custom field's value: text, a number, a date as YYYY-MM-DD, or a choice by its name.
CustomValue = StrictInt | StrictFloat | Annotated[NulFree, lengths(0, 1000)]
GroupName = Annotated[NulFree, lengths(1, 100)]
# Stated whole: pydantic would put a key's pattern in `patternProperties`, which leaves the
# values of keys outside the pattern (one with a NUL) unconstrained.
CustomFields = Annotated[
    dict[Annotated[str, lengths(1, 100), AfterValidator(_refuse_nul)], CustomValue | None],
    WithJsonSchema(
        {
            "type": "object",
            "propertyNames": {"minLength": 1, "maxLength": 100, "pattern": NO_NUL_PATTERN},
            "additionalProperties": {
                "anyOf": [
                    {"type": "integer"},
                    {"type": "number"},
                    {"type": "string", "maxLength": 1000, "pattern": NO_NUL_PATTERN},
                    {"type": "null"},
                ]
            },
        }
    ),
]


class ContactOut(Schema):
    id: int
    name: str = Field(description="First and last name together, as the inbox shows it.")
    first_name: str
    last_name: str
    email: str
    phones: list[ContactPhoneOut] = Field(description="The primary first, then oldest first.")
    external_uid: str
    client_id: str
    client_type: str
    groups: list[str] = Field(description="Names of the contact's groups, alphabetically.")
    home_location: str
    time_zone: str = Field(description="IANA name; empty means the organization's.")
    custom_fields: dict[str, str | int | float] = Field(
        description="The contact's values of the organization's custom fields, by field name."
    )
    opt_in_status: Literal["opted_in", "opted_out"]
    consent_status: str
    created_from: Literal["manual", "import", "api", "inbound"]
    source_number: str | None = Field(
        description="For a lead: the organization's number it first texted."
    )
    lead_texted_at: datetime | None = Field(description="For a lead: when it first texted.")
    created_at: datetime

    @staticmethod
    def resolve_phones(contact: Any) -> list[Any]:
        return phones_in_order(contact.phones.all())

    @staticmethod
    def resolve_groups(contact: Any) -> list[str]:
        return sorted(group.name for group in contact.groups.all())

    @staticmethod
    def resolve_custom_fields(contact: Any) -> dict[str, str | int | float]:
        return {
            value.field.name: custom_value_read(value.field, value.value)
            for value in contact.custom_values.all()
        }

    @staticmethod
    def resolve_source_number(contact: Any) -> str | None:
        number = contact.source_number
        return number.number if number is not None else None


class ContactIn(InputSchema):
    """A contact's fields; on PATCH only the fields sent change."""

    name: Annotated[NulFree, lengths(0, 200)] | None = Field(
        None,
        description="A whole name, split into first name and last name (its last word); "
        "or send `first_name` and `last_name` instead.",
    )
    first_name: Annotated[NulFree, lengths(0, 100)] | None = None
    last_name: Annotated[NulFree, lengths(0, 100)] | None = None
    email: Annotated[NulFree, lengths(0, 254)] | None = None
    phones: list[ContactPhoneIn] | None = Field(
        None,
        max_length=20,
        description="Every phone number of the contact: numbers left out are removed. At most "
        "one `primary`; with none, the primary stays (or is the first).",
    )
    external_uid: Annotated[NulFree, lengths(0, 100)] | None = None
    client_id: Annotated[NulFree, lengths(0, 100)] | None = None
    client_type: Annotated[NulFree, lengths(0, 100)] | None = None
    groups: list[GroupName] | None = Field(
        None,
        max_length=200,
        description="Every group of the contact, by name; the groups must exist (Settings, "
        "Contact fields).",
    )
    home_location: Annotated[NulFree, lengths(0, 200)] | None = None
    time_zone: Annotated[NulFree, lengths(0, 64)] | None = Field(
        None, description="IANA name such as `America/Chicago`; empty for the organization's."
    )
    custom_fields: CustomFields | None = Field(
        None,
        description='Values of custom fields by name; only those sent change, `null` or `""` '
        "clears one. A name the organization has not defined answers 400 "
        "`unknown_custom_field`.",
    )
    opted_out: StrictBool | None = Field(
        None, description="Opt the contact out (true) or back in (false); written to the ledger."
    )


class ContactPatch(ContactIn):
    """Only the fields sent change."""


Keep = Literal["this", "other"]
# Stated whole, as CustomFields is.
KeepByName = Annotated[
    dict[Annotated[str, lengths(1, 100), AfterValidator(_refuse_nul)], Keep],
    WithJsonSchema(
        {
            "type": "object",
            "propertyNames": {"minLength": 1, "maxLength": 100, "pattern": NO_NUL_PATTERN},
            "additionalProperties": {"type": "string", "enum": ["this", "other"]},
        }
    ),
]


class ContactMergeKeep(InputSchema):
    """Which contact's value survives, by field: `this` (the contact merged into, in the
    path) or `other` (the one merged away). A field left out keeps this contact's value, or
    the other's where this one's is empty."""

    first_name: Keep | None = None
    last_name: Keep | None = None
    email: Keep | None = None
    external_uid: Keep | None = None
    client_id: Keep | None = None
    client_type: Keep | None = None
    home_location: Keep | None = None
    time_zone: Keep | None = None
    custom_fields: KeepByName | None = Field(
        None,
        description="By custom field name; a name the organization has not defined answers "
        "400 `unknown_custom_field`.",
    )


class ContactMergeIn(InputSchema):
    merge: int = Field(
        ge=1, le=MAX_ID, description="The contact merged away into this one, then deleted."
    )
    keep: ContactMergeKeep | None = None

    @field_validator("merge", mode="before")
    @classmethod
    def _an_integer(cls, value: object) -> object:
        # pydantic's lax int reads `true` and "12" as ids; 12.0 is one (JSON Schema says so).
        if isinstance(value, bool | str):
            raise ValueError("Give the other contact's id, a number.")
        return value
