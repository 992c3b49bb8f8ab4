"""The contacts API: every field read and written, 422 for what it does not know, and only the
key owner's organization."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.conftest import make_member
from twoway.accounts.models import ApiKey, Membership, Organization
from twoway.contacts.models import Contact, ContactGroup, ContactPhone, CustomField

pytestmark = pytest.mark.django_db


def _api(member: Membership) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {ApiKey.issue(owner=member, name='t')[1]}")


def _send(client: Client, method: str, url: str, body: Any) -> Any:
    return getattr(client, method)(url, body, content_type="application/json")


@pytest.fixture
def defined(org: Organization) -> None:
    ContactGroup.objects.create(organization=org, name="VIP")
    ContactGroup.objects.create(organization=org, name="Newsletter")
    CustomField.objects.create(organization=org, name="Visits", kind="number")
    CustomField.objects.create(organization=org, name="Birthday", kind="date")
    CustomField.objects.create(
        organization=org, name="Tier", kind="choice", options=["Gold", "Silver"]
    )


FULL = {
    "first_name": "Dana",
    "last_name": "Whitfield",
    "email": "dana@example.com",
    "phones": [
        {"number": "415-555-0123", "label": "mobile"},
        {"number": "+12025550188", "label": "work", "primary": True},
    ],
    "external_uid": "crm-9",
    "client_id": "C-77",
    "client_type": "Member",
    "groups": ["VIP", "Newsletter"],
    "home_location": "Uptown",
    "time_zone": "America/Denver",
    "custom_fields": {"Visits": 12, "Birthday": "1990-04-01", "Tier": "silver"},
}


def test_create_reads_back_every_field(standard: Membership, defined: None) -> None:
    client = _api(standard)
    response = _send(client, "post", "/api/v1/contacts", FULL)
    assert response.status_code == 201, response.content
    body = response.json()
    assert {k: body[k] for k in FULL if k not in ("phones", "groups", "custom_fields")} == {
        k: v for k, v in FULL.items() if k not in ("phones", "groups", "custom_fields")
    }
    assert body["name"] == "Dana Whitfield"
    assert [(p["number"], p["label"], p["primary"]) for p in body["phones"]] == [
        ("+12025550188", "work", True),
        ("+14155550123", "mobile", False),
    ]
    assert body["groups"] == ["Newsletter", "VIP"]
    assert body["custom_fields"] == {"Visits": 12, "Birthday": "1990-04-01", "Tier": "Silver"}
    assert (body["created_from"], body["opt_in_status"], body["source_number"]) == (
        "api",
        "opted_in",
        None,
    )
    assert body["lead_texted_at"] is None
    assert client.get(f"/api/v1/contacts/{body['id']}").json() == body
    assert client.get("/api/v1/contacts").json()["items"] == [body]


def test_patch_changes_only_what_is_sent(standard: Membership, defined: None) -> None:
    client = _api(standard)
    made = _send(client, "post", "/api/v1/contacts", FULL).json()
    url = f"/api/v1/contacts/{made['id']}"
    patched = _send(
        client,
        "patch",
        url,
        {"last_name": "W.", "custom_fields": {"Visits": 13.5, "Tier": None}, "groups": ["VIP"]},
    )
    assert patched.status_code == 200, patched.content
    body = patched.json()
    assert (body["name"], body["email"], body["groups"]) == ("Dana W.", "dana@example.com", ["VIP"])
    assert body["custom_fields"] == {"Visits": 13.5, "Birthday": "1990-04-01"}
    assert body["phones"] == made["phones"]
    # The phones are the list sent: the one kept keeps its id.
    kept = next(p for p in made["phones"] if p["number"] == "+14155550123")
    phones = _send(client, "patch", url, {"phones": [{"number": "(415) 555-0123"}]}).json()
    assert phones["phones"] == [kept | {"primary": True}]
    whole = _send(client, "patch", url, {"name": "Dana Marie Whitfield"}).json()
    assert (whole["first_name"], whole["last_name"]) == ("Dana Marie", "Whitfield")


@pytest.mark.parametrize(
    "body",
    [
        {"nickname": "Dee"},
        {"phones": [{"number": "415-555-0123", "kind": "mobile"}]},
        {"phones": [{"number": "415-555-0123", "primary": "yes"}]},
        {"custom_fields": {"Visits": True}},
        {"groups": "VIP"},
        {"created_from": "import"},
    ],
)
def test_what_the_schema_does_not_know_is_a_422(
    standard: Membership, defined: None, body: dict[str, Any]
) -> None:
    client = _api(standard)
    contact = Contact.objects.create(organization=standard.organization, name="Ada")
    for method, url in (("post", "/api/v1/contacts"), ("patch", f"/api/v1/contacts/{contact.pk}")):
        response = _send(client, method, url, {"name": "Ada", **body})
        assert response.status_code == 422, (method, response.content)
    assert Contact.objects.count() == 1


def test_an_unknown_custom_field_is_refused_naming_it(standard: Membership, defined: None) -> None:
    # Not a 422: the schema cannot know the organization's fields, and a body it describes is
    # never refused as one it does not.
    client = _api(standard)
    body = {"name": "Ada", "custom_fields": {"Vists": 1}}
    response = _send(client, "post", "/api/v1/contacts", body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "unknown_custom_field" and "no custom field “Vists”" in error["message"]
    assert not Contact.objects.exists()


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"phones": [{"number": "12"}]}, "invalid_phone"),
        ({"time_zone": "Moon/Base"}, "invalid_time_zone"),
        ({"groups": ["Nobody"]}, "unknown_group"),
        ({"custom_fields": {"Birthday": "tomorrow"}}, "invalid_custom_value"),
        ({"custom_fields": {"Visits": "lots"}}, "invalid_custom_value"),
        ({"email": "nope"}, "invalid_email"),
        ({"client_type": "Member"}, "empty_contact"),
    ],
)
def test_a_value_the_service_refuses_is_a_400_with_a_code(
    standard: Membership, defined: None, body: dict[str, Any], code: str
) -> None:
    response = _send(_api(standard), "post", "/api/v1/contacts", {"email": "", **body})
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == code
    assert not Contact.objects.exists()


def test_a_number_another_contact_has_is_refused(standard: Membership, org: Organization) -> None:
    other = Contact.objects.create(organization=org, name="Dana Known")
    ContactPhone.objects.create(organization=org, contact=other, number="+14155550123")
    response = _send(
        _api(standard), "post", "/api/v1/contacts", {"phones": [{"number": "4155550123"}]}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "phone_taken"
    assert Contact.objects.count() == 1


def test_another_organizations_contacts_are_404(
    standard: Membership, other_org: Organization
) -> None:
    theirs = Contact.objects.create(organization=other_org, name="Theirs")
    ContactGroup.objects.create(organization=other_org, name="Their group")
    client = _api(standard)
    assert client.get(f"/api/v1/contacts/{theirs.pk}").status_code == 404
    patched = _send(client, "patch", f"/api/v1/contacts/{theirs.pk}", {"first_name": "Mine"})
    assert patched.status_code == 404
    theirs.refresh_from_db()
    assert theirs.name == "Theirs"
    assert client.get("/api/v1/contacts").json()["count"] == 0
    # Their group is not one of ours to put a contact in.
    refused = _send(client, "post", "/api/v1/contacts", {"name": "Ada", "groups": ["Their group"]})
    assert refused.json()["error"]["code"] == "unknown_group"
    outsider = make_member(other_org, "them@other.test")
    assert _api(outsider).get(f"/api/v1/contacts/{theirs.pk}").status_code == 200


def test_a_limited_key_cannot_create(limited: Membership) -> None:
    response = _send(_api(limited), "post", "/api/v1/contacts", {"name": "Ada"})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "contacts_not_allowed"
    assert not Contact.objects.exists()
