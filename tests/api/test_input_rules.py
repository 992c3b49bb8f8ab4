"""What the API refuses before any service sees it: bodies that are not objects of known keys,
NUL characters and texts longer than their columns, ranges the schema describes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from tests.conftest import make_conversation
from twoway.accounts.models import ApiKey, Membership, Organization
from twoway.contacts.models import Contact
from twoway.conversations.models import Conversation, Kind, Message
from twoway.numbers.models import PhoneNumber

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(admin: Membership, number: PhoneNumber) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {ApiKey.issue(owner=admin, name='CRM')[1]}")


@pytest.fixture
def conversation(org: Organization, number: PhoneNumber) -> Conversation:
    return make_conversation(org, number, "+14155550123")


def _json(client: Client, method: str, url: str, body: Any) -> Any:
    return getattr(client, method)(url, json.dumps(body), content_type="application/json")


def _problems(response: Any) -> list[tuple[str, str]]:
    """(field, message) of each of a 422's problems, once per field."""
    assert response.status_code == 422, response.content
    problems = []
    for detail in response.json()["detail"]:
        # ("body", "payload", field, ...) or ("query", field)
        field = str(detail["loc"][2 if detail["loc"][0] == "body" else 1])
        if (field, detail["msg"]) not in problems:
            problems.append((field, detail["msg"]))
    return problems


# ---- bodies that are not objects of known keys ----------------------------------------------


@pytest.mark.parametrize("body", ["hello", 123, None, [None], {"userid": 1}, {"user": None}])
def test_assignee_refuses_what_it_does_not_understand(
    api: Client, conversation: Conversation, sam: Membership, body: Any
) -> None:
    """Each of these unassigned the conversation with a 200."""
    conversation.assignee_id = sam.user_id
    conversation.save(update_fields=["assignee"])
    response = _json(api, "post", f"/api/v1/conversations/{conversation.pk}/assignee", body)
    assert response.status_code == 422, response.content
    conversation.refresh_from_db()
    assert conversation.assignee_id == sam.user_id
    assert not Message.objects.filter(conversation=conversation, kind=Kind.NOTE).exists()


def test_an_unknown_key_is_named(api: Client, conversation: Conversation) -> None:
    response = _json(
        api, "post", f"/api/v1/conversations/{conversation.pk}/assignee", {"userid": 1}
    )
    assert _problems(response) == [("userid", "Extra inputs are not permitted")]


def test_unassigning_is_still_an_empty_object_or_explicit_nulls(
    api: Client, conversation: Conversation, sam: Membership
) -> None:
    url = f"/api/v1/conversations/{conversation.pk}/assignee"
    for body in ({}, {"user_id": None, "team_id": None}):
        conversation.assignee_id = sam.user_id
        conversation.save(update_fields=["assignee"])
        assert _json(api, "post", url, body).status_code == 200
        conversation.refresh_from_db()
        assert conversation.assignee_id is None


@pytest.mark.parametrize("body", [123, [], "name", None, {"externaluid": "x"}])
def test_contact_patch_refuses_what_it_does_not_understand(
    api: Client, org: Organization, body: Any
) -> None:
    contact = Contact.objects.create(organization=org, name="Ada")
    response = _json(api, "patch", f"/api/v1/contacts/{contact.pk}", body)
    assert response.status_code == 422, response.content
    contact.refresh_from_db()
    assert (contact.name, contact.external_uid) == ("Ada", "")


def test_a_message_with_an_unknown_key_is_not_sent(api: Client) -> None:
    """A misspelt `send_at` must not be ignored and the text sent at once."""
    body = {"from": "+14155550100", "to": "415-555-0123", "body": "Hi", "send_at_": "tomorrow"}
    response = _json(api, "post", "/api/v1/messages", body)
    assert _problems(response) == [("send_at_", "Extra inputs are not permitted")]
    assert not Message.objects.exists()


def test_a_send_at_that_is_no_time_is_refused(api: Client) -> None:
    body = {"from": "+14155550100", "to": "415-555-0123", "body": "Hi", "send_at": "tomorrow"}
    response = _json(api, "post", "/api/v1/messages", body)
    assert response.status_code == 422
    assert [field for field, _ in _problems(response)] == ["send_at"]
    assert not Message.objects.exists()


@pytest.mark.parametrize("body", ["Hello", ["Hello"], None, 5])
def test_note_and_message_bodies_must_be_objects(
    api: Client, conversation: Conversation, body: Any
) -> None:
    assert _json(api, "post", "/api/v1/messages", body).status_code == 422
    notes = f"/api/v1/conversations/{conversation.pk}/notes"
    assert _json(api, "post", notes, body).status_code == 422
    assert not Message.objects.exists()


# ---- NUL characters -------------------------------------------------------------------------

NUL = "Null characters are not allowed."


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"body": "before\x00after"}, "body"),
        ({"to": "415-555-0123\x00"}, "to"),
        ({"from": "+14155550100\x00"}, "from"),
    ],
)
def test_a_message_with_a_nul_is_refused_naming_the_field(
    api: Client, fields: dict[str, str], field: str
) -> None:
    """A NUL in the body was a 500 on PostgreSQL and stored on SQLite."""
    body = {"from": "+14155550100", "to": "415-555-0123", "body": "Hello"} | fields
    problems = _problems(_json(api, "post", "/api/v1/messages", body))
    assert (field, NUL) in problems
    assert not Message.objects.exists()


def test_a_note_with_a_nul_is_refused(api: Client, conversation: Conversation) -> None:
    url = f"/api/v1/conversations/{conversation.pk}/notes"
    assert _problems(_json(api, "post", url, {"body": "a\x00b"})) == [("body", NUL)]
    assert not Message.objects.exists()


@pytest.mark.parametrize("field", ["name", "email"])
def test_a_contact_edit_with_a_nul_is_refused(api: Client, org: Organization, field: str) -> None:
    contact = Contact.objects.create(organization=org, name="Ada")
    response = _json(api, "patch", f"/api/v1/contacts/{contact.pk}", {field: "a\x00b@x.test"})
    assert _problems(response) == [(field, NUL)]
    contact.refresh_from_db()
    assert (contact.name, contact.email) == ("Ada", "")


@pytest.mark.parametrize("url", ["/api/v1/contacts?q=a%00b", "/api/v1/search?q=a%00b"])
def test_a_query_with_a_nul_is_refused(api: Client, url: str) -> None:
    """Both were a 500 on PostgreSQL."""
    assert _problems(api.get(url)) == [("q", NUL)]


# ---- texts longer than their columns --------------------------------------------------------


@pytest.mark.parametrize(("field", "length"), [("name", 201), ("email", 255)])
def test_contact_texts_longer_than_their_columns_are_refused(
    api: Client, org: Organization, field: str, length: int
) -> None:
    contact = Contact.objects.create(organization=org, name="Ada")
    response = _json(api, "patch", f"/api/v1/contacts/{contact.pk}", {field: "a" * length})
    assert [loc for loc, _ in _problems(response)] == [field]


def test_texts_longer_than_they_can_be_are_refused(api: Client, conversation: Conversation) -> None:
    send = {"from": "+14155550100", "to": "415-555-0123", "body": "a" * 1601}
    assert [loc for loc, _ in _problems(_json(api, "post", "/api/v1/messages", send))] == ["body"]
    send = {"from": "+1" + "4" * 100, "to": "4" * 100, "body": "Hi"}
    assert [loc for loc, _ in _problems(_json(api, "post", "/api/v1/messages", send))] == [
        "from",
        "from",
        "to",
    ]
    notes = f"/api/v1/conversations/{conversation.pk}/notes"
    assert _problems(_json(api, "post", notes, {"body": "a" * 5001}))[0][0] == "body"
    assert _problems(api.get("/api/v1/search", {"q": "a" * 501}))[0][0] == "q"
    assert _problems(api.get("/api/v1/contacts", {"q": "a" * 201}))[0][0] == "q"
    assert not Message.objects.exists()


def test_an_empty_search_is_refused_by_the_schema(api: Client) -> None:
    assert _problems(api.get("/api/v1/search", {"q": ""}))[0][0] == "q"
    # Spaces only are the service's to refuse, with its reason.
    response = api.get("/api/v1/search", {"q": "   "})
    assert response.status_code == 400 and response.json()["error"]["code"] == "empty_query"


# ---- ranges ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2026-01-01", "2026-01-08", "Export at most 7 days at a time"),
        ("2026-01-05", "2026-01-01", "`end` is before `start`"),
    ],
)
def test_an_export_range_outside_the_schema_is_a_422(
    api: Client, conversation: Conversation, start: str, end: str, message: str
) -> None:
    url = f"/api/v1/conversations/{conversation.pk}/export"
    response = api.get(url, {"start": start, "end": end})
    assert response.status_code == 422, response.content
    assert message in response.json()["detail"][0]["msg"]
    assert api.get(url, {"start": "2026-01-01", "end": "2026-01-07"}).status_code == 200


def test_the_schema_declares_the_rules(api: Client) -> None:
    schema = Client().get("/api/v1/openapi.json").json()
    components = schema["components"]["schemas"]
    body = components["MessageIn"]["properties"]["body"]
    assert (body["minLength"], body["maxLength"], body["pattern"]) == (1, 1600, "^[^\\x00]*$")
    assert components["MessageIn"]["additionalProperties"] is False
    assert components["AssignIn"]["additionalProperties"] is False
    assert components["AssignIn"]["not"]["required"] == ["user_id", "team_id"]
    assert components["ContactPatch"]["additionalProperties"] is False
    search = schema["paths"]["/api/v1/search"]["get"]["parameters"]
    q = next(p for p in search if p["name"] == "q")["schema"]
    assert (q["minLength"], q["maxLength"]) == (1, 500)
    export = schema["paths"]["/api/v1/conversations/{conversation_id}/export"]["get"]
    end = next(p for p in export["parameters"] if p["name"] == "end")
    assert "at most 6 days later" in end["description"]


@pytest.mark.parametrize(
    ("since", "status"),
    [
        # An offset ISO 8601 allows and PostgreSQL does not (a 500 there).
        ("0196-04-14T15:11:55-23:47", 200),
        ("2026-11-23T09:00:00+23:59", 200),
        # Past the last datetime once in UTC.
        ("9999-12-31T23:59:59-23:00", 422),
    ],
)
def test_search_dates_with_any_offset(api: Client, since: str, status: int) -> None:
    response = api.get("/api/v1/search", {"q": "ok", "since": since, "until": since})
    assert response.status_code == status, response.content
