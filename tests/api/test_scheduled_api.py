"""The API's scheduled texts: `send_at` on POST /messages (and in a batch), PATCH to change a
scheduled text, POST .../cancel, and their refusals."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tests.conftest import make_member
from twoway.accounts.models import ApiKey, Membership, Organization, Role
from twoway.conversations.models import Message, Status
from twoway.messaging import scheduling
from twoway.numbers.models import PhoneNumber

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(admin: Membership, number: PhoneNumber) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {ApiKey.issue(owner=admin, name='CRM')[1]}")


def _at(**delta: float) -> str:
    # Whole seconds: the API writes times to the millisecond.
    return (timezone.now() + dt.timedelta(**delta)).replace(microsecond=0).isoformat()


def _schedule(api: Client, **fields: Any) -> Any:
    payload = {"from": "+14155550100", "to": "415-555-0123", "body": "Hello"} | fields
    return api.post("/api/v1/messages", payload, content_type="application/json")


def _patch(api: Client, uid: str, payload: dict[str, Any]) -> Any:
    return api.patch(f"/api/v1/messages/{uid}", payload, content_type="application/json")


def test_send_at_schedules_the_text(api: Client) -> None:
    eastern = dt.timezone(dt.timedelta(hours=-5))
    when = dt.datetime.fromisoformat(_at(hours=2)).astimezone(eastern)
    response = _schedule(api, send_at=when.isoformat())
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["status"] == "scheduled"
    assert dt.datetime.fromisoformat(data["send_at"]) == when
    assert Message.objects.get().status == Status.SCHEDULED
    read = api.get(f"/api/v1/messages/{data['id']}").json()["send_at"]
    assert dt.datetime.fromisoformat(read) == when


def test_a_naive_time_is_a_422_that_says_why(api: Client) -> None:
    response = _schedule(api, send_at="2030-01-01T09:00:00")
    assert response.status_code == 422
    assert "offset from UTC" in str(response.json()["detail"])
    assert not Message.objects.exists()


@pytest.mark.parametrize(
    ("when", "code"), [(_at(minutes=-1), "send_at_past"), (_at(days=400), "send_at_too_far")]
)
def test_past_and_far_times_are_refused(api: Client, when: str, code: str) -> None:
    response = _schedule(api, send_at=when)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert not Message.objects.exists()


def test_a_batch_schedules_its_texts_one_by_one(api: Client) -> None:
    texts = [
        {"from": "+14155550100", "to": "415-555-0123", "body": "Now"},
        {"from": "+14155550100", "to": "415-555-0124", "body": "Later", "send_at": _at(hours=1)},
        {"from": "+14155550100", "to": "415-555-0125", "body": "Naive", "send_at": "2030-01-01"},
    ]
    response = api.post("/api/v1/messages/batch", {"messages": texts}, "application/json")
    results = response.json()["results"]
    assert [r["status"] for r in results] == [201, 201, 422]
    assert [results[0]["message"]["status"], results[1]["message"]["status"]] == [
        "queued",
        "scheduled",
    ]
    assert "offset from UTC" in results[2]["error"]["message"]


def test_patch_changes_the_body_and_time_of_a_scheduled_text(api: Client) -> None:
    uid = _schedule(api, send_at=_at(hours=1)).json()["id"]
    later = _at(days=2)
    response = _patch(api, uid, {"body": "Moved to Thursday", "send_at": later})
    assert response.status_code == 200, response.content
    assert response.json()["body"] == "Moved to Thursday"
    message = Message.objects.get()
    assert message.send_at == dt.datetime.fromisoformat(later)
    assert _patch(api, uid, {"send_at": "2030-01-01T09:00:00"}).status_code == 422
    past = _patch(api, uid, {"send_at": _at(minutes=-5)})
    assert (past.status_code, past.json()["error"]["code"]) == (400, "send_at_past")
    assert _patch(api, uid, {"bodyy": "typo"}).status_code == 422


def test_cancel_then_a_second_cancel_or_change_is_a_409(api: Client) -> None:
    uid = _schedule(api, send_at=_at(hours=1)).json()["id"]
    response = api.post(f"/api/v1/messages/{uid}/cancel")
    assert (response.status_code, response.json()["status"]) == (200, "canceled")
    again = api.post(f"/api/v1/messages/{uid}/cancel")
    assert (again.status_code, again.json()["error"]["code"]) == (409, "not_scheduled")
    assert _patch(api, uid, {"body": "Too late"}).status_code == 409


def test_a_text_already_sent_cannot_be_cancelled(api: Client) -> None:
    uid = _schedule(api, send_at=_at(seconds=30)).json()["id"]
    scheduling.scheduled_promote(timezone.now() + dt.timedelta(seconds=31))
    response = api.post(f"/api/v1/messages/{uid}/cancel")
    assert response.status_code == 409
    assert "no longer scheduled" in response.json()["error"]["message"]
    assert Message.objects.get().status == Status.QUEUED


def test_without_the_send_permission_a_key_cannot_change_or_cancel(
    api: Client, org: Organization, number: PhoneNumber
) -> None:
    uid = _schedule(api, send_at=_at(hours=1)).json()["id"]
    reader = make_member(org, "reader@acme.test", Role.ADMINISTRATIVE)
    reader.can_send_sms = False
    reader.save()
    theirs = Client(HTTP_AUTHORIZATION=f"Bearer {ApiKey.issue(owner=reader, name='R')[1]}")
    assert theirs.post(f"/api/v1/messages/{uid}/cancel").status_code == 403
    assert _patch(theirs, uid, {"body": "No"}).status_code == 403
    assert Message.objects.get().status == Status.SCHEDULED


def test_another_organization_gets_404(api: Client, other_org: Organization) -> None:
    uid = _schedule(api, send_at=_at(hours=1)).json()["id"]
    outsider = make_member(other_org, "out@other.test", Role.ADMINISTRATIVE)
    theirs = Client(HTTP_AUTHORIZATION=f"Bearer {ApiKey.issue(owner=outsider, name='O')[1]}")
    assert theirs.post(f"/api/v1/messages/{uid}/cancel").status_code == 404
    assert _patch(theirs, uid, {"body": "Mine now"}).status_code == 404
    message = Message.objects.get()
    assert (message.status, message.body) == (Status.SCHEDULED, "Hello")
