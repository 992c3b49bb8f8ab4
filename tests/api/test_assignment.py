"""The API's assignment: who a conversation is assigned to, changing it, filtering by it."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.conftest import make_conversation, make_member
from twoway.accounts.models import ApiKey, Membership, Organization, Role, Team
from twoway.conversations.models import Conversation, Kind, Message
from twoway.numbers.models import PhoneNumber

pytestmark = pytest.mark.django_db


def _client(member: Membership) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {ApiKey.issue(owner=member, name='CRM')[1]}")


@pytest.fixture
def conversation(org: Organization, number: PhoneNumber) -> Conversation:
    return make_conversation(org, number, "+14155550123")


def _assign(client: Client, conversation: Conversation, payload: Any) -> Any:
    return client.post(
        f"/api/v1/conversations/{conversation.pk}/assignee",
        payload,
        content_type="application/json",
    )


def test_assign_to_a_person_a_team_and_nobody(
    admin: Membership, conversation: Conversation, sam: Membership, front_desk: Team
) -> None:
    api = _client(admin)
    body = api.get(f"/api/v1/conversations/{conversation.pk}").json()
    assert (body["assignee"], body["assignee_team"]) == (None, None)

    response = _assign(api, conversation, {"user_id": sam.user_id})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["assignee"] == {"id": sam.user_id, "name": "Sam Rivera"}
    assert body["assignee_team"] is None
    assert api.get(f"/api/v1/conversations/{conversation.pk}").json()["assignee"] == {
        "id": sam.user_id,
        "name": "Sam Rivera",
    }

    body = _assign(api, conversation, {"team_id": front_desk.pk, "user_id": None}).json()
    assert body["assignee"] is None
    assert body["assignee_team"] == {"id": front_desk.pk, "name": "Front desk"}

    body = _assign(api, conversation, {}).json()
    assert (body["assignee"], body["assignee_team"]) == (None, None)

    notes = api.get(f"/api/v1/conversations/{conversation.pk}/messages").json()["items"]
    assert [n["body"] for n in notes if n["kind"] == "note"] == [
        "admin@acme.test assigned this conversation to Sam Rivera.",
        "admin@acme.test assigned this conversation to the team Front desk (was Sam Rivera).",
        "admin@acme.test unassigned this conversation (was the team Front desk).",
    ]


def test_a_person_without_a_name_is_named_by_email(
    admin: Membership, conversation: Conversation, standard: Membership
) -> None:
    body = _assign(_client(admin), conversation, {"user_id": standard.user_id}).json()
    assert body["assignee"] == {"id": standard.user_id, "name": "agent@acme.test"}


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({"user_id": 987654}, 400, "assignee_not_member"),
        ({"team_id": 987654}, 400, "team_not_found"),
        ({"user_id": "sam", "team_id": "front_desk"}, 400, "two_assignees"),
        ({"user_id": "outsider"}, 400, "assignee_not_member"),
        ({"team_id": "theirs"}, 400, "team_not_found"),
        ({"user_id": True}, 422, None),
        ({"user_id": "abc"}, 422, None),
        # Beyond what a database id can be, or never an id.
        ({"user_id": 2**70}, 422, None),
        ({"team_id": 0}, 422, None),
        ({"user_id": 2**63 - 1}, 400, "assignee_not_member"),
    ],
)
def test_refusals(
    admin: Membership,
    conversation: Conversation,
    sam: Membership,
    front_desk: Team,
    other_org: Organization,
    payload: dict[str, Any],
    status: int,
    code: str | None,
) -> None:
    outsider = make_member(other_org, "outsider@other.test", Role.ADMINISTRATIVE)
    theirs = Team.objects.create(organization=other_org, name="Theirs")
    ids = {"sam": sam.user_id, "front_desk": front_desk.pk, "outsider": outsider.user_id}
    ids["theirs"] = theirs.pk
    payload = {k: ids.get(v, v) if isinstance(v, str) else v for k, v in payload.items()}
    response = _assign(_client(admin), conversation, payload)
    assert response.status_code == status, response.content
    if code:
        assert response.json()["error"]["code"] == code
    conversation.refresh_from_db()
    assert (conversation.assignee_id, conversation.assignee_team_id) == (None, None)
    assert not Message.objects.filter(conversation=conversation, kind=Kind.NOTE).exists()


def test_limited_users_may_not_assign_and_outsiders_find_nothing(
    limited: Membership,
    conversation: Conversation,
    sam: Membership,
    other_org: Organization,
) -> None:
    response = _assign(_client(limited), conversation, {"user_id": sam.user_id})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "assign_not_allowed"
    outsider = make_member(other_org, "outsider@other.test", Role.ADMINISTRATIVE)
    response = _assign(_client(outsider), conversation, {"user_id": outsider.user_id})
    assert response.status_code == 404
    conversation.refresh_from_db()
    assert conversation.assignee_id is None


def test_list_filter_by_assignee(
    org: Organization,
    number: PhoneNumber,
    admin: Membership,
    sam: Membership,
    front_desk: Team,
) -> None:
    rows = {
        name: make_conversation(org, number, f"+1415555020{i}") for i, name in enumerate("abcd")
    }
    api = _client(admin)
    _assign(api, rows["a"], {"user_id": sam.user_id})
    _assign(api, rows["b"], {"team_id": front_desk.pk})
    _assign(api, rows["c"], {"user_id": admin.user_id})
    names = {c.pk: name for name, c in rows.items()}

    def listed(client: Client, assignee: str | None) -> set[str]:
        params = {"assignee": assignee} if assignee is not None else {}
        response = client.get("/api/v1/conversations", params)
        assert response.status_code == 200, response.content
        return {names[c["id"]] for c in response.json()["items"]}

    sam_api = _client(sam)
    assert listed(sam_api, None) == set("abcd")
    assert listed(sam_api, "me") == {"a", "b"}
    assert listed(api, "me") == {"c"}
    assert listed(sam_api, "none") == {"d"}
    assert listed(sam_api, f"user:{admin.user_id}") == {"c"}
    assert listed(sam_api, f"team:{front_desk.pk}") == {"b"}
    items = api.get("/api/v1/conversations", {"assignee": "me"}).json()["items"]
    assert items[0]["assignee"] == {"id": admin.user_id, "name": "admin@acme.test"}
    for bad in ("everyone", "user:", "team:x", "user:1;drop"):
        assert api.get("/api/v1/conversations", {"assignee": bad}).status_code == 422


def test_the_list_does_not_query_per_row(
    org: Organization,
    number: PhoneNumber,
    admin: Membership,
    front_desk: Team,
) -> None:
    api = _client(admin)
    for i in range(5):
        row = make_conversation(org, number, f"+1415555030{i}")
        _assign(api, row, {"team_id": front_desk.pk} if i % 2 else {"user_id": admin.user_id})
    api.get("/api/v1/conversations")

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        api.get("/api/v1/conversations", {"limit": 1})
    with CaptureQueriesContext(connection) as many:
        items = api.get("/api/v1/conversations", {"limit": 5}).json()["items"]
    assert len(items) == 5
    assert len(many) == len(few)
