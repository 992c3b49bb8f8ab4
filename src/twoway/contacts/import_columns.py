"""Which contact field each column of an imported file fills: guessed from the column names,
changed by the person importing, checked before the import starts."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from twoway.contacts.models import CustomField
from twoway.core.errors import InvalidInput

IGNORE = ""
PHONE_LABELS = ("mobile", "work", "home")
# The fields a column may fill, by the key a mapping holds, with what a person reads.
FIELDS: dict[str, str] = {
    "first_name": "First name",
    "last_name": "Last name",
    "name": "Name (first and last)",
    "phone": "Phone",
    **{f"phone:{label}": f"Phone ({label})" for label in PHONE_LABELS},
    "email": "E-mail",
    "external_uid": "External UID",
    "client_id": "Client ID",
    "client_type": "Client type",
    "home_location": "Home location",
    "time_zone": "Time zone",
    "groups": "Groups",
    "opted_out": "Opted out",
    # The export's column: a status, never a yes or no, which would mean the opposite of a yes
    # under "Opted out".
    "opt_in": "Opt-in (Opted in or Opted out)",
}
CUSTOM_PREFIX = "custom:"

# Column names people's files use, without case, spaces or punctuation ("E-mail" is "email").
_GUESSES: dict[str, tuple[str, ...]] = {
    "first_name": ("firstname", "first", "givenname", "forename", "fname"),
    "last_name": ("lastname", "last", "surname", "familyname", "lname"),
    "name": ("name", "fullname", "contactname", "contact", "clientname", "customername"),
    "phone": (
        "phone",
        "phonenumber",
        "phoneno",
        "telephone",
        "tel",
        "number",
        "sms",
        "primaryphone",
        "phones",
    ),
    "phone:mobile": ("mobile", "cell", "cellphone", "mobilephone", "mobilenumber", "cellnumber"),
    "phone:work": ("workphone", "businessphone", "officephone", "work"),
    "phone:home": ("homephone", "home", "landline"),
    "email": ("email", "emailaddress", "mail"),
    "external_uid": ("externaluid", "uid", "externalid"),
    "client_id": ("clientid", "customerid", "clientnumber", "customernumber", "accountnumber"),
    "client_type": ("clienttype", "customertype", "type"),
    "home_location": ("homelocation", "location", "branch", "store", "office"),
    "time_zone": ("timezone", "tz"),
    "groups": ("group", "groups", "groupname", "groupnames", "tags", "lists"),
    "opted_out": (
        "optedout",
        "optout",
        "unsubscribed",
        "unsubscribe",
        "donottext",
        "dnc",
        "smsoptout",
    ),
    "opt_in": ("optin", "optinstatus"),
}
_BY_NAME = {name: field for field, names in _GUESSES.items() for name in names}


def _key(column: str) -> str:
    return re.sub(r"[\W_]+", "", column.casefold())


def field_choices(custom_fields: Iterable[CustomField]) -> list[tuple[str, str]]:
    """Every field a column may fill, as (key, label), "not imported" first."""
    choices = [(IGNORE, "Not imported"), *FIELDS.items()]
    choices += [(f"{CUSTOM_PREFIX}{field.pk}", field.name) for field in custom_fields]
    return choices


def mapping_guess(columns: list[str], custom_fields: Iterable[CustomField]) -> list[str]:
    """A field for each column its name suggests; each field once but phones, the first column
    that names it winning. A custom field's own name wins over the built-in guesses."""
    custom = {_key(field.name): f"{CUSTOM_PREFIX}{field.pk}" for field in custom_fields}
    taken: set[str] = set()
    mapping = []
    for column in columns:
        key = _key(column)
        field = custom.get(key) or _BY_NAME.get(key, IGNORE)
        if field in taken and not field.startswith("phone"):
            field = IGNORE
        taken.add(field)
        mapping.append(field)
    if "name" in taken and taken & {"first_name", "last_name"}:
        # Both a whole name and its parts: the parts, which need no splitting.
        mapping = [IGNORE if field == "name" else field for field in mapping]
    return mapping


@dataclass(frozen=True)
class Column:
    """A column that is imported: where it is, its name, and the field it fills."""

    index: int
    name: str
    field: str


def mapping_check(
    columns: list[str], mapping: list[str], custom_fields: Iterable[CustomField]
) -> list[Column]:
    """The columns to import, or why this mapping cannot be imported."""
    if len(mapping) != len(columns):
        raise InvalidInput(
            "Match every column of the file with a field (or Not imported).", code="bad_mapping"
        )
    known = {key for key, _ in field_choices(custom_fields)}
    used: dict[str, str] = {}
    chosen = []
    for index, (column, field) in enumerate(zip(columns, mapping, strict=True)):
        if field not in known:
            raise InvalidInput(
                f"“{column}”: there is no such field (was a custom field deleted meanwhile?).",
                code="bad_mapping",
            )
        if field == IGNORE:
            continue
        if field in used and not field.startswith("phone"):
            raise InvalidInput(
                f"“{used[field]}” and “{column}” both fill {_label(field, custom_fields)}; "
                "choose one of them.",
                code="bad_mapping",
            )
        used[field] = column
        chosen.append(Column(index, column, field))
    if not any(column.field.startswith("phone") for column in chosen):
        raise InvalidInput(
            "Choose the column that holds the phone numbers: contacts are imported, and found "
            "again, by their phone number.",
            code="no_phone_column",
        )
    if "opted_out" in used and "opt_in" in used:
        raise InvalidInput(
            f"“{used['opted_out']}” and “{used['opt_in']}” both say whether a contact opted "
            "out; choose one of them.",
            code="bad_mapping",
        )
    if "name" in used and ("first_name" in used or "last_name" in used):
        raise InvalidInput(
            "Import either a whole name or a first and last name, not both.", code="bad_mapping"
        )
    return chosen


def _label(field: str, custom_fields: Iterable[CustomField]) -> str:
    return dict(field_choices(custom_fields)).get(field, field)


def field_named(name: str, custom_fields: Iterable[CustomField]) -> str:
    """The field key a person named (the key, what the page shows, or a custom field's name);
    "" for none, "not imported" or "-"."""
    wanted = name.strip().casefold()
    if wanted in {"", "-", "none", "not imported"}:
        return IGNORE
    for key, label in field_choices(custom_fields):
        if wanted in {key.casefold(), label.casefold()}:
            return key
    raise InvalidInput(
        f"There is no field “{name}”; the fields are "
        + ", ".join(key for key, _ in field_choices(custom_fields) if key)
        + " and the custom fields by name.",
        code="bad_mapping",
    )
