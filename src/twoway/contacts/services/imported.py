"""Contacts written from an imported file's rows, a batch at a time (the import itself, its
file and its progress are `contacts.imports`)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from django.db import transaction

from twoway.accounts.models import Organization
from twoway.compliance.models import ConsentEventKind
from twoway.compliance.services import consent_record
from twoway.contacts.import_rows import RowValues
from twoway.contacts.models import (
    Contact,
    ContactPhone,
    CreatedFrom,
    CustomFieldValue,
    OptInStatus,
)
from twoway.contacts.validation import TEXT_FIELDS, display_name, name_split
from twoway.core.rows import rows_insert

# --- Imported rows ------------------------------------------------------------------------------
# An import adds to what a contact has and never overwrites it: an empty field is filled, a
# phone, a group or a custom value the contact lacks is added, a yes in the opted-out column
# opts the contact out (a no never opts anyone back in). So importing a file again, or a file
# that repeats a client, changes nothing the first time did not.
_IMPORT_FIELDS = ("first_name", "last_name", *(f for f in TEXT_FIELDS if "name" not in f))


@dataclass(eq=False)
class _Target:
    """A contact rows of a batch go to: a stored one (`pk`) or one the batch creates."""

    pk: int | None
    values: dict[str, str]
    opted_out: bool
    groups: set[int]
    custom: set[int]
    changed: set[str] = dataclasses.field(default_factory=set)
    phones: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    new_groups: list[int] = dataclasses.field(default_factory=list)
    new_custom: dict[int, str] = dataclasses.field(default_factory=dict)
    # The number of the row that opted the contact out, for the ledger.
    opt_out_number: str | None = None


@dataclass
class ImportBatchOutcome:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    opted_out: int = 0
    # Rows that could not go to one contact: (row, reason).
    conflicts: list[tuple[int, str]] = dataclasses.field(default_factory=list)


def _stored_targets(organization: Organization, numbers: set[str]) -> dict[str, _Target]:
    """The stored contacts having any of these numbers, by number."""
    owners = dict(
        ContactPhone.objects.filter(organization=organization, number__in=numbers).values_list(
            "number", "contact_id"
        )
    )
    ids = set(owners.values())
    if not ids:
        return {}
    groups: dict[int, set[int]] = {pk: set() for pk in ids}
    through = Contact.groups.through.objects.filter(contact_id__in=ids)
    for contact_id, group_id in through.values_list("contact_id", "contactgroup_id"):
        groups[contact_id].add(group_id)
    custom: dict[int, set[int]] = {pk: set() for pk in ids}
    values = CustomFieldValue.objects.filter(contact_id__in=ids)
    for contact_id, field_id in values.values_list("contact_id", "field_id"):
        custom[contact_id].add(field_id)
    targets = {}
    # Locked until the batch commits (PostgreSQL; SQLite's writer holds the database already),
    # so that a card saved meanwhile is not written over with what was read here. In id order,
    # as two imports touching the same contacts must not wait for each other in a circle.
    rows = (
        Contact.objects.filter(pk__in=ids)
        .order_by("pk")
        .select_for_update()
        .values("pk", "name", "opt_in_status", *_IMPORT_FIELDS)
    )
    for row in rows:
        current = {name: row[name] for name in _IMPORT_FIELDS}
        if row["name"] and not (current["first_name"] or current["last_name"]):
            # A name given before first and last names were (as the texting paths may): it
            # counts as filled, so an import does not write another over it.
            current["first_name"], current["last_name"] = name_split(row["name"])
        targets[row["pk"]] = _Target(
            pk=row["pk"],
            values=current,
            opted_out=row["opt_in_status"] == OptInStatus.OPTED_OUT,
            groups=groups[row["pk"]],
            custom=custom[row["pk"]],
        )
    return {number: targets[pk] for number, pk in owners.items()}


def _merge_row(target: _Target, row: RowValues, owners: dict[str, _Target]) -> bool:
    """Add the row's values the contact lacks; True when it lacked any."""
    before = (len(target.changed), len(target.phones), len(target.new_groups))
    custom_before = len(target.new_custom)
    for name, value in row.texts.items():
        if not target.values[name]:
            target.values[name] = value
            target.changed.add(name)
    for number, label in row.phones:
        if number not in owners:
            owners[number] = target
            target.phones.append((number, label))
    for group_id in row.groups:
        if group_id not in target.groups:
            target.groups.add(group_id)
            target.new_groups.append(group_id)
    for field_id, value in row.custom.items():
        if field_id not in target.custom:
            target.custom.add(field_id)
            target.new_custom[field_id] = value
    opts_out = row.opted_out and not target.opted_out
    if opts_out:
        target.opted_out = True
        target.opt_out_number = row.phones[0][0]
    after = (len(target.changed), len(target.phones), len(target.new_groups))
    return opts_out or before != after or custom_before != len(target.new_custom)


def _name_of(target: _Target) -> str:
    return display_name(target.values["first_name"], target.values["last_name"])


@transaction.atomic
def contacts_import_batch(
    *, organization: Organization, rows: list[RowValues], ledger_text: str, actor: str = ""
) -> ImportBatchOutcome:
    """Write a batch of imported rows with a few statements: each row goes to the contact
    that has one of its numbers (stored, or made by an earlier row), else to a new contact
    created from `import`; a row whose numbers are two contacts' is refused. Opt-outs are
    recorded in the consent ledger with source `import`, `ledger_text` and `actor` (the e-mail
    of the person who imported)."""
    outcome = ImportBatchOutcome()
    owners = _stored_targets(organization, {n for row in rows for n, _ in row.phones})
    new: list[_Target] = []
    for row in rows:
        found = list(dict.fromkeys(t for n, _ in row.phones if (t := owners.get(n)) is not None))
        if len(found) > 1:
            outcome.conflicts.append(
                (
                    row.row,
                    f"Its numbers are two different contacts' ({_name_of(found[0]) or 'no name'}"
                    f" and {_name_of(found[1]) or 'no name'}): give the row the numbers of one.",
                )
            )
            continue
        if found:
            changed = _merge_row(found[0], row, owners)
            outcome.updated += changed
            outcome.unchanged += not changed
            continue
        target = _Target(
            pk=None,
            values=dict.fromkeys(_IMPORT_FIELDS, ""),
            opted_out=False,
            groups=set(),
            custom=set(),
        )
        _merge_row(target, row, owners)
        new.append(target)
        outcome.created += 1
    every = list(dict.fromkeys(owners.values()))
    _import_write(organization, new, every)
    for target in every:
        if target.opt_out_number is not None:
            assert target.pk is not None
            outcome.opted_out += 1
            consent_record(
                organization_id=organization.pk,
                contact_id=target.pk,
                kind=ConsentEventKind.OPT_OUT,
                source="import",
                text=ledger_text,
                phone_number=target.opt_out_number,
                actor=actor,
            )
    return outcome


def _import_write(organization: Organization, new: list[_Target], every: list[_Target]) -> None:
    ids = rows_insert(
        Contact,
        [
            {
                "organization_id": organization.pk,
                "name": _name_of(target),
                **target.values,
                "opt_in_status": OptInStatus.OPTED_OUT
                if target.opted_out
                else OptInStatus.OPTED_IN,
                "created_from": CreatedFrom.IMPORT,
                "source_number_id": None,
            }
            for target in new
        ],
        returning=True,
    )
    for target, pk in zip(new, ids, strict=True):
        target.pk = pk
    created = set(new)
    stored = [t for t in every if t not in created]
    changed = [t for t in stored if t.changed]
    if changed:
        names = {name for t in changed for name in t.changed}
        if names & {"first_name", "last_name"}:
            names.add("name")
        Contact.objects.bulk_update(
            [Contact(pk=t.pk, name=_name_of(t), **t.values) for t in changed], sorted(names)
        )
    opting_out = [t.pk for t in stored if t.pk is not None and t.opt_out_number is not None]
    if opting_out:
        Contact.objects.filter(pk__in=opting_out).update(opt_in_status=OptInStatus.OPTED_OUT)
    rows_insert(
        ContactPhone,
        [
            {
                "organization_id": organization.pk,
                "contact_id": t.pk,
                "number": number,
                "label": label,
                # A new contact's first number is its primary; a stored one keeps its own.
                "is_primary": t in created and n == 0,
            }
            for t in every
            for n, (number, label) in enumerate(t.phones)
        ],
    )
    Contact.groups.through.objects.bulk_create(
        [
            Contact.groups.through(contact_id=t.pk, contactgroup_id=group_id)
            for t in every
            for group_id in t.new_groups
        ]
    )
    rows_insert(
        CustomFieldValue,
        [
            {"contact_id": t.pk, "field_id": field_id, "value": value}
            for t in every
            for field_id, value in t.new_custom.items()
        ],
    )
