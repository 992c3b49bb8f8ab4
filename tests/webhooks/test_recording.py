"""Events are recorded where their facts are written, in the same transaction, through the
real paths: a text received (one at a time and in a batch), sent, reported, a STOP, a START."""

from __future__ import annotations

import json
import uuid

import pytest
from django.db import transaction

from tests.conftest import make_member
from tests.messaging import send_steps
from tests.webhooks.conftest import ALL_TYPES, Receiver, run_webhook_jobs
from twoway.accounts.models import Membership, Organization, Role
from twoway.carrier_events.processing import carrier_events_process_pending
from twoway.carrier_events.store import carrier_event_record
from twoway.carriers.base import InboundMessage, SendResult, StatusUpdate
from twoway.contacts.models import ContactPhone
from twoway.conversations.models import Message
from twoway.messaging.services import message_send
from twoway.numbers.models import PhoneNumber
from twoway.webhooks.models import WebhookDelivery, WebhookEndpoint
from twoway.webhooks.services import endpoint_create

pytestmark = pytest.mark.django_db

HANDSET = "+12025550231"


def text_in(number: PhoneNumber, body: str, frm: str = HANDSET) -> None:
    carrier_event_record(
        "simulator",
        InboundMessage(
            carrier_message_id=f"SIM{uuid.uuid4().hex}",
            from_number=frm,
            to_number=number.number,
            body=body,
        ),
    )
    carrier_events_process_pending()


def events() -> list[tuple[str, dict[str, object]]]:
    return [
        (d.event_type, json.loads(d.body)["data"]) for d in WebhookDelivery.objects.order_by("id")
    ]


def test_a_text_received_is_reported(
    org: Organization, number: PhoneNumber, endpoint: WebhookEndpoint, receiver: Receiver
) -> None:
    text_in(number, "Can I move my appointment?")
    message = Message.objects.get(direction="in")
    [(kind, data)] = events()
    assert kind == "message.received"
    assert data == {
        "message_id": str(message.uid),
        "conversation_id": message.conversation_id,
        "contact": HANDSET,
        "preview": "Can I move my appointment?",
    }
    assert run_webhook_jobs() == ["delivered (200)"]
    assert receiver.received[0].event["type"] == "message.received"


def test_texts_received_together_are_each_reported_once(
    org: Organization, number: PhoneNumber, endpoint: WebhookEndpoint
) -> None:
    for i in range(3):
        carrier_event_record(
            "simulator",
            InboundMessage(
                carrier_message_id=f"SIM-batch-{i}",
                from_number=f"+1202555023{i + 2}",
                to_number=number.number,
                body=f"Hello {i}",
            ),
        )
    carrier_events_process_pending()
    assert sorted(data["preview"] for _, data in events()) == ["Hello 0", "Hello 1", "Hello 2"]


def test_stop_and_start_are_reported_from_the_consent_ledger(
    org: Organization, number: PhoneNumber, endpoint: WebhookEndpoint
) -> None:
    text_in(number, "STOP")
    text_in(number, "START")
    contact = ContactPhone.objects.get(number=HANDSET).contact
    kinds = [kind for kind, _ in events()]
    assert kinds.count("contact.opted_out") == 1
    assert kinds.count("contact.opted_in") == 1
    opted_out = next(data for kind, data in events() if kind == "contact.opted_out")
    assert opted_out == {"contact_id": contact.pk, "phone_number": HANDSET, "source": "keyword"}


def test_a_text_sent_and_its_delivery_report_are_reported(
    org: Organization, number: PhoneNumber, endpoint: WebhookEndpoint, admin: Membership
) -> None:
    message = message_send(
        phone_number=number, to=HANDSET, body="Your crown is ready.", membership=admin
    )
    assert events() == []  # queued is no event
    send_steps.record_sent(message.pk, SendResult(carrier_message_id="SIM-out-1"))
    carrier_event_record(
        "simulator", StatusUpdate(carrier_message_id="SIM-out-1", status="delivered")
    )
    carrier_events_process_pending()
    assert events() == [
        (
            "message.sent",
            {
                "message_id": str(message.uid),
                "conversation_id": message.conversation_id,
                "status": "sent",
            },
        ),
        (
            "message.status",
            {
                "message_id": str(message.uid),
                "conversation_id": message.conversation_id,
                "status": "delivered",
            },
        ),
    ]


def test_only_subscribed_endpoints_of_the_organization_get_an_event(
    org: Organization,
    other_org: Organization,
    number: PhoneNumber,
    admin: Membership,
    receiver: Receiver,
    allow_private: None,
) -> None:
    only_status = endpoint_create(
        actor=admin, url=receiver.url, description="", event_types=["message.status"]
    )
    outsider = make_member(other_org, "hooks@other.test", Role.ADMINISTRATIVE)
    theirs = endpoint_create(
        actor=outsider, url=receiver.url, description="", event_types=ALL_TYPES
    )
    text_in(number, "Hello")
    assert WebhookDelivery.objects.filter(endpoint__in=[only_status, theirs]).count() == 0


def test_nothing_is_recorded_when_the_fact_rolls_back(
    org: Organization, number: PhoneNumber, endpoint: WebhookEndpoint, admin: Membership
) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        message_send(phone_number=number, to=HANDSET, body="Hi", membership=admin)
        send_steps.record_sent(
            Message.objects.get(direction="out").pk, SendResult(carrier_message_id="SIM-x")
        )
        assert WebhookDelivery.objects.count() == 1
        raise RuntimeError
    assert WebhookDelivery.objects.count() == 0
