"""Every field of a contact: what each may hold, and a refusal changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import make_member
from twoway.accounts.models import Membership, Organization, Role
from twoway.carriers.base import InboundMessage
from twoway.contacts.models import (
    Contact,
    ContactGroup,
    ContactPhone,
    CreatedFrom,
    CustomField,
    CustomFieldValue,
    phones_in_order,
)
from twoway.contacts.services import (
    ContactChanges,
    UnknownCustomField,
    contact_create,
    contact_update,
)
from twoway.contacts.validation import PhoneInput, name_split
from twoway.core.errors import InvalidInput, PermissionDenied
from twoway.messaging.inbound import inbound_message_receive
from twoway.numbers.models import PhoneNumber

pytestmark = pytest.mark.django_db


@pytest.fixture
def contact(org: Organization) -> Contact:
    contact = Contact.objects.create(
        organization=org, name="Pat Client", first_name="Pat", last_name="Client"
    )
    ContactPhone.objects.create(organization=org, contact=contact, number="+14155550123")
    return contact


def _update(contact: Contact, by: Membership, **changes: Any) -> Contact:
    return contact_update(contact=contact, changed_by=by, changes=ContactChanges(**changes))


def _refused(contact: Contact, by: Membership, code: str, **changes: Any) -> str:
    with pytest.raises(InvalidInput) as refused:
        _update(contact, by, **changes)
    assert refused.value.code == code, refused.value.message
    return refused.value.message


def test_first_and_last_name_make_the_display_name(contact: Contact, standard: Membership) -> None:
    _update(contact, standard, first_name="  Dana ", last_name="Whitfield")
    contact.refresh_from_db()
    assert (contact.first_name, contact.last_name, contact.name) == (
        "Dana",
        "Whitfield",
        "Dana Whitfield",
    )
    _update(contact, standard, last_name="")
    contact.refresh_from_db()
    assert contact.name == "Dana"
    # A whole name is split at its last word.
    _update(contact, standard, name="Mary Ann Smith")
    contact.refresh_from_db()
    assert (contact.first_name, contact.last_name, contact.name) == (
        "Mary Ann",
        "Smith",
        "Mary Ann Smith",
    )
    assert name_split("Cher") == ("Cher", "")
    assert name_split("  ") == ("", "")


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"first_name": "x" * 101}, "first_name_too_long"),
        ({"last_name": "a\x00b"}, "null_character"),
        ({"name": "A B", "first_name": "A"}, "two_names"),
        ({"email": "not-an-address"}, "invalid_email"),
        ({"external_uid": "u" * 101}, "external_uid_too_long"),
        ({"client_id": "c" * 101}, "client_id_too_long"),
        ({"client_type": "t" * 101}, "client_type_too_long"),
        ({"home_location": "h" * 201}, "home_location_too_long"),
        ({"time_zone": "Mars/Olympus"}, "invalid_time_zone"),
        ({"time_zone": "america/chicago"}, "invalid_time_zone"),
    ],
)
def test_a_bad_value_is_refused_and_nothing_changes(
    contact: Contact, standard: Membership, changes: dict[str, Any], code: str
) -> None:
    # A good change sent with the bad one is not kept either.
    message = _refused(contact, standard, code, **{"client_id": "kept?", **changes})
    assert message
    contact.refresh_from_db()
    assert (contact.name, contact.client_id, contact.time_zone) == ("Pat Client", "", "")


def test_text_fields_are_stored_trimmed(contact: Contact, standard: Membership) -> None:
    _update(
        contact,
        standard,
        email=" pat@example.com ",
        external_uid="crm-77",
        client_id="C-1001",
        client_type="Member",
        home_location="Downtown studio",
        time_zone="America/Chicago",
    )
    contact.refresh_from_db()
    assert (
        contact.email,
        contact.external_uid,
        contact.client_id,
        contact.client_type,
        contact.home_location,
        contact.time_zone,
    ) == ("pat@example.com", "crm-77", "C-1001", "Member", "Downtown studio", "America/Chicago")


def test_phones_are_e164_in_the_organizations_country(
    contact: Contact, standard: Membership, org: Organization
) -> None:
    first = contact.phones.get()
    _update(
        contact,
        standard,
        phones=[
            PhoneInput("415-555-0123", "mobile", phone_id=first.pk),
            PhoneInput("(202) 555-0188", "work", primary=True),
        ],
    )
    phones = phones_in_order(contact.phones.all())
    assert [(p.number, p.label, p.is_primary) for p in phones] == [
        ("+12025550188", "work", True),
        ("+14155550123", "mobile", False),
    ]
    assert phones[1].pk == first.pk  # kept, not replaced
    org.country = "GB"
    org.save()
    _update(contact, standard, phones=[PhoneInput("020 7946 0958")])
    assert list(contact.phones.values_list("number", "is_primary")) == [("+442079460958", True)]


@pytest.mark.parametrize(
    ("phones", "code"),
    [
        ([PhoneInput("12")], "invalid_phone"),
        ([PhoneInput("415-555-0123 ext. 4")], "invalid_phone"),
        ([PhoneInput("415-555-0123"), PhoneInput("+14155550123")], "duplicate_phone"),
        (
            [PhoneInput("415-555-0123", primary=True), PhoneInput("415-555-0124", primary=True)],
            "two_primaries",
        ),
        ([PhoneInput("415-555-0124", "x" * 41)], "phone_label_too_long"),
        ([PhoneInput(f"415-555-01{n:02}") for n in range(21)], "too_many_phones"),
        ([PhoneInput("415-555-0124", phone_id=999999)], "phone_not_found"),
    ],
)
def test_bad_phones_are_refused(
    contact: Contact, standard: Membership, phones: list[PhoneInput], code: str
) -> None:
    _refused(contact, standard, code, phones=phones, first_name="Changed")
    contact.refresh_from_db()
    assert contact.first_name == "Pat"
    assert list(contact.phones.values_list("number", flat=True)) == ["+14155550123"]


def test_a_number_of_another_contact_is_refused_by_name(
    contact: Contact, standard: Membership, org: Organization
) -> None:
    other = Contact.objects.create(organization=org, name="Dana Known")
    ContactPhone.objects.create(organization=org, contact=other, number="+12025550100")
    message = _refused(contact, standard, "phone_taken", phones=[PhoneInput("202-555-0100")])
    assert "Dana Known" in message
    assert contact.phones.count() == 1


def test_the_primary_stays_until_another_is_chosen(contact: Contact, standard: Membership) -> None:
    first = contact.phones.get()
    _update(contact, standard, phones=[PhoneInput("+14155550123"), PhoneInput("+14155550124")])
    assert phones_in_order(contact.phones.all())[0].pk == first.pk
    assert contact.phones.filter(is_primary=True).get().pk == first.pk
    # Removing the primary makes the first one left the primary.
    _update(contact, standard, phones=[PhoneInput("+14155550124")])
    assert list(contact.phones.values_list("number", "is_primary")) == [("+14155550124", True)]
    _update(contact, standard, phones=[])
    assert not contact.phones.exists()


def test_groups_are_the_organizations_own(
    contact: Contact, standard: Membership, org: Organization, other_org: Organization
) -> None:
    vip = ContactGroup.objects.create(organization=org, name="VIP")
    ContactGroup.objects.create(organization=other_org, name="Theirs")
    _update(contact, standard, groups=["VIP"])
    assert list(contact.groups.all()) == [vip]
    assert "Theirs" in _refused(contact, standard, "unknown_group", groups=["VIP", "Theirs"])
    assert list(contact.groups.all()) == [vip]
    _update(contact, standard, groups=[])
    assert not contact.groups.exists()


@pytest.fixture
def fields(org: Organization) -> dict[str, CustomField]:
    return {
        kind: CustomField.objects.create(
            organization=org,
            name=name,
            kind=kind,
            options=["Gold", "Silver"] if kind == "choice" else [],
        )
        for kind, name in (
            ("text", "Notes"),
            ("number", "Visits"),
            ("date", "Birthday"),
            ("choice", "Tier"),
        )
    }


def _values(contact: Contact) -> dict[str, str]:
    return dict(
        CustomFieldValue.objects.filter(contact=contact).values_list("field__name", "value")
    )


def test_custom_values_are_checked_by_type(
    contact: Contact, standard: Membership, fields: dict[str, CustomField]
) -> None:
    _update(
        contact,
        standard,
        custom_fields={"Notes": " Likes mornings ", "Visits": "12.50", "Birthday": "1990-04-01"},
    )
    _update(contact, standard, custom_fields={"Tier": "gold"})
    assert _values(contact) == {
        "Notes": "Likes mornings",
        "Visits": "12.5",
        "Birthday": "1990-04-01",
        "Tier": "Gold",
    }
    _update(contact, standard, custom_fields={"Visits": 3, "Notes": "", "Tier": None})
    assert _values(contact) == {"Visits": "3", "Birthday": "1990-04-01"}


@pytest.mark.parametrize(
    ("values", "says"),
    [
        ({"Visits": "twelve"}, "is not a number"),
        ({"Visits": "1e400000"}, "at most 15 digits"),
        ({"Visits": "NaN"}, "is not a number"),
        ({"Visits": True}, "give a number value"),
        ({"Birthday": "04/01/1990"}, "is not a date"),
        ({"Birthday": 19900401}, "give a date value"),
        ({"Tier": "Bronze"}, "not one of its choices (Gold, Silver)"),
        ({"Notes": "n" * 1001}, "at most 1000 characters"),
        ({"Notes": ["a"]}, "give a text value"),
    ],
)
def test_a_bad_custom_value_is_refused_and_nothing_changes(
    contact: Contact,
    standard: Membership,
    fields: dict[str, CustomField],
    values: dict[str, Any],
    says: str,
) -> None:
    message = _refused(
        contact,
        standard,
        "invalid_custom_value",
        first_name="Changed",
        custom_fields={"Notes": "kept?", **values},
    )
    assert says in message
    contact.refresh_from_db()
    assert contact.first_name == "Pat" and _values(contact) == {}


def test_an_unknown_custom_field_is_refused(
    contact: Contact, standard: Membership, other_org: Organization
) -> None:
    CustomField.objects.create(organization=other_org, name="Theirs", kind="text")
    with pytest.raises(UnknownCustomField):
        _update(contact, standard, custom_fields={"Theirs": "x"})


def test_limited_members_cannot_edit_or_add_contacts(
    contact: Contact, limited: Membership, org: Organization
) -> None:
    with pytest.raises(PermissionDenied):
        _update(contact, limited, first_name="No")
    with pytest.raises(PermissionDenied):
        contact_create(organization=org, created_by=limited, changes=ContactChanges(name="No"))


def test_a_new_contact_needs_a_name_a_phone_or_an_email(
    org: Organization, admin: Membership
) -> None:
    with pytest.raises(InvalidInput) as refused:
        contact_create(organization=org, created_by=admin, changes=ContactChanges(client_type="x"))
    assert refused.value.code == "empty_contact"
    assert not Contact.objects.exists()
    made = contact_create(
        organization=org,
        created_by=make_member(org, "boss@acme.test", Role.ADMINISTRATIVE),
        changes=ContactChanges(name="Ada Lovelace", opted_out=True),
    )
    assert (made.first_name, made.last_name, made.created_from) == ("Ada", "Lovelace", "api")
    assert made.is_opted_out and made.consent_events.get().source == "api"


def test_a_lead_records_the_number_it_texted_and_when(
    org: Organization, number: PhoneNumber
) -> None:
    inbound_message_receive(
        "simulator",
        InboundMessage(
            carrier_message_id="SIM-lead-1",
            from_number="+14155550177",
            to_number=number.number,
            body="Do you have an opening Friday?",
        ),
    )
    lead = Contact.objects.get(phones__number="+14155550177")
    assert (lead.created_from, lead.source_number_id) == (CreatedFrom.INBOUND, number.pk)
    assert lead.lead_texted_at is not None
    assert abs((lead.lead_texted_at - lead.created_at).total_seconds()) < 5
