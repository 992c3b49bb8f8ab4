"""What the web pages refuse from people: NUL characters, searches too long to be one, numbers
a text must not go to; and the organization's allowed destination countries."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import logged_in, make_conversation
from tests.web.organization_form import organization_form
from twoway.accounts.models import Membership, Organization
from twoway.contacts.models import Contact
from twoway.conversations.models import Message
from twoway.numbers.models import PhoneNumber

pytestmark = pytest.mark.django_db

NUL = "Null characters are not allowed."


def _new(client: Client, number: PhoneNumber, to: str, body: str = "Hello") -> object:
    return client.post(
        reverse("new_conversation"), {"to": to, "body": body, "from_id": str(number.pk)}
    )


@pytest.mark.parametrize(
    ("to", "body", "says"),
    [
        ("415-555-0142", "before\x00after", NUL),
        ("415-555-0142", "\u200b\u200e", "Type a message first."),
        ("+1 (415) 555-0123 ext 5", "Hello", "has an extension (5)"),
        ("+1 900 555 0123", "Hello", "is a premium-rate number"),
        ("+44 7400 123456", "Hello", "a GB number; this organization texts only numbers of CA, US"),
        ("+14155550100", "Hello", "is one of your own numbers"),
    ],
)
def test_new_conversation_shows_why_a_text_cannot_go(
    admin: Membership, number: PhoneNumber, to: str, body: str, says: str
) -> None:
    """A NUL in the body was a 500 on PostgreSQL; the rest were sent."""
    response = _new(logged_in(admin), number, to, body)
    assert response.status_code == 422  # type: ignore[attr-defined]
    assert says in response.content.decode()  # type: ignore[attr-defined]
    assert not Message.objects.exists()


def test_a_reply_a_note_and_a_contact_edit_with_a_nul_are_refused(
    admin: Membership, org: Organization, number: PhoneNumber
) -> None:
    """The note and the contact's name were a 500 on PostgreSQL, and stored on SQLite."""
    conversation = make_conversation(org, number, "+14155550123", name="Ada")
    client = logged_in(admin)
    reply = client.post(f"/inbox/c/{conversation.pk}/send/", {"body": "a\x00b"})
    note = client.post(f"/inbox/c/{conversation.pk}/note/", {"body": "a\x00b"})
    card = client.post(f"/contacts/{conversation.contact_id}/", {"first_name": "a\x00b"})
    for response, status in ((reply, 422), (note, 400), (card, 422)):
        assert response.status_code == status
        assert NUL in response.content.decode()
    assert not Message.objects.exists()
    assert Contact.objects.get().name == "Ada"


@pytest.mark.parametrize("htmx", [False, True])
def test_a_contact_search_with_a_nul_is_refused(
    admin: Membership, org: Organization, htmx: bool
) -> None:
    """It was a 500 on PostgreSQL."""
    Contact.objects.create(organization=org, name="Ada")
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    response = logged_in(admin).get("/contacts/?q=a%00b", **headers)
    assert response.status_code == 400
    assert NUL in response.content.decode()
    assert "Ada" not in response.content.decode()


def test_a_contact_search_too_long_is_refused(admin: Membership) -> None:
    response = logged_in(admin).get("/contacts/", {"q": "a" * 201})
    assert response.status_code == 400
    assert "Search for at most 200 characters." in response.content.decode()
    assert logged_in(admin).get("/contacts/", {"q": "a" * 200}).status_code == 200


@pytest.mark.parametrize("htmx", [False, True])
def test_a_search_with_a_nul_is_refused(admin: Membership, htmx: bool) -> None:
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    response = logged_in(admin).get("/search/?q=a%00b", **headers)
    assert response.status_code == 400
    assert NUL in response.content.decode()
    response = logged_in(admin).get("/search/", {"q": "a" * 501}, **headers)
    assert response.status_code == 400
    assert "Search for at most 500 characters." in response.content.decode()


# --- The organization's allowed countries ------------------------------------------------------


def test_admins_see_and_change_the_allowed_countries(admin: Membership, org: Organization) -> None:
    client = logged_in(admin)
    page = client.get(reverse("settings_organization")).content.decode()
    assert 'value="US, CA"' in page and "Countries texts may go to" in page
    response = client.post(
        reverse("settings_organization"), organization_form(org, allowed_countries="us, ca gb;GB")
    )
    assert response.status_code == 302
    org.refresh_from_db()
    assert org.allowed_countries == "US,CA,GB"
    assert org.allowed_country_codes == {"US", "CA", "GB"}


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("US, XX", "Not a country code: XX."),
        ("USA", "Not a country code: USA."),
        ("", "This field is required."),
        (" , ", "Allow texts to at least one country."),
    ],
)
def test_the_allowed_countries_must_be_country_codes(
    admin: Membership, org: Organization, typed: str, says: str
) -> None:
    response = logged_in(admin).post(
        reverse("settings_organization"), organization_form(org, allowed_countries=typed)
    )
    assert response.status_code == 422
    assert says in response.content.decode()
    org.refresh_from_db()
    assert org.allowed_countries == "US,CA"


def test_a_standard_user_cannot_change_them(standard: Membership, org: Organization) -> None:
    response = logged_in(standard).post(
        reverse("settings_organization"), organization_form(org, allowed_countries="GB")
    )
    assert response.status_code == 403
    org.refresh_from_db()
    assert org.allowed_countries == "US,CA"
