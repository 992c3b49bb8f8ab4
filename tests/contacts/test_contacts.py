"""Contacts: the list, the card, the API, and opt-out by hand through the consent ledger."""

from __future__ import annotations

import datetime
import re

import pytest
from django.test import Client
from django.utils import timezone

from tests.conftest import logged_in
from tests.messaging.test_inbound import receive
from twoway.accounts.models import ApiKey, Membership, Organization
from twoway.compliance.models import ConsentEvent
from twoway.contacts.models import Contact, ContactPhone, OptInStatus
from twoway.numbers.models import PhoneNumber

pytestmark = pytest.mark.django_db


@pytest.fixture
def contact(org: Organization) -> Contact:
    contact = Contact.objects.create(organization=org, name="Pat Client")
    ContactPhone.objects.create(organization=org, contact=contact, number="+14155550123")
    return contact


def _api(member: Membership) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {ApiKey.issue(owner=member, name='t')[1]}")


def test_contacts_page_lists_name_phones_and_opt_in(
    contact: Contact, org: Organization, standard: Membership
) -> None:
    Contact.objects.create(organization=org, opt_in_status=OptInStatus.OPTED_OUT)
    page = logged_in(standard).get("/contacts/").content.decode()
    assert "Pat Client" in page and "(415) 555-0123" in page
    assert "Opted in" in page and "Opted out" in page and "(no name)" in page
    found = logged_in(standard).get("/contacts/", {"q": "555-0123"}).content.decode()
    assert "Pat Client" in found
    assert "Pat Client" not in logged_in(standard).get("/contacts/", {"q": "zzz"}).content.decode()


def test_the_table_sorts_by_the_last_text_in_or_out(
    contact: Contact, org: Organization, standard: Membership, number: PhoneNumber
) -> None:
    quiet = Contact.objects.create(organization=org, name="Quiet Client")
    receive(number, "Still on for today?", frm="+14155550177")  # a new lead
    later = ContactPhone.objects.get(organization=org, number="+14155550177")
    Contact.objects.filter(pk=contact.pk).update(
        last_activity_at=timezone.now() - datetime.timedelta(days=2)
    )
    page = logged_in(standard).get("/contacts/", {"sort": "-activity"}).content.decode()
    rows = re.findall(r'data-contact="(\d+)"', page)
    assert rows == [str(later.contact_id), str(contact.pk), str(quiet.pk)]
    assert "Recent activity first" in page and "Never" in page


def test_opting_out_on_the_card_writes_the_ledger(contact: Contact, standard: Membership) -> None:
    client = logged_in(standard)
    response = client.post(
        f"/contacts/{contact.pk}/",
        {"first_name": "Pat", "last_name": "C.", "email": "pat@c.test", "opted_out": "on"},
    )
    assert response.status_code == 302
    contact.refresh_from_db()
    assert (contact.name, contact.email, contact.is_opted_out) == ("Pat C.", "pat@c.test", True)
    event = ConsentEvent.objects.get(contact=contact)
    assert (event.kind, event.source) == ("opt_out", "manual")
    assert standard.user.email in event.text
    # Saving again unchanged writes nothing more; unticking opts back in.
    client.post(f"/contacts/{contact.pk}/", {"first_name": "Pat", "opted_out": "on"})
    assert ConsentEvent.objects.filter(contact=contact).count() == 1
    client.post(f"/contacts/{contact.pk}/", {"first_name": "Pat"})
    contact.refresh_from_db()
    assert not contact.is_opted_out
    assert ConsentEvent.objects.filter(contact=contact, kind="opt_in").count() == 1
    assert "Changed by" in client.get(f"/contacts/{contact.pk}/").content.decode()


def test_a_bad_email_is_refused_with_a_reason(contact: Contact, admin: Membership) -> None:
    response = logged_in(admin).post(
        f"/contacts/{contact.pk}/", {"first_name": "X", "email": "nope"}
    )
    assert response.status_code == 422 and "not an e-mail address" in response.content.decode()
    contact.refresh_from_db()
    assert contact.name == "Pat Client"


def test_limited_users_cannot_browse_contacts(contact: Contact, limited: Membership) -> None:
    client = logged_in(limited)
    assert client.get("/contacts/").status_code == 403
    assert client.get(f"/contacts/{contact.pk}/").status_code == 403
    assert "/contacts/" not in client.get("/inbox/").content.decode()


def test_api_lists_reads_and_patches_contacts(contact: Contact, standard: Membership) -> None:
    client = _api(standard)
    listed = client.get("/api/v1/contacts").json()
    assert listed["count"] == 1
    assert listed["items"][0] | {} == {
        **listed["items"][0],
        "name": "Pat Client",
        "phones": [
            {"id": contact.phones.get().pk, "number": "+14155550123", "label": "", "primary": False}
        ],
        "opt_in_status": "opted_in",
    }
    response = client.patch(
        f"/api/v1/contacts/{contact.pk}", {"opted_out": True}, content_type="application/json"
    )
    assert response.status_code == 200
    assert (response.json()["opt_in_status"], response.json()["name"]) == (
        "opted_out",
        "Pat Client",
    )
    event = ConsentEvent.objects.get(contact=contact)
    assert (event.kind, event.source) == ("opt_out", "api")
    bad = client.patch(
        f"/api/v1/contacts/{contact.pk}", {"email": "nope"}, content_type="application/json"
    )
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_email"


def test_api_contacts_are_forbidden_to_a_limited_key(contact: Contact, limited: Membership) -> None:
    client = _api(limited)
    response = client.get("/api/v1/contacts")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "contacts_not_allowed"
    assert client.get(f"/api/v1/contacts/{contact.pk}").status_code == 403
