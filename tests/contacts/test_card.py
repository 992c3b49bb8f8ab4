"""The contact card edits every field at once, or nothing, and says why; Settings, Contact
fields defines the groups and custom fields it offers."""

from __future__ import annotations

import pytest

from tests.conftest import logged_in, make_member
from twoway.accounts.models import Membership, Organization
from twoway.contacts.models import (
    Contact,
    ContactGroup,
    ContactPhone,
    CustomField,
    CustomFieldValue,
)
from twoway.numbers.models import PhoneNumber

pytestmark = pytest.mark.django_db


@pytest.fixture
def contact(org: Organization) -> Contact:
    contact = Contact.objects.create(
        organization=org, name="Pat Client", first_name="Pat", last_name="Client"
    )
    ContactPhone.objects.create(organization=org, contact=contact, number="+14155550123")
    return contact


@pytest.fixture
def tier(org: Organization) -> CustomField:
    return CustomField.objects.create(
        organization=org, name="Tier", kind="choice", options=["Gold", "Silver"]
    )


def _post(contact: Contact, **fields: object) -> dict[str, object]:
    """What the card's form sends, unchanged, with `fields` put over it."""
    phone = contact.phones.order_by("pk").first()
    assert phone is not None
    return {
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "email": "",
        "external_uid": "",
        "client_id": "",
        "client_type": "",
        "home_location": "",
        "time_zone": "",
        "phone_id": [str(phone.pk)],
        "phone_number": [phone.number],
        "phone_label": [""],
        "primary": str(phone.pk),
        "new_phone_number": "",
        "new_phone_label": "",
        "groups_shown": "1",
        **fields,
    }


def test_the_card_saves_every_field(
    contact: Contact, standard: Membership, org: Organization, tier: CustomField
) -> None:
    ContactGroup.objects.create(organization=org, name="VIP")
    ContactGroup.objects.create(organization=org, name="Newsletter")
    client = logged_in(standard)
    page = client.get(f"/contacts/{contact.pk}/").content.decode()
    for label in ("First name", "Last name", "Client type", "Home location", "Time zone", "Tier"):
        assert label in page
    response = client.post(
        f"/contacts/{contact.pk}/",
        _post(
            contact,
            first_name="Dana",
            last_name="Whitfield",
            email="dana@example.com",
            external_uid="crm-9",
            client_id="C-77",
            client_type="Member",
            home_location="Uptown",
            time_zone="America/Denver",
            phone_label=["mobile"],
            new_phone_number="202-555-0188",
            new_phone_label="work",
            primary="new",
            groups=["VIP", "Newsletter"],
            **{f"custom_{tier.pk}": "Silver"},
        ),
    )
    assert response.status_code == 302
    contact.refresh_from_db()
    assert (contact.name, contact.email, contact.client_type, contact.time_zone) == (
        "Dana Whitfield",
        "dana@example.com",
        "Member",
        "America/Denver",
    )
    assert (contact.external_uid, contact.client_id, contact.home_location) == (
        "crm-9",
        "C-77",
        "Uptown",
    )
    assert sorted(contact.phones.values_list("number", "label", "is_primary")) == [
        ("+12025550188", "work", True),
        ("+14155550123", "mobile", False),
    ]
    assert sorted(g.name for g in contact.groups.all()) == ["Newsletter", "VIP"]
    assert CustomFieldValue.objects.get(contact=contact, field=tier).value == "Silver"
    page = client.get(f"/contacts/{contact.pk}/").content.decode()
    assert "Dana Whitfield" in page and "(202) 555-0188" in page
    # Removing a phone and a group.
    old = contact.phones.get(number="+14155550123")
    new = contact.phones.get(number="+12025550188")
    client.post(
        f"/contacts/{contact.pk}/",
        _post(
            contact,
            phone_id=[str(new.pk), str(old.pk)],
            phone_number=[new.number, old.number],
            phone_label=["work", "mobile"],
            primary=str(new.pk),
            phone_remove=[str(old.pk)],
            groups=["VIP"],
        ),
    )
    assert list(contact.phones.values_list("number", flat=True)) == ["+12025550188"]
    assert [g.name for g in contact.groups.all()] == ["VIP"]


def test_a_refused_card_says_why_and_writes_nothing(
    contact: Contact, admin: Membership, tier: CustomField
) -> None:
    response = logged_in(admin).post(
        f"/contacts/{contact.pk}/",
        _post(
            contact,
            first_name="Changed",
            new_phone_number="555",
            **{f"custom_{tier.pk}": "Gold"},
        ),
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert "is not a phone number" in page or "not a valid phone number" in page
    assert 'value="Changed"' in page  # what was typed stays on the form
    contact.refresh_from_db()
    assert contact.first_name == "Pat"
    assert contact.phones.count() == 1 and not CustomFieldValue.objects.exists()
    bad_zone = logged_in(admin).post(f"/contacts/{contact.pk}/", _post(contact, time_zone="Nope"))
    assert bad_zone.status_code == 422 and "is not a time zone we know" in bad_zone.content.decode()


def test_limited_members_may_not_edit_and_other_organizations_contacts_are_missing(
    contact: Contact, limited: Membership, other_org: Organization
) -> None:
    denied = logged_in(limited).post(f"/contacts/{contact.pk}/", _post(contact, first_name="No"))
    assert denied.status_code == 403
    contact.refresh_from_db()
    assert contact.first_name == "Pat"
    theirs = Contact.objects.create(organization=other_org, name="Theirs")
    outsider = make_member(other_org, "someone@other.test")
    assert logged_in(outsider).post(f"/contacts/{contact.pk}/", {}).status_code == 404
    assert logged_in(outsider).get(f"/contacts/{theirs.pk}/").status_code == 200


def test_a_lead_card_says_which_number_it_texted(
    org: Organization, standard: Membership, number: PhoneNumber
) -> None:
    lead = Contact.objects.create(organization=org, created_from="inbound", source_number=number)
    page = logged_in(standard).get(f"/contacts/{lead.pk}/").content.decode()
    assert "Lead: first texted" in page and "cannot be texted" in page


def test_admins_define_groups_and_custom_fields(admin: Membership, standard: Membership) -> None:
    assert logged_in(standard).get("/settings/contact-fields/").status_code == 403
    client = logged_in(admin)
    assert client.post("/settings/contact-fields/groups/", {"name": "VIP"}).status_code == 302
    again = client.post("/settings/contact-fields/groups/", {"name": "vip"})
    assert again.status_code == 422 and "already a group" in again.content.decode()
    group = ContactGroup.objects.get()
    client.post(f"/settings/contact-fields/groups/{group.pk}/", {"name": "Regulars"})
    group.refresh_from_db()
    assert group.name == "Regulars"

    made = client.post(
        "/settings/contact-fields/fields/",
        {"name": "Tier", "kind": "choice", "options": "Gold\nSilver\n"},
    )
    assert made.status_code == 302
    field = CustomField.objects.get()
    assert (field.kind, field.options) == ("choice", ["Gold", "Silver"])
    empty = client.post(
        "/settings/contact-fields/fields/", {"name": "Plan", "kind": "choice", "options": ""}
    )
    assert empty.status_code == 422 and "at least one choice" in empty.content.decode()
    bad_kind = client.post("/settings/contact-fields/fields/", {"name": "X", "kind": "colour"})
    assert bad_kind.status_code == 422

    # A choice taken away clears the contacts who had it.
    contact = Contact.objects.create(organization=admin.organization, name="Pat")
    CustomFieldValue.objects.create(contact=contact, field=field, value="Silver")
    client.post(f"/settings/contact-fields/fields/{field.pk}/", {"name": "Tier", "options": "Gold"})
    assert not CustomFieldValue.objects.exists()
    page = client.get("/settings/contact-fields/").content.decode()
    assert "Regulars" in page and "Tier" in page
    client.post(f"/settings/contact-fields/fields/{field.pk}/", {"delete": "1"})
    client.post(f"/settings/contact-fields/groups/{group.pk}/", {"delete": "1"})
    assert not CustomField.objects.exists() and not ContactGroup.objects.exists()


def test_another_organizations_definitions_are_missing(
    admin: Membership, other_org: Organization
) -> None:
    theirs = ContactGroup.objects.create(organization=other_org, name="Theirs")
    field = CustomField.objects.create(organization=other_org, name="F", kind="text")
    client = logged_in(admin)
    assert (
        client.post(f"/settings/contact-fields/groups/{theirs.pk}/", {"delete": "1"}).status_code
        == 404
    )
    assert (
        client.post(f"/settings/contact-fields/fields/{field.pk}/", {"delete": "1"}).status_code
        == 404
    )
    assert ContactGroup.objects.filter(pk=theirs.pk).exists()
