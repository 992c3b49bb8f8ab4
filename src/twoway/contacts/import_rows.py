"""One row of an imported file read into what it gives a contact, with the checks the card and
the API make (`contacts.validation`), or the reasons it cannot be imported."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from twoway.contacts.csv_files import MAX_CELL_CHARACTERS, Record
from twoway.contacts.import_columns import CUSTOM_PREFIX, Column
from twoway.contacts.models import ContactGroup, CustomField
from twoway.contacts.validation import (
    NAME_MAX_LENGTH,
    PHONE_LABEL_MAX_LENGTH,
    clean_custom_value,
    clean_text,
    display_name,
    name_split,
)
from twoway.core.errors import InvalidInput
from twoway.core.phones import InvalidPhoneNumber, normalize_phone
from twoway.core.text import csv_cell_read

# A cell of groups lists them with any of these between; the export puts semicolons, so a
# group's name with a comma in it ("Recall, 2026") is read whole between them.
_GROUP_SEPARATORS = re.compile(r"[,|]")
_GROUP_LIST_SEPARATOR = ";"
_YES = {"yes", "y", "true", "t", "1", "x", "opted out", "optedout", "unsubscribed", "stop"}
_NO = {"no", "n", "false", "f", "0", "", "opted in", "optedin", "subscribed"}
_OPT_IN_STATUSES = {"opted in": False, "opted out": True, "": False}
# A phone cell may list several numbers, each after its label as the export writes them
# ("work: +1 202-555-0141; +1 202-555-0142").
_PHONE_SEPARATOR = ";"


@dataclass(frozen=True)
class Problem:
    """A reason a row is skipped, as the error report lists it."""

    row: int
    column: str
    reason: str


@dataclass
class RowValues:
    """What a row gives its contact: text fields that are not empty, phone numbers (E.164,
    with their labels, the first the primary of a new contact), groups and custom values by
    id, and whether the row opts the contact out."""

    row: int
    texts: dict[str, str] = field(default_factory=dict)
    phones: list[tuple[str, str]] = field(default_factory=list)
    groups: list[int] = field(default_factory=list)
    custom: dict[int, str] = field(default_factory=dict)
    opted_out: bool = False


class RowReader:
    """Reads rows with one import's columns, in the organization's country."""

    def __init__(
        self,
        *,
        columns: list[Column],
        header_width: int,
        region: str,
        groups: Iterable[ContactGroup],
        custom_fields: Iterable[CustomField],
    ) -> None:
        self.columns = columns
        self.header_width = header_width
        self.region = region
        self.groups = {group.name.casefold(): group.pk for group in groups}
        self.custom_fields = {f"{CUSTOM_PREFIX}{f.pk}": f for f in custom_fields}

    def read(self, record: Record) -> RowValues | list[Problem] | None:
        """The row's values, its problems, or None for a row with nothing in it."""
        cells = record.cells
        if cells is None:
            return [
                Problem(
                    record.row,
                    "",
                    f"The row cannot be read: a cell is longer than {MAX_CELL_CHARACTERS:,} "
                    "characters.",
                )
            ]
        if not any(cell.strip() for cell in cells):
            return None
        problems: list[Problem] = []
        if len(cells) > self.header_width and any(c.strip() for c in cells[self.header_width :]):
            problems.append(
                Problem(
                    record.row,
                    "",
                    f"The row has {len(cells):,} cells but the first row names "
                    f"{self.header_width:,} columns: is a separator missing or one too many?",
                )
            )
        values = RowValues(row=record.row)
        for column in self.columns:
            # A file this product exported has a quote before cells a spreadsheet would run.
            cell = csv_cell_read(cells[column.index]) if column.index < len(cells) else ""
            try:
                self._take(values, column, cell)
            except (InvalidInput, InvalidPhoneNumber) as exc:
                reason = exc.message if isinstance(exc, InvalidInput) else str(exc)
                problems.append(Problem(record.row, column.name, reason))
        if not problems:
            problems += self._whole_row(values)
        return problems or values

    def _take(self, values: RowValues, column: Column, cell: str) -> None:
        name = column.field
        text = cell.strip()
        if name.startswith("phone"):
            for label, typed in _phones_in(text, column_label=name.partition(":")[2]):
                number = normalize_phone(typed, self.region)
                if all(number != known for known, _ in values.phones):
                    values.phones.append((number, label))
        elif name == "name":
            first, last = name_split(text)
            self._text(values, "first_name", first)
            self._text(values, "last_name", last)
        elif name == "groups":
            for group_name in self._group_names(text):
                group_id = self.groups.get(group_name.casefold())
                if group_id is None:
                    raise InvalidInput(
                        f"There is no group “{group_name[:100]}”; an administrator adds groups "
                        "under Settings, Contact fields."
                    )
                if group_id not in values.groups:
                    values.groups.append(group_id)
        elif name == "opted_out":
            answer = text.casefold()
            if answer not in _YES | _NO:
                raise InvalidInput(
                    f"“{text[:100]}” is neither yes nor no (also: true or false, 1 or 0)."
                )
            values.opted_out = answer in _YES
        elif name == "opt_in":
            status = text.casefold()
            if status not in _OPT_IN_STATUSES:
                raise InvalidInput(
                    f"“{text[:100]}” is neither Opted in nor Opted out. For a yes or no, match "
                    "the column with Opted out."
                )
            values.opted_out = values.opted_out or _OPT_IN_STATUSES[status]
        elif name.startswith(CUSTOM_PREFIX):
            custom_field = self.custom_fields[name]
            if value := clean_custom_value(custom_field, text):
                values.custom[custom_field.pk] = value
        else:
            self._text(values, name, text)

    def _group_names(self, text: str) -> list[str]:
        names = []
        for part in text.split(_GROUP_LIST_SEPARATOR):
            part = part.strip()
            if part.casefold() in self.groups:
                names.append(part)
            else:
                names += [name.strip() for name in _GROUP_SEPARATORS.split(part)]
        return [name for name in names if name]

    def _text(self, values: RowValues, name: str, text: str) -> None:
        if value := clean_text(name, text):
            values.texts[name] = value

    def _whole_row(self, values: RowValues) -> list[Problem]:
        if not values.phones:
            phone_columns = [c.name for c in self.columns if c.field.startswith("phone")]
            return [
                Problem(
                    values.row,
                    phone_columns[0] if len(phone_columns) == 1 else "",
                    "The row has no phone number: contacts are imported, and found again, by "
                    "their phone number.",
                )
            ]
        name = display_name(values.texts.get("first_name", ""), values.texts.get("last_name", ""))
        if len(name) > NAME_MAX_LENGTH:
            return [
                Problem(
                    values.row,
                    "",
                    f"First and last name together can be at most {NAME_MAX_LENGTH} characters.",
                )
            ]
        return []


def _phones_in(text: str, *, column_label: str) -> list[tuple[str, str]]:
    """(label, number as typed) for each number of a phone cell; a number without a label of its
    own has the column's. A number holds no colon, so the last one ends a label."""
    phones = []
    for part in text.split(_PHONE_SEPARATOR):
        label, colon, typed = part.rpartition(":")
        label = label.strip() if colon else column_label
        if not typed.strip():
            continue
        if len(label) > PHONE_LABEL_MAX_LENGTH:
            raise InvalidInput(f"A phone label can be at most {PHONE_LABEL_MAX_LENGTH} characters.")
        phones.append((label, typed.strip()))
    return phones
