"""Merging from the card: suggestions, the search for the other contact, both side by side
with a choice per differing field, and the survivor's card with both histories."""

from __future__ import annotations

import pytest
from django.utils import timezone

from tests.conftest import logged_in
from twoway.accounts.models import Membership, Organization
from twoway.contacts.models import Contact, ContactPhone, CustomField, CustomFieldValue
from twoway.conversations.models import Conversation
from twoway.numbers.models import PhoneNumber

pytestmark = pytest.mark.django_db


def _contact(org: Organization, name: str, number: str, email: str = "") -> Contact:
    first, _, last = name.partition(" ")
    contact = Contact.objects.create(
        organization=org, name=name, first_name=first, last_name=last, email=email
    )
    ContactPhone.objects.create(organization=org, contact=contact, number=number, is_primary=True)
    return contact


def _talk(contact: Contact, number: PhoneNumber) -> Conversation:
    phone = contact.phones.get()
    return Conversation.objects.create(
        organization=contact.organization,
        contact=contact,
        phone_number=number,
        contact_number=phone.number,
        last_message_at=timezone.now(),
    )


@pytest.fixture
def pair(org: Organization, number: PhoneNumber) -> tuple[Contact, Contact]:
    dana = _contact(org, "Dana Whitfield", "+14155550123", "dana@example.com")
    lead = _contact(org, "Dana W", "+14155550199", "DANA@example.com")
    _talk(dana, number)
    _talk(lead, number)
    return dana, lead


def test_the_card_suggests_contacts_sharing_an_email_or_a_name(
    org: Organization, standard: Membership, pair: tuple[Contact, Contact]
) -> None:
    dana, lead = pair
    namesake = _contact(org, "dana whitfield", "+14155550177")
    _contact(org, "Someone Else", "+14155550166", "else@example.com")
    page = logged_in(standard).get(f"/contacts/{dana.pk}/").content.decode()
    assert "Merge with another contact…" in page
    assert f'data-candidate="{lead.pk}"' in page
    assert f'data-candidate="{namesake.pk}"' in page
    assert page.count("data-candidate=") == 2
    assert f"/contacts/{dana.pk}/merge/{lead.pk}/" in page


def test_the_search_finds_the_other_contact(
    standard: Membership, pair: tuple[Contact, Contact]
) -> None:
    dana, lead = pair
    client = logged_in(standard)
    page = client.get(f"/contacts/{dana.pk}/merge/", {"q": "555 0199"}).content.decode()
    assert f'data-candidate="{lead.pk}"' in page
    rows = client.get(
        f"/contacts/{dana.pk}/merge/", {"q": "dana"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    # Itself is never offered.
    assert f'data-candidate="{lead.pk}"' in rows
    assert f'data-candidate="{dana.pk}"' not in rows
    assert "<html" not in rows


def test_merging_keeps_the_picked_values_and_both_histories(
    org: Organization, standard: Membership, pair: tuple[Contact, Contact]
) -> None:
    dana, lead = pair
    tier = CustomField.objects.create(organization=org, name="Tier", kind="text")
    CustomFieldValue.objects.create(contact=dana, field=tier, value="Gold")
    CustomFieldValue.objects.create(contact=lead, field=tier, value="Silver")
    client = logged_in(standard)
    url = f"/contacts/{dana.pk}/merge/{lead.pk}/"
    page = client.get(url).content.decode()
    assert 'name="keep_email"' in page and 'name="keep_last_name"' in page
    assert 'name="keep_first_name"' not in page  # the same in both
    assert f'name="keepcustom_{tier.pk}"' in page
    response = client.post(url, {"keep_email": "other", f"keepcustom_{tier.pk}": "other"})
    assert response.status_code == 302
    assert response["Location"] == f"/contacts/{dana.pk}/"
    dana.refresh_from_db()
    assert (dana.name, dana.email) == ("Dana Whitfield", "DANA@example.com")
    assert CustomFieldValue.objects.get(contact=dana, field=tier).value == "Silver"
    card = client.get(f"/contacts/{dana.pk}/").content.decode()
    assert "Merged Dana W into this contact" in card
    assert "(415) 555-0123" in card and "(415) 555-0199" in card
    assert Conversation.objects.filter(contact=dana).count() == 2
    # The merged contact's card leads here for good; a form sent to it saves nothing.
    gone = client.get(f"/contacts/{lead.pk}/")
    assert (gone.status_code, gone["Location"]) == (301, f"/contacts/{dana.pk}/")
    posted = client.post(f"/contacts/{lead.pk}/", {"first_name": "X"})
    assert (posted.status_code, posted["Location"]) == (302, f"/contacts/{dana.pk}/")
    dana.refresh_from_db()
    assert dana.first_name == "Dana"


def test_refused_merges_change_nothing(
    org: Organization,
    other_org: Organization,
    standard: Membership,
    limited: Membership,
    pair: tuple[Contact, Contact],
) -> None:
    dana, lead = pair
    theirs = _contact(other_org, "Dana Whitfield", "+14155550123")
    client = logged_in(standard)
    assert client.post(f"/contacts/{dana.pk}/merge/{dana.pk}/").status_code == 400
    assert client.post(f"/contacts/{dana.pk}/merge/{theirs.pk}/").status_code == 404
    assert client.get(f"/contacts/{theirs.pk}/merge/").status_code == 404
    assert logged_in(limited).post(f"/contacts/{dana.pk}/merge/{lead.pk}/").status_code == 403
    assert logged_in(limited).get(f"/contacts/{dana.pk}/merge/").status_code == 403
    assert Contact.objects.count() == 3
