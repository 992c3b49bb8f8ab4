"""The REST API: keys, sending through the pipeline, reads, notes, isolation, the schema."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tests.conftest import make_member
from twoway.accounts.models import ApiKey, Membership, Organization, Role
from twoway.api.pagination import MAX_LIMIT, MAX_OFFSET
from twoway.contacts.models import Contact, ContactPhone, CreatedFrom, OptInStatus
from twoway.conversations.models import Conversation, Folder, Message, Status
from twoway.numbers.models import PhoneNumber

pytestmark = pytest.mark.django_db

CONTACT = "+14155550123"


def _client(raw_key: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw_key}")


@pytest.fixture
def raw_key(admin: Membership) -> str:
    return ApiKey.issue(owner=admin, name="CRM")[1]


@pytest.fixture
def api(raw_key: str, number: PhoneNumber) -> Client:
    return _client(raw_key)


@pytest.fixture
def other_number(other_org: Organization) -> PhoneNumber:
    return PhoneNumber.objects.create(organization=other_org, number="+14155550199")


@pytest.fixture
def outsider(other_org: Organization, other_number: PhoneNumber) -> Client:
    their_admin = make_member(other_org, "admin@other.test", Role.ADMINISTRATIVE)
    return _client(ApiKey.issue(owner=their_admin, name="Theirs")[1])


def _send(client: Client, **fields: Any) -> Any:
    payload = {"from": "+14155550100", "to": "415-555-0123", "body": "Hello"} | fields
    return client.post("/api/v1/messages", payload, content_type="application/json")


def _error(response: Any) -> dict[str, str]:
    return response.json()["error"]  # type: ignore[no-any-return]


def _opt_out(org: Organization, number: str = CONTACT) -> None:
    contact = Contact.objects.create(organization=org, opt_in_status=OptInStatus.OPTED_OUT)
    ContactPhone.objects.create(organization=org, contact=contact, number=number)


# ---- authentication -------------------------------------------------------------------------

ENDPOINTS = [
    ("post", "/api/v1/messages"),
    ("get", f"/api/v1/messages/{uuid.uuid4()}"),
    ("get", "/api/v1/conversations"),
    ("get", "/api/v1/conversations/1/messages"),
    ("post", "/api/v1/conversations/1/notes"),
    ("get", "/api/v1/conversations/1"),
    ("post", "/api/v1/conversations/1/archive"),
    ("delete", "/api/v1/conversations/1"),
    ("get", "/api/v1/conversations/1/export?start=2026-01-01&end=2026-01-02"),
    ("post", "/api/v1/conversations/1/drips"),
    ("post", "/api/v1/conversations/1/drips/1/cancel"),
    ("get", "/api/v1/drip-campaigns"),
    ("get", "/api/v1/numbers"),
    ("get", "/api/v1/contacts"),
    ("patch", "/api/v1/contacts/1"),
    ("get", "/api/v1/search?q=x"),
    ("get", "/api/v1/consent"),
]


@pytest.mark.parametrize(("method", "url"), ENDPOINTS)
def test_every_endpoint_needs_a_key(client: Client, method: str, url: str) -> None:
    response = getattr(client, method)(url)
    assert response.status_code == 401
    assert _error(response)["code"] == "unauthorized"
    assert "Bearer" in _error(response)["message"]
    assert response["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "header", ["Bearer tw_not-a-real-key", "Bearer ", "Basic dXNlcjpwYXNz", "tw_no_scheme"]
)
def test_unknown_or_malformed_key_is_401(number: PhoneNumber, header: str) -> None:
    response = Client(HTTP_AUTHORIZATION=header).get("/api/v1/numbers")
    assert response.status_code == 401
    assert _error(response)["code"] == "unauthorized"


def test_revoked_key_is_401(admin: Membership, number: PhoneNumber) -> None:
    key, raw = ApiKey.issue(owner=admin, name="Old")
    assert _client(raw).get("/api/v1/numbers").status_code == 200
    key.revoked_at = timezone.now()
    key.save()
    assert _client(raw).get("/api/v1/numbers").status_code == 401
    assert _send(_client(raw)).status_code == 401
    assert not Message.objects.exists()


def test_last_used_at_is_written_at_most_once_a_minute(org: Organization, raw_key: str) -> None:
    client = _client(raw_key)
    client.get("/api/v1/numbers")
    key = ApiKey.objects.get()
    first = key.last_used_at
    assert first is not None
    client.get("/api/v1/numbers")
    key.refresh_from_db()
    assert key.last_used_at == first
    ApiKey.objects.update(last_used_at=first - timedelta(minutes=2))
    client.get("/api/v1/numbers")
    key.refresh_from_db()
    assert key.last_used_at is not None and key.last_used_at >= first


# ---- sending --------------------------------------------------------------------------------


def test_send_queues_the_message_and_answers_201(
    api: Client, number: PhoneNumber, admin: Membership
) -> None:
    response = _send(api, body="A" * 161, category="transactional")
    assert response.status_code == 201, response.content
    data = response.json()
    message = Message.objects.get()
    assert data["id"] == str(message.uid)
    assert data["conversation_id"] == message.conversation_id
    assert (data["direction"], data["kind"], data["status"]) == ("out", "message", "queued")
    assert (data["segments"], data["encoding"]) == (2, "GSM-7")
    assert (data["from"], data["to"]) == ("+14155550100", CONTACT)
    assert data["category"] == "transactional"
    assert (data["error_code"], data["error_message"]) == ("", "")
    assert data["created_at"] and data["sent_at"] is None
    assert (message.status, message.segments, message.sent_by_label) == (Status.QUEUED, 2, "api")
    # The key acts as its owner, so the thread shows who sent it (labelled "api").
    assert message.next_attempt_at is not None and message.sent_by == admin.user
    contact = message.conversation.contact
    assert contact.created_from == CreatedFrom.API


def test_send_counts_unicode_segments(api: Client) -> None:
    data = _send(api, body="Hi 😀" * 20).json()
    assert (data["encoding"], data["segments"], data["category"]) == ("UCS-2", 2, "direct")


def test_shortcodes_are_sent_as_their_emoji(api: Client, admin: Membership) -> None:
    """In a one-text send (the lean path), a batch and the composer alike."""
    data = _send(api, body="See you at 10:30 :thumbs_up: :+1: :not_an_emoji:").json()
    assert data["body"] == "See you at 10:30 👍 👍 :not_an_emoji:"
    assert data["encoding"] == "UCS-2"
    batch = api.post(
        "/api/v1/messages/batch",
        {"messages": [{"from": "+14155550100", "to": CONTACT, "body": "Thanks :smile:"}]},
        content_type="application/json",
    ).json()
    assert batch["results"][0]["message"]["body"] == "Thanks 😄"
    assert list(Message.objects.order_by("id").values_list("body", flat=True)) == [
        "See you at 10:30 👍 👍 :not_an_emoji:",
        "Thanks 😄",
    ]


def test_the_length_limit_counts_the_emoji_not_the_shortcode(
    api: Client, org: Organization
) -> None:
    org.max_message_length = 10
    org.save()
    assert _send(api, body=":thumbs_up:" * 5).status_code == 201  # 5 characters once sent
    assert _send(api, body="x" * 11).status_code == 400


@pytest.mark.parametrize("sender", ["(415) 555-0100", "4155550100"])
def test_from_may_be_typed_nationally(api: Client, sender: str) -> None:
    assert _send(api, **{"from": sender}).status_code == 201


def test_from_may_be_the_number_id(api: Client, number: PhoneNumber) -> None:
    for ref in [number.pk, float(number.pk)]:  # JSON Schema counts 3.0 as an integer too
        response = _send(api, **{"from": ref})
        assert response.status_code == 201
        assert response.json()["from"] == number.number


@pytest.mark.parametrize(
    ("fields", "code", "text"),
    [
        ({"to": "12345"}, "invalid_to", "not a valid phone number"),
        ({"to": "call me"}, "invalid_to", "not a phone number"),
        ({"body": "   "}, "empty_body", "Type a message first."),
        ({"body": "x" * 21}, "too_long", "at most 20"),
    ],
)
def test_bad_input_is_400_with_a_readable_message_and_stores_nothing(
    api: Client, org: Organization, fields: dict[str, str], code: str, text: str
) -> None:
    org.max_message_length = 20
    org.save()
    response = _send(api, **fields)
    assert response.status_code == 400
    assert _error(response)["code"] == code
    assert text in _error(response)["message"]
    assert not Message.objects.exists() and not Conversation.objects.exists()


def test_from_number_of_another_org_is_404(api: Client, other_number: PhoneNumber) -> None:
    for sender in [other_number.number, other_number.pk, "+19995550100"]:
        response = _send(api, **{"from": sender})
        assert response.status_code == 404
        assert _error(response)["code"] == "not_found"
    assert not Message.objects.exists() and not Contact.objects.exists()


def test_opted_out_contact_needs_confirmation(api: Client, org: Organization) -> None:
    _opt_out(org)
    response = _send(api)
    assert response.status_code == 403
    assert _error(response)["code"] == "opted_out"
    assert "opted out" in _error(response)["message"]
    assert not Message.objects.exists()
    assert _send(api, confirm_opted_out=True).status_code == 201


def test_marketing_never_goes_to_opted_out_contacts(api: Client, org: Organization) -> None:
    _opt_out(org)
    response = _send(api, category="marketing", confirm_opted_out=True)
    assert response.status_code == 403
    assert _error(response)["code"] == "opted_out"
    assert not Message.objects.exists()


def test_request_not_matching_the_schema_is_422_in_ninjas_format(api: Client) -> None:
    response = api.post("/api/v1/messages", {"to": CONTACT}, content_type="application/json")
    assert response.status_code == 422
    # `from` may be left out (transactional and marketing texts); `body` may not.
    assert {tuple(e["loc"]) for e in response.json()["detail"]} == {
        ("body", "payload", "body"),
    }
    assert _send(api, category="blast").status_code == 422
    # Not read as the number with id 1.
    assert _send(api, **{"from": True}).status_code == 422


def test_unparsable_json_is_400_in_our_format(api: Client) -> None:
    response = api.post("/api/v1/messages", "{nope", content_type="application/json")
    assert response.status_code == 400
    assert _error(response)["code"] == "bad_request"


# ---- reading messages and conversations -----------------------------------------------------


def test_get_message_shows_its_delivery_status(api: Client) -> None:
    uid = _send(api).json()["id"]
    assert api.get(f"/api/v1/messages/{uid}").json()["status"] == "queued"
    Message.objects.update(status=Status.DELIVERED, delivered_at=timezone.now())
    data = api.get(f"/api/v1/messages/{uid}").json()
    assert (data["id"], data["status"]) == (uid, "delivered")
    assert data["delivered_at"] is not None


def test_unknown_or_malformed_message_id(api: Client) -> None:
    response = api.get(f"/api/v1/messages/{uuid.uuid4()}")
    assert response.status_code == 404 and _error(response)["code"] == "not_found"
    assert api.get("/api/v1/messages/not-a-uuid").status_code == 422


def test_conversations_newest_first_filtered_and_paged(api: Client) -> None:
    _send(api, to="+12025550172")
    _send(api, to="+12025550173")
    newest = _send(api, to="+12025550174").json()["conversation_id"]
    Conversation.objects.filter(contact_number="+12025550172").update(folder=Folder.ARCHIVED)
    data = api.get("/api/v1/conversations").json()
    assert data["count"] == 3
    assert data["items"][0]["id"] == newest
    assert data["items"][0]["contact_number"] == "+12025550174"
    page = api.get("/api/v1/conversations?limit=1&offset=1").json()
    assert page["count"] == 3 and len(page["items"]) == 1
    assert page["items"][0]["id"] == data["items"][1]["id"]
    archived = api.get("/api/v1/conversations?folder=archived").json()
    assert [c["contact_number"] for c in archived["items"]] == ["+12025550172"]
    assert api.get("/api/v1/conversations?folder=spam").status_code == 422
    assert api.get("/api/v1/conversations?limit=100000").status_code == 422


def test_page_bounds_are_enforced_not_crashed_on(api: Client) -> None:
    # An unbounded offset used to reach the database and fail there with a 500.
    conversation_id = _send(api).json()["conversation_id"]
    for url in ["/api/v1/conversations", f"/api/v1/conversations/{conversation_id}/messages"]:
        assert api.get(f"{url}?offset={10**20}").status_code == 422
        last_page = api.get(f"{url}?offset={MAX_OFFSET}&limit={MAX_LIMIT}")
        assert last_page.status_code == 200
        assert last_page.json() == {"items": [], "count": 1}


def test_conversation_messages_oldest_first_with_notes(api: Client) -> None:
    first = _send(api, body="First").json()
    conversation_id = first["conversation_id"]
    note = api.post(
        f"/api/v1/conversations/{conversation_id}/notes",
        {"body": "Called them"},
        content_type="application/json",
    )
    _send(api, body="Second")
    data = api.get(f"/api/v1/conversations/{conversation_id}/messages").json()
    assert data["count"] == 3
    assert [m["body"] for m in data["items"]] == ["First", "Called them", "Second"]
    assert [m["kind"] for m in data["items"]] == ["message", "note", "message"]
    assert data["items"][1]["id"] == note.json()["id"]


def test_note_is_stored_but_never_queued(api: Client) -> None:
    conversation_id = _send(api).json()["conversation_id"]
    url = f"/api/v1/conversations/{conversation_id}/notes"
    response = api.post(url, {"body": "  VIP, be nice  "}, content_type="application/json")
    assert response.status_code == 201
    data = response.json()
    assert (data["kind"], data["body"], data["status"]) == ("note", "VIP, be nice", "")
    note = Message.objects.get(kind="note")
    assert note.next_attempt_at is None and note.sent_by_label == "api"
    empty = api.post(url, {"body": " "}, content_type="application/json")
    assert empty.status_code == 400 and _error(empty)["code"] == "empty_body"
    assert Message.objects.filter(kind="note").count() == 1


def test_numbers_lists_only_the_orgs_numbers(
    api: Client, number: PhoneNumber, twilio_number: PhoneNumber, other_number: PhoneNumber
) -> None:
    data = api.get("/api/v1/numbers").json()
    assert [n["number"] for n in data] == [number.number, twilio_number.number]
    assert set(data[0]) == {"id", "number", "label", "number_type", "sms_enabled", "mms_enabled"}


def test_another_org_sees_nothing_of_ours(api: Client, outsider: Client) -> None:
    sent = _send(api).json()
    conversation_id = sent["conversation_id"]
    for url in [
        f"/api/v1/messages/{sent['id']}",
        f"/api/v1/conversations/{conversation_id}/messages",
    ]:
        response = outsider.get(url)
        assert response.status_code == 404, url
        assert _error(response)["code"] == "not_found"
    note = outsider.post(
        f"/api/v1/conversations/{conversation_id}/notes",
        {"body": "sneaky"},
        content_type="application/json",
    )
    assert note.status_code == 404
    assert outsider.get("/api/v1/conversations").json() == {"items": [], "count": 0}
    assert [n["number"] for n in outsider.get("/api/v1/numbers").json()] == ["+14155550199"]
    assert Message.objects.count() == 1


# ---- the schema ---------------------------------------------------------------------------


def test_openapi_document_lists_every_path_and_the_key_scheme(client: Client) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = json.loads(response.content)
    assert document["openapi"].startswith("3.1")
    assert set(document["paths"]) == {
        "/api/v1/messages",
        "/api/v1/messages/batch",
        "/api/v1/messages/{uid}",
        "/api/v1/messages/{uid}/cancel",
        "/api/v1/conversations",
        "/api/v1/conversations/{conversation_id}/messages",
        "/api/v1/conversations/{conversation_id}/notes",
        "/api/v1/conversations/{conversation_id}",
        "/api/v1/conversations/{conversation_id}/archive",
        "/api/v1/conversations/{conversation_id}/unarchive",
        "/api/v1/conversations/{conversation_id}/unread",
        "/api/v1/conversations/{conversation_id}/mute",
        "/api/v1/conversations/{conversation_id}/unmute",
        "/api/v1/conversations/{conversation_id}/assignee",
        "/api/v1/conversations/{conversation_id}/export",
        "/api/v1/conversations/{conversation_id}/drips",
        "/api/v1/conversations/{conversation_id}/drips/{applied_id}/cancel",
        "/api/v1/drip-campaigns",
        "/api/v1/canned-responses",
        "/api/v1/canned-responses/{canned_id}",
        "/api/v1/canned-responses/{canned_id}/rendered",
        "/api/v1/consent",
        "/api/v1/webhooks",
        "/api/v1/webhooks/{endpoint_id}",
        "/api/v1/webhooks/{endpoint_id}/rotate-secret",
        "/api/v1/contacts",
        "/api/v1/contacts/{contact_id}",
        "/api/v1/contacts/{contact_id}/merge",
        "/api/v1/numbers",
        "/api/v1/search",
    }
    schemes = document["components"]["securitySchemes"]
    assert schemes == {"ApiKeyAuth": {"type": "http", "scheme": "bearer"}}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert {"400", "401", "403", "404", "422"} <= set(operation["responses"]), (
                method,
                path,
            )
            assert operation["security"] == [{"ApiKeyAuth": []}]


def test_docs_page_is_served(client: Client) -> None:
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    assert "/api/v1/openapi.json" in response.content.decode()
