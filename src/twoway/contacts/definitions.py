"""What administrators define for the organization's contacts: groups and custom fields."""

from __future__ import annotations

from django.db import transaction

from twoway.accounts.access import require_admin
from twoway.accounts.models import Membership
from twoway.contacts.models import ContactGroup, CustomField, CustomFieldKind, CustomFieldValue
from twoway.core.errors import InvalidInput
from twoway.core.text import NUL_MESSAGE, has_nul

DEFINITION_NAME_MAX_LENGTH = 100
CHOICE_OPTIONS_MAX = 50


def _clean_name(what: str, name: str) -> str:
    if has_nul(name):
        raise InvalidInput(NUL_MESSAGE, code="null_character")
    name = name.strip()
    if not name:
        raise InvalidInput(f"Give the {what} a name.", code="name_required")
    if len(name) > DEFINITION_NAME_MAX_LENGTH:
        raise InvalidInput(
            f"A {what}'s name can be at most {DEFINITION_NAME_MAX_LENGTH} characters.",
            code="name_too_long",
        )
    return name


def _check_unique(
    model: type[ContactGroup] | type[CustomField],
    org_id: int,
    name: str,
    own_pk: int | None,
    what: str,
) -> None:
    # Case aside, so that "VIP" and "vip" are not two groups a person cannot tell apart.
    clash = model.objects.filter(organization_id=org_id, name__iexact=name)
    if own_pk is not None:
        clash = clash.exclude(pk=own_pk)
    if clash.exists():
        raise InvalidInput(f"There is already a {what} “{name}”.", code="name_taken")


def _clean_options(kind: str, options: list[str]) -> list[str]:
    if kind != CustomFieldKind.CHOICE:
        return []
    cleaned: list[str] = []
    for option in options:
        if has_nul(option):
            raise InvalidInput(NUL_MESSAGE, code="null_character")
        option = option.strip()
        if not option:
            continue
        if len(option) > DEFINITION_NAME_MAX_LENGTH:
            raise InvalidInput(
                f"A choice can be at most {DEFINITION_NAME_MAX_LENGTH} characters.",
                code="option_too_long",
            )
        if option.casefold() in {o.casefold() for o in cleaned}:
            raise InvalidInput(f"“{option}” is listed twice.", code="duplicate_option")
        cleaned.append(option)
    if not cleaned:
        raise InvalidInput("A choice field needs at least one choice.", code="options_required")
    if len(cleaned) > CHOICE_OPTIONS_MAX:
        raise InvalidInput(
            f"A choice field can have at most {CHOICE_OPTIONS_MAX} choices.",
            code="too_many_options",
        )
    return cleaned


def contact_group_create(*, actor: Membership, name: str) -> ContactGroup:
    require_admin(actor)
    name = _clean_name("group", name)
    _check_unique(ContactGroup, actor.organization_id, name, None, "group")
    return ContactGroup.objects.create(organization_id=actor.organization_id, name=name)


def contact_group_rename(*, actor: Membership, group: ContactGroup, name: str) -> ContactGroup:
    require_admin(actor)
    name = _clean_name("group", name)
    _check_unique(ContactGroup, group.organization_id, name, group.pk, "group")
    group.name = name
    group.save(update_fields=["name"])
    return group


def contact_group_delete(*, actor: Membership, group: ContactGroup) -> None:
    """The group goes; its contacts stay, in their other groups."""
    require_admin(actor)
    group.delete()


def custom_field_create(
    *, actor: Membership, name: str, kind: str, options: list[str]
) -> CustomField:
    require_admin(actor)
    name = _clean_name("field", name)
    if kind not in CustomFieldKind.values:
        raise InvalidInput(
            "Choose the field's type: text, number, date or choice.", code="bad_kind"
        )
    _check_unique(CustomField, actor.organization_id, name, None, "field")
    return CustomField.objects.create(
        organization_id=actor.organization_id,
        name=name,
        kind=kind,
        options=_clean_options(kind, options),
    )


@transaction.atomic
def custom_field_update(
    *, actor: Membership, field: CustomField, name: str, options: list[str]
) -> int:
    """Rename a field and, for a choice field, change its choices; contacts holding a choice
    that is gone lose that value (it could not be saved again). Returns how many did. The type
    stays: the values were checked against it."""
    require_admin(actor)
    name = _clean_name("field", name)
    _check_unique(CustomField, field.organization_id, name, field.pk, "field")
    field.name = name
    field.options = _clean_options(field.kind, options)
    field.save(update_fields=["name", "options"])
    if field.kind != CustomFieldKind.CHOICE:
        return 0
    dropped, _ = (
        CustomFieldValue.objects.filter(field=field).exclude(value__in=field.options).delete()
    )
    return dropped


def custom_field_delete(*, actor: Membership, field: CustomField) -> None:
    """The field goes, and every contact's value of it."""
    require_admin(actor)
    field.delete()
