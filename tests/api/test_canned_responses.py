"""The canned-responses API: within the key owner's rights, unknown merge fields 422, and one
response filled in for a conversation's contact."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.conftest import make_conversation, make_member
from twoway.accounts.models import ApiKey, Membership, Organization, Role
from twoway.canned.models import CannedResponse
from twoway.contacts.models import CustomField, CustomFieldValue
from twoway.conversations.models import Message
from twoway.numbers.models import PhoneNumber

pytestmark = pytest.mark.django_db

URL = "/api/v1/canned-responses"


def _api(member: Membership) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {ApiKey.issue(owner=member, name='t')[1]}")


def _send(client: Client, method: str, url: str, body: Any) -> Any:
    return getattr(client, method)(url, body, content_type="application/json")


def test_an_admin_adds_one_for_everyone_and_everyone_lists_it(
    admin: Membership, standard: Membership
) -> None:
    made = _send(
        _api(admin),
        "post",
        URL,
        {"name": "Hours", "body": "Hi {first_name}, we open at 9.", "scope": "organization"},
    )
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["scope"] == "organization" and body["merge_fields"] == ["first_name"]
    listed = _api(standard).get(URL).json()
    assert listed["count"] == 1 and listed["items"][0]["id"] == body["id"]


def test_a_member_keeps_their_own_and_no_one_else_sees_it(
    org: Organization, admin: Membership, standard: Membership
) -> None:
    mine = _send(_api(standard), "post", URL, {"name": "Mine", "body": "On it"})
    assert mine.status_code == 201
    assert mine.json()["scope"] == "personal"
    canned_id = mine.json()["id"]
    admin_key = _api(admin)
    assert admin_key.get(URL).json()["count"] == 0
    for method, body in (("get", None), ("patch", {"body": "Mine now"}), ("delete", None)):
        answer = _send(admin_key, method, f"{URL}/{canned_id}", body)
        assert answer.status_code == 404, (method, answer.content)
    changed = _send(_api(standard), "patch", f"{URL}/{canned_id}", {"name": "Renamed"})
    assert changed.status_code == 200
    assert (changed.json()["name"], changed.json()["body"]) == ("Renamed", "On it")
    assert _send(_api(standard), "delete", f"{URL}/{canned_id}", None).status_code == 204
    assert not CannedResponse.objects.filter(pk=canned_id).exists()


def test_a_member_may_not_add_or_change_the_organizations(
    org: Organization, standard: Membership
) -> None:
    key = _api(standard)
    refused = _send(key, "post", URL, {"name": "x", "body": "y", "scope": "organization"})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "admin_only"
    shared = CannedResponse.objects.create(organization=org, name="Hours", body="At 9")
    assert key.get(f"{URL}/{shared.pk}").status_code == 200
    assert _send(key, "patch", f"{URL}/{shared.pk}", {"body": "x"}).status_code == 403
    assert _send(key, "delete", f"{URL}/{shared.pk}", None).status_code == 403
    shared.refresh_from_db()
    assert shared.body == "At 9"


def test_an_unknown_merge_field_is_422_and_keeps_nothing(standard: Membership) -> None:
    refused = _send(_api(standard), "post", URL, {"name": "x", "body": "Hi {nickname}"})
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["code"] == "unknown_merge_field"
    assert error["message"].startswith("{nickname} is not a merge field.")
    assert CannedResponse.objects.count() == 0


def test_a_body_outside_the_schema_is_422(standard: Membership) -> None:
    key = _api(standard)
    assert _send(key, "post", URL, {"name": "x", "body": ""}).status_code == 422
    assert _send(key, "post", URL, {"name": "x", "body": "y", "owner": 1}).status_code == 422
    assert _send(key, "post", URL, {"name": "x", "body": "y", "scope": "team"}).status_code == 422
    assert _send(key, "post", URL, {"name": "", "body": "y"}).status_code == 422


def test_rendered_for_a_conversation_fills_the_contact_and_sends_nothing(
    org: Organization, number: PhoneNumber, sam: Membership
) -> None:
    level = CustomField.objects.create(organization=org, name="Membership level", kind="text")
    conversation = make_conversation(org, number, "+12025550101")
    contact = conversation.contact
    contact.first_name = "Dana"
    contact.save()
    canned = CannedResponse.objects.create(
        organization=org, name="L", body="Hi {first_name}, {agent_name}: {membership_level}"
    )
    url = f"{URL}/{canned.pk}/rendered?conversation_id={conversation.pk}"
    answer = _api(sam).get(url)
    assert answer.status_code == 200, answer.content
    assert answer.json() == {
        "id": canned.pk,
        "conversation_id": conversation.pk,
        "text": "Hi Dana, Sam Rivera: {membership_level}",
        "empty_fields": ["membership_level"],
        "unknown_fields": [],
    }
    CustomFieldValue.objects.create(contact=contact, field=level, value="Gold")
    assert _api(sam).get(url).json()["text"] == "Hi Dana, Sam Rivera: Gold"
    assert Message.objects.count() == 0


def test_rendered_needs_a_conversation_the_key_owner_sees(
    org: Organization, number: PhoneNumber, admin: Membership, other_org: Organization
) -> None:
    conversation = make_conversation(org, number, "+12025550101")
    canned = CannedResponse.objects.create(organization=org, name="L", body="Hi")
    outsider = make_member(other_org, "boss@other.test", Role.ADMINISTRATIVE)
    own = CannedResponse.objects.create(organization=other_org, name="O", body="Own")
    key = _api(outsider)
    assert key.get(f"{URL}/{own.pk}/rendered?conversation_id={conversation.pk}").status_code == 404
    assert key.get(f"{URL}/{canned.pk}/rendered?conversation_id=1").status_code == 404
    assert _api(admin).get(f"{URL}/{canned.pk}/rendered").status_code == 422
