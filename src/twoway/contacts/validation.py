"""What a contact's fields may hold, checked before anything is written: each problem is an
`InvalidInput` whose message names the field and says what to do."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from twoway.accounts.services import time_zone_names
from twoway.contacts.models import CustomField, CustomFieldKind
from twoway.core.errors import InvalidInput
from twoway.core.phones import InvalidPhoneNumber, normalize_phone
from twoway.core.text import NUL_MESSAGE, has_nul

# The longest value of each text field (the column's size), by the name a person reads.
TEXT_FIELDS: dict[str, tuple[str, int]] = {
    "first_name": ("First name", 100),
    "last_name": ("Last name", 100),
    "email": ("E-mail", 254),
    "external_uid": ("External UID", 100),
    "client_id": ("Client ID", 100),
    "client_type": ("Client type", 100),
    "home_location": ("Home location", 200),
    "time_zone": ("Time zone", 64),
}
NAME_MAX_LENGTH = 200
PHONE_LABEL_MAX_LENGTH = 40
PHONES_MAX = 20
CUSTOM_TEXT_MAX_LENGTH = 1000
# Numbers keep to what a JSON reader's double holds exactly.
NUMBER_MAX_DIGITS = 15


def display_name(first_name: str, last_name: str) -> str:
    """The name the inbox shows: first and last, whichever there are."""
    return " ".join(part for part in (first_name, last_name) if part)


def name_split(name: str) -> tuple[str, str]:
    """First and last name of a whole name: the last word is the last name."""
    words = name.split()
    if len(words) < 2:
        return " ".join(words), ""
    return " ".join(words[:-1]), words[-1]


def clean_text(field: str, value: str) -> str:
    """A text field's value, trimmed, or the reason it cannot be stored."""
    label, max_length = TEXT_FIELDS[field]
    if has_nul(value):
        raise InvalidInput(f"{label}: {NUL_MESSAGE}", code="null_character")
    value = value.strip()
    if len(value) > max_length:
        raise InvalidInput(
            f"{label} can be at most {max_length} characters.", code=f"{field}_too_long"
        )
    if field == "email" and value:
        try:
            validate_email(value)
        except ValidationError:
            raise InvalidInput(
                f"“{value}” is not an e-mail address.", code="invalid_email"
            ) from None
    if field == "time_zone" and value and value not in time_zone_names():
        raise InvalidInput(
            f"“{value}” is not a time zone we know; use a name such as America/New_York, "
            "or leave it empty for the organization's.",
            code="invalid_time_zone",
        )
    return value


@dataclass(frozen=True)
class PhoneInput:
    """One phone of a contact as given: `phone_id` names an existing one (the card), else it
    is matched by number (the API)."""

    number: str
    # None keeps the label a number already has.
    label: str | None = ""
    primary: bool = False
    phone_id: int | None = None


@dataclass(frozen=True)
class CleanPhone:
    number: str
    label: str | None
    primary: bool
    phone_id: int | None


def clean_phones(phones: list[PhoneInput], *, region: str) -> list[CleanPhone]:
    """The phones in E.164 (typed numbers read in the organization's country), labels trimmed,
    no number twice and at most one primary."""
    if len(phones) > PHONES_MAX:
        raise InvalidInput(
            f"A contact can have at most {PHONES_MAX} phone numbers.", code="too_many_phones"
        )
    cleaned: list[CleanPhone] = []
    seen: set[str] = set()
    for phone in phones:
        try:
            number = normalize_phone(phone.number, region)
        except InvalidPhoneNumber as exc:
            raise InvalidInput(f"Phone number: {exc}", code="invalid_phone") from None
        if number in seen:
            raise InvalidInput(f"{number} is listed twice.", code="duplicate_phone")
        seen.add(number)
        label = phone.label.strip() if phone.label is not None else None
        if label is not None and has_nul(label):
            raise InvalidInput(f"Phone label: {NUL_MESSAGE}", code="null_character")
        if label is not None and len(label) > PHONE_LABEL_MAX_LENGTH:
            raise InvalidInput(
                f"A phone label can be at most {PHONE_LABEL_MAX_LENGTH} characters.",
                code="phone_label_too_long",
            )
        cleaned.append(CleanPhone(number, label, phone.primary, phone.phone_id))
    if sum(phone.primary for phone in cleaned) > 1:
        raise InvalidInput("Mark one phone number as primary, not several.", code="two_primaries")
    return cleaned


def clean_custom_value(field: CustomField, value: object) -> str:
    """A custom field's value as stored (see `CustomFieldValue`); "" clears it."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise InvalidInput(f"{field.name}: give a {field.kind} value.", code="invalid_custom_value")
    text = value.strip() if isinstance(value, str) else str(value)
    if has_nul(text):
        raise InvalidInput(f"{field.name}: {NUL_MESSAGE}", code="null_character")
    if not text:
        return ""
    if field.kind == CustomFieldKind.NUMBER:
        return _clean_number(field, text)
    if isinstance(value, int | float | Decimal):
        raise InvalidInput(f"{field.name}: give a {field.kind} value.", code="invalid_custom_value")
    if field.kind == CustomFieldKind.DATE:
        try:
            return dt.date.fromisoformat(text).isoformat()
        except ValueError:
            raise InvalidInput(
                f"{field.name}: “{text}” is not a date; use the form 2026-04-30.",
                code="invalid_custom_value",
            ) from None
    if field.kind == CustomFieldKind.CHOICE:
        for option in field.options:
            if option.casefold() == text.casefold():
                return str(option)
        raise InvalidInput(
            f"{field.name}: “{text}” is not one of its choices ({', '.join(field.options)}).",
            code="invalid_custom_value",
        )
    if len(text) > CUSTOM_TEXT_MAX_LENGTH:
        raise InvalidInput(
            f"{field.name} can be at most {CUSTOM_TEXT_MAX_LENGTH} characters.",
            code="invalid_custom_value",
        )
    return text


def _clean_number(field: CustomField, text: str) -> str:
    try:
        number = Decimal(text)
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        raise InvalidInput(
            f"{field.name}: “{text}” is not a number.", code="invalid_custom_value"
        ) from None
    number = number.normalize()
    too_large_or_small = not -NUMBER_MAX_DIGITS <= number.adjusted() < NUMBER_MAX_DIGITS
    if too_large_or_small or len(number.as_tuple().digits) > NUMBER_MAX_DIGITS:
        raise InvalidInput(
            f"{field.name}: a number can have at most {NUMBER_MAX_DIGITS} digits.",
            code="invalid_custom_value",
        )
    # Plain notation, never 1E+3.
    return f"{number:f}"


def custom_value_read(field: CustomField, stored: str) -> str | int | float:
    """A stored value as the API gives it: numbers as numbers."""
    if field.kind != CustomFieldKind.NUMBER:
        return stored
    number = Decimal(stored)
    return int(number) if number == number.to_integral_value() else float(number)
