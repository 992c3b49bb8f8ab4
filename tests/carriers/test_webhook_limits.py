"""What a carrier's webhook may carry, and what happens to an event that can never be processed:
NUL characters removed (both databases), senders and bodies no carrier sends refused with 400,
texts routed only to the numbers of the carrier that signed them, permanent failures marked
failed once and listed for operators instead of retried for ever."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

import pytest
from django.contrib.auth import get_user_model
from django.db import DataError, IntegrityError
from django.test import Client

from twoway import cli
from twoway.carrier_events import processing
from twoway.carrier_events.models import CarrierEvent
from twoway.carrier_events.processing import carrier_events_process_pending
from twoway.carriers.twilio.adapter import EMPTY_TWIML
from twoway.contacts.models import Contact
from twoway.conversations.models import Conversation, Direction, Message
from twoway.messaging import inbound
from twoway.numbers.models import PhoneNumber

from .test_webhooks import kept_raw_only, nothing_stored, post, recorded, twilio_configured  # noqa: F401

HANDSET = "+12025550172"


def inbound_form(**changes: str) -> str:
    """The recorded inbound text to the Twilio number, with some fields changed."""
    form = dict(parse_qsl(recorded("inbound_sms.txt"), keep_blank_values=True))
    form.update(changes)
    return urlencode(form)


def the_message() -> Message:
    return Message.objects.get(direction=Direction.INBOUND)


# --- NUL characters: removed from what carriers send ---------------------------------------------


def test_nul_in_a_signed_body_and_sender_is_removed_and_the_text_kept(
    twilio_number: PhoneNumber,
) -> None:
    body = inbound_form(Body="before\x00after", From="+1202555\x000172")
    response = post(body)

    assert response.status_code == 200
    event = CarrierEvent.objects.get()
    assert event.payload["body"] == "beforeafter"
    assert event.payload["from_number"] == HANDSET
    assert "\x00" not in str(event.payload["raw"])

    assert carrier_events_process_pending() == 1
    message = the_message()
    assert (message.body, message.from_number) == ("beforeafter", HANDSET)
    assert message.conversation is not None
    assert message.conversation.phone_number == twilio_number


@pytest.mark.django_db(transaction=True)
def test_nul_through_the_web_server_s_webhook_path_is_stored_without_it(
    asgi_application, twilio_number: PhoneNumber
) -> None:
    from .test_webhook_path import post_signed

    body = inbound_form(Body="a\x00b\x00c", MessageSid="SM\x00" + "f" * 32)

    assert post_signed(asgi_application, body) == (200, EMPTY_TWIML)
    event = CarrierEvent.objects.get()
    assert event.dedupe_key == "SM" + "f" * 32
    carrier_events_process_pending()
    assert the_message().body == "abc"


def test_an_event_recorded_directly_loses_its_nul_characters_too(number: PhoneNumber) -> None:
    # What the simulated network records (it stores its events without a webhook).
    from twoway.carrier_events.store import carrier_event_record
    from twoway.carriers.base import InboundMessage, StatusUpdate

    carrier_event_record(
        "simulator",
        InboundMessage(
            carrier_message_id="SIM\x001",
            from_number=HANDSET,
            to_number=number.number,
            body="x\x00y",
            raw={"k\x00": "v\x00"},
        ),
    )
    carrier_event_record(
        "simulator", StatusUpdate(carrier_message_id="SIM2", status="sent", error_code="\x00")
    )
    carrier_events_process_pending()

    assert the_message().body == "xy"
    assert the_message().carrier_message_id == "SIM1"
    stored = CarrierEvent.objects.get(dedupe_key="SIM1")
    assert stored.payload["raw"] == {"k": "v"}
    assert CarrierEvent.objects.filter(dedupe_key="SIM2:sent:").exists()


# --- Senders, bodies and counts no carrier sends ------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"From": "x" * 302}, "From 'xxxx"),
        ({"From": "+1202555017212345678"}, "is not a phone number, a short code"),
        ({"From": "ACME BANK 123"}, "alphanumeric sender (at most 11"),
        ({"From": "12"}, "is not a phone number"),
        ({"To": "y" * 30}, "To 'yyyy"),
        ({"Body": "é" * 1601}, "the body is 1,601 characters long; carriers deliver at most 1,600"),
        ({"NumMedia": "-5"}, "NumMedia must be a whole number from 0 to 10, not '-5'"),
        ({"NumMedia": "1.5"}, "NumMedia must be a whole number"),
        ({"NumMedia": "11"}, "NumMedia must be a whole number"),
        ({"MessageSid": "SM" + "a" * 100}, "MessageSid is 102 characters long; at most 64"),
    ],
    ids=[
        "long-from",
        "21-digit-from",
        "long-alphanumeric",
        "two-digits",
        "long-to",
        "long-body",
        "negative-media",
        "fractional-media",
        "too-many-media",
        "long-sid",
    ],
)
def test_what_no_carrier_sends_is_refused_with_a_reason(
    twilio_number: PhoneNumber, changes: dict[str, str], reason: str
) -> None:
    response = post(inbound_form(**changes))

    assert response.status_code == 400
    assert response.content.decode().startswith("Malformed webhook: ")
    assert reason in response.content.decode()
    assert kept_raw_only()


@pytest.mark.parametrize("sender", ["ACME", "Acme Dental", "12345", "55555555", "+442071838750"])
def test_short_codes_and_alphanumeric_senders_are_received(
    twilio_number: PhoneNumber, sender: str
) -> None:
    assert post(inbound_form(From=sender)).status_code == 200
    carrier_events_process_pending()
    assert the_message().from_number.lstrip("+") == sender.lstrip("+")


def test_a_body_of_1600_characters_is_received(twilio_number: PhoneNumber) -> None:
    assert post(inbound_form(Body="é" * 1600)).status_code == 200
    carrier_events_process_pending()
    assert len(the_message().body) == 1600


# --- Routing: only to the numbers of the carrier that signed the webhook ------------------------


def test_a_twilio_webhook_to_a_simulator_number_reaches_no_inbox(
    number: PhoneNumber, capsys: pytest.CaptureFixture[str]
) -> None:
    assert post(inbound_form(To=number.number)).status_code == 200

    assert carrier_events_process_pending() == 1

    event = CarrierEvent.objects.get()
    assert event.processed_at is not None and event.failed_at is not None
    assert event.error == f"No twilio number {number.number} is set up in Twoway."
    assert not Message.objects.exists()
    assert not Conversation.objects.exists()
    assert not Contact.objects.exists()
    assert carrier_events_process_pending() == 0

    # The operators' list shows it.
    assert cli.main(["events", "failed"]) == 0
    out = capsys.readouterr().out
    assert f"{event.pk}\t" in out and "No twilio number" in out


# --- Permanent failures: marked failed once, listed, retried by hand ----------------------------


def test_a_value_the_database_refuses_fails_the_event_at_once(
    twilio_number: PhoneNumber, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = inbound.conversation_record_inbound

    def refuse(**kwargs: object) -> None:
        raise DataError("value too long for type character varying(20)")

    monkeypatch.setattr(inbound, "conversation_record_inbound", refuse)
    post(inbound_form())
    carrier_events_process_pending()

    event = CarrierEvent.objects.get()
    assert event.attempts == 1
    assert event.failed_at is not None and event.processed_at is not None
    assert event.error == "DataError: value too long for type character varying(20)"
    assert not Message.objects.exists()
    assert carrier_events_process_pending() == 0

    # Once the cause is fixed, an operator hands it back and it is processed, once.
    monkeypatch.setattr(inbound, "conversation_record_inbound", real)
    assert cli.main(["events", "retry", str(event.pk)]) == 0
    assert "1 failed event(s) handed back" in capsys.readouterr().out
    assert carrier_events_process_pending() == 1
    event.refresh_from_db()
    assert event.failed_at is None and event.processed_at is not None and event.error == ""
    assert the_message().body == "Hi, is my order ready? Can I pick it up at 5pm?"
    # A processed event is never handed back.
    assert cli.main(["events", "retry", str(event.pk)]) == 1
    assert Message.objects.count() == 1


def test_a_broken_unique_constraint_is_tried_again_before_it_fails(
    twilio_number: PhoneNumber, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.utils import timezone

    def clash(**kwargs: object) -> None:
        raise IntegrityError("duplicate key value violates unique constraint")

    monkeypatch.setattr(inbound, "conversation_record_inbound", clash)
    post(inbound_form())
    for _ in range(processing.INTEGRITY_MAX_ATTEMPTS - 1):
        carrier_events_process_pending()
        event = CarrierEvent.objects.get()
        assert event.failed_at is None and event.processed_at is None
        CarrierEvent.objects.update(retry_at=timezone.now())
    carrier_events_process_pending()
    event = CarrierEvent.objects.get()
    assert event.attempts == processing.INTEGRITY_MAX_ATTEMPTS
    assert event.failed_at is not None


def test_the_admin_lists_failed_events_under_their_own_filter(
    number: PhoneNumber, twilio_number: PhoneNumber
) -> None:
    post(inbound_form(To=number.number, MessageSid="SM" + "1" * 32))  # fails: not Twilio's
    post(inbound_form(MessageSid="SM" + "2" * 32))  # received
    carrier_events_process_pending()
    superuser = get_user_model().objects.create_superuser("root", "root@example.com", "pw-12345")
    client = Client()
    client.force_login(superuser)

    page = client.get("/admin/carriers/carrierevent/?state=failed")

    assert page.status_code == 200
    content = page.content.decode()
    assert "SM" + "1" * 32 in content
    assert "SM" + "2" * 32 not in content
    assert "Failed" in content
