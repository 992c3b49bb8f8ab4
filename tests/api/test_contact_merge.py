"""POST /api/v1/contacts/{id}/merge: merge another contact into this one and answer the
survivor; the merged id then answers 308 to it."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from twoway.accounts.models import ApiKey, Membership, Organization
from twoway.contacts.models import Contact, CustomField

pytestmark = pytest.mark.django_db


def _api(member: Membership) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {ApiKey.issue(owner=member, name='t')[1]}")


def _post(client: Client, url: str, body: Any) -> Any:
    return client.post(url, body, content_type="application/json")


@pytest.fixture
def two(standard: Membership, org: Organization) -> tuple[Client, dict[str, Any], dict[str, Any]]:
    CustomField.objects.create(organization=org, name="Tier", kind="choice", options=["Gold"])
    client = _api(standard)
    first = _post(
        client,
        "/api/v1/contacts",
        {"first_name": "Dana", "last_name": "Whitfield", "phones": [{"number": "4155550123"}]},
    ).json()
    second = _post(
        client,
        "/api/v1/contacts",
        {
            "first_name": "Dana",
            "last_name": "W.",
            "email": "dana@example.com",
            "phones": [{"number": "4155550199", "label": "new"}],
            "custom_fields": {"Tier": "Gold"},
            "opted_out": True,
        },
    ).json()
    return client, first, second


def test_merge_answers_the_survivor_and_the_merged_id_redirects(
    two: tuple[Client, dict[str, Any], dict[str, Any]],
) -> None:
    client, first, second = two
    url = f"/api/v1/contacts/{first['id']}"
    response = _post(
        client, f"{url}/merge", {"merge": second["id"], "keep": {"last_name": "other"}}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == first["id"]
    assert (body["name"], body["email"], body["opt_in_status"]) == (
        "Dana W.",
        "dana@example.com",
        "opted_out",
    )
    assert [(p["number"], p["primary"]) for p in body["phones"]] == [
        ("+14155550123", True),
        ("+14155550199", False),
    ]
    assert body["custom_fields"] == {"Tier": "Gold"}
    assert client.get(url).json() == body
    gone = client.get(f"/api/v1/contacts/{second['id']}")
    assert gone.status_code == 308
    assert gone["Location"] == url
    assert gone.json()["error"]["code"] == "contact_merged"
    # A write to the merged id is not replayed on the survivor: it names it instead.
    patched = client.patch(
        f"/api/v1/contacts/{second['id']}", {"email": ""}, content_type="application/json"
    )
    assert patched.status_code == 404
    assert patched.json()["error"]["code"] == "contact_merged"
    assert f"contact {first['id']}" in patched.json()["error"]["message"]


def test_unknown_fields_are_422_and_nothing_is_merged(
    two: tuple[Client, dict[str, Any], dict[str, Any]],
) -> None:
    client, first, second = two
    url = f"/api/v1/contacts/{first['id']}/merge"
    for body in (
        {"merge": second["id"], "keep": {"shoe_size": "other"}},
        {"merge": second["id"], "keep": {"email": "both"}},
        {"merge": second["id"], "colour": "red"},
        {"merge": str(second["id"])},
        {},
    ):
        assert _post(client, url, body).status_code == 422, body
    unknown = _post(client, url, {"merge": second["id"], "keep": {"custom_fields": {"X": "other"}}})
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (400, "unknown_custom_field")
    assert Contact.objects.filter(pk=second["id"]).exists()


def test_self_other_organization_and_permission(
    two: tuple[Client, dict[str, Any], dict[str, Any]],
    other_org: Organization,
    limited: Membership,
) -> None:
    client, first, second = two
    url = f"/api/v1/contacts/{first['id']}/merge"
    same = _post(client, url, {"merge": first["id"]})
    assert (same.status_code, same.json()["error"]["code"]) == (400, "merge_same_contact")
    theirs = Contact.objects.create(organization=other_org, name="Theirs")
    assert _post(client, url, {"merge": theirs.pk}).status_code == 404
    assert (
        _post(client, f"/api/v1/contacts/{theirs.pk}/merge", {"merge": first["id"]}).status_code
        == 404
    )
    assert _post(_api(limited), url, {"merge": second["id"]}).status_code == 403
    assert Contact.objects.filter(pk__in=[first["id"], second["id"], theirs.pk]).count() == 3
