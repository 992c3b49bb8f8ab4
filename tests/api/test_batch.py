"""POST /api/v1/messages/batch: each text answered as POST /messages would, the accepted ones
stored together, a refused one leaving nothing behind."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError
from django.test import Client

from twoway.accounts.models import ApiKey, Membership, Organization
from twoway.contacts.models import Contact, ContactPhone
from twoway.conversations.models import Message
from twoway.messaging import send_batch
from twoway.messaging.send_batch import TextToSend, texts_send
from twoway.numbers.models import PhoneNumber
from twoway.realtime.models import RealtimeEvent

pytestmark = pytest.mark.django_db

SENDER = "+14155550100"


@pytest.fixture
def api(admin: Membership, number: PhoneNumber) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {ApiKey.issue(owner=admin, name='CRM')[1]}")


def _batch(client: Client, messages: Any) -> Any:
    return client.post(
        "/api/v1/messages/batch", {"messages": messages}, content_type="application/json"
    )


def test_each_text_gets_its_own_answer_in_order(api: Client) -> None:
    response = _batch(
        api,
        [
            {"from": SENDER, "to": "415-555-0123", "body": "Your table is ready"},
            {"from": SENDER, "to": "415-555-0124"},  # no body
            {"from": SENDER, "to": SENDER, "body": "To ourselves"},
            {"from": SENDER, "to": "415-555-0125", "body": "Second one", "extra": 1},
            {"from": SENDER, "to": "415-555-0126", "body": "Also fine"},
        ],
    )
    assert response.status_code == 200
    data = response.json()
    assert (data["accepted"], data["refused"]) == (2, 3)
    statuses = [r["status"] for r in data["results"]]
    assert statuses == [201, 422, 400, 422, 201]
    assert data["results"][1]["error"] == {"code": "invalid", "message": "body: Field required"}
    assert data["results"][2]["error"]["code"] == "own_number"
    assert "extra" in data["results"][3]["error"]["message"]
    union = _batch(api, [{"from": "", "to": "415-555-0123", "body": "x"}]).json()
    assert union["results"][0]["error"]["message"].startswith("from: ")
    assert "constrained" not in union["results"][0]["error"]["message"]
    sent = data["results"][0]["message"]
    assert (sent["status"], sent["to"], sent["from"]) == ("queued", "+14155550123", SENDER)
    stored = Message.objects.get(uid=sent["id"])
    assert stored.status == "queued" and stored.sent_by_label == "api"
    # Only the accepted texts left rows: two contacts, two messages, their events.
    assert Message.objects.count() == 2
    assert ContactPhone.objects.count() == 2
    assert RealtimeEvent.objects.filter(kind="message.created").count() == 2


def test_the_request_itself_must_hold_one_to_a_thousand_texts(api: Client) -> None:
    assert _batch(api, []).status_code == 422
    too_many = [{"from": SENDER, "to": "415-555-0123", "body": "x"}] * 1001
    assert _batch(api, too_many).status_code == 422
    assert (
        api.post("/api/v1/messages/batch", {}, content_type="application/json").status_code == 422
    )
    assert Message.objects.count() == 0


def test_a_batch_needs_a_key(number: PhoneNumber) -> None:
    response = _batch(Client(), [{"from": SENDER, "to": "415-555-0123", "body": "x"}])
    assert response.status_code == 401
    assert Message.objects.count() == 0


def test_a_thousand_texts_in_one_request(api: Client) -> None:
    texts = [{"from": SENDER, "to": f"+1212555{i:04d}", "body": f"Hi {i}"} for i in range(1000)]
    data = _batch(api, texts).json()
    assert data["accepted"] == 1000
    assert Message.objects.filter(status="queued").count() == 1000
    # Every message is stored with the body and number it was answered with.
    answered = {r["message"]["id"]: r["message"]["to"] for r in data["results"]}
    stored = dict(Message.objects.values_list("uid", "to_number"))
    assert {str(k): v for k, v in stored.items()} == answered


def test_a_contact_created_meanwhile_by_another_sender_is_used(
    org: Organization, admin: Membership, number: PhoneNumber, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between the group's read and its write the same new contact is stored: the unique
    index refuses the group's copy, and the group is tried again from the start."""
    real = send_batch._Group._read_contacts_and_conversations
    calls: list[int] = []

    def read_then_someone_else_writes(self: Any, items: Any) -> None:
        real(self, items)
        calls.append(1)
        if len(calls) == 1:
            theirs = Contact.objects.create(organization=org, name="Theirs")
            ContactPhone.objects.create(organization=org, contact=theirs, number="+14155550123")

    monkeypatch.setattr(
        send_batch._Group, "_read_contacts_and_conversations", read_then_someone_else_writes
    )
    [message] = texts_send(
        [TextToSend(membership=admin, sender=SENDER, to="415-555-0123", body="Hello")]
    )
    assert isinstance(message, Message)
    assert len(calls) == 2
    # (Here "theirs" was written inside the group's transaction, so it went with the first
    # try; between processes it stays and the second try reads it.)
    assert Message.objects.count() == 1
    assert Contact.objects.count() == ContactPhone.objects.count() == 1


def test_integrity_errors_that_persist_are_raised(
    admin: Membership, number: PhoneNumber, monkeypatch: pytest.MonkeyPatch
) -> None:
    def always(self: Any) -> None:
        raise IntegrityError("still there")

    monkeypatch.setattr(send_batch._Group, "_write", always)
    with pytest.raises(IntegrityError):
        texts_send([TextToSend(membership=admin, sender=SENDER, to="415-555-0123", body="Hi")])
