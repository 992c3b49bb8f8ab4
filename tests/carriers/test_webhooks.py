"""Carrier webhooks through the real view: verify → store raw once → answer, then
the worker's processing of what was stored. Twilio bodies are recorded fixtures, signed here."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import pytest
from asgiref.sync import async_to_sync
from django.http import HttpResponse
from django.test import Client
from django.utils import timezone
from twilio.request_validator import RequestValidator

from tests.messaging.send_steps import record_sent
from twoway.accounts.models import Organization
from twoway.carrier_events import processing
from twoway.carrier_events.models import CarrierEvent, EventKind
from twoway.carrier_events.processing import carrier_events_process_pending
from twoway.carriers.base import SendResult
from twoway.carriers.errors import explain
from twoway.carriers.twilio.adapter import EMPTY_TWIML
from twoway.contacts.models import Contact, ContactPhone
from twoway.conversations.models import Conversation, Direction, Message, Status
from twoway.messaging.services import message_send
from twoway.numbers.models import PhoneNumber
from twoway.realtime.models import RealtimeEvent

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "twilio"
TOKEN = "webhook-test-auth-token-42"
URL = "http://testserver/webhooks/twilio/"
FORM = "application/x-www-form-urlencoded"
HANDSET = "+12025550172"  # the From of the inbound fixtures, the To of the status ones
SENT_SID = "SMb2d4f6a8c0e14a3b9d7f5e3c1a0b2d4f"  # the MessageSid of the status fixtures
INBOUND_SID = "SM8a1f4c2e9b7d4e30a6f15c28d9e3b7a1"


@pytest.fixture(autouse=True)
def twilio_configured(settings) -> None:
    config = dict(settings.TWOWAY_CARRIER_CONFIG)
    config["twilio"] = {**config["twilio"], "auth_token": TOKEN}
    settings.TWOWAY_CARRIER_CONFIG = config
    settings.TWOWAY_PUBLIC_URL = ""  # the URL Twilio signed is the one the request came to


def recorded(name: str) -> str:
    return (FIXTURES / name).read_text().strip()


def sign(body: str, url: str = URL, token: str = TOKEN) -> str:
    params = dict(parse_qsl(body, keep_blank_values=True))
    return RequestValidator(token).compute_signature(url, params)


def post(
    body: str,
    *,
    signature: str | None = "compute",
    path: str = "/webhooks/twilio/",
    client: Client | None = None,
) -> HttpResponse:
    headers = {}
    if signature == "compute":
        signature = sign(body)
    if signature is not None:
        headers["HTTP_X_TWILIO_SIGNATURE"] = signature
    return (client or Client()).post(path, data=body, content_type=FORM, **headers)


def kept_raw_only() -> bool:
    """A signed webhook that made no event: kept as received, and nothing else stored."""
    events = CarrierEvent.objects.all()
    return (
        events.exists()
        and not events.exclude(kind=EventKind.UNPARSED).exists()
        and not (Contact.objects.exists() or Message.objects.exists())
        and not (Conversation.objects.exists() or RealtimeEvent.objects.exists())
    )


def nothing_stored() -> bool:
    return not (
        CarrierEvent.objects.exists()
        or Contact.objects.exists()
        or ContactPhone.objects.exists()
        or Conversation.objects.exists()
        or Message.objects.exists()
        or RealtimeEvent.objects.exists()
    )


def sent_message(number: PhoneNumber, *, carrier_id: str | None = SENT_SID) -> Message:
    """An outbound text the dispatcher handed to Twilio (carrier id recorded unless None)."""
    message = message_send(phone_number=number, to=HANDSET, body="Your order is ready.")
    if carrier_id is not None:
        record_sent(message.pk, SendResult(carrier_message_id=carrier_id))
    message.refresh_from_db()
    return message


def reload(message: Message) -> Message:
    return Message.objects.get(pk=message.pk)


# --- Inbound --------------------------------------------------------------------------------------


def test_valid_inbound_is_stored_once_and_answered_with_empty_twiml(
    twilio_number: PhoneNumber,
) -> None:
    response = post(recorded("inbound_sms.txt"))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    assert response.content.decode() == EMPTY_TWIML
    event = CarrierEvent.objects.get()
    assert (event.carrier, event.kind, event.dedupe_key) == (
        "twilio",
        EventKind.INBOUND,
        INBOUND_SID,
    )
    assert event.payload["from_number"] == HANDSET
    assert event.payload["to_number"] == "+14155550123"
    assert event.payload["body"] == "Hi, is my order ready? Can I pick it up at 5pm?"
    # The webhook only stores: the message appears when the worker processes the event.
    assert event.processed_at is None
    assert not Message.objects.exists()


def test_inbound_webhook_becomes_a_message_after_processing(
    twilio_number: PhoneNumber, org: Organization
) -> None:
    post(recorded("inbound_sms.txt"))

    assert carrier_events_process_pending() == 1

    message = Message.objects.get()
    assert message.direction == Direction.INBOUND
    assert message.status == Status.RECEIVED
    assert (message.carrier, message.carrier_message_id) == ("twilio", INBOUND_SID)
    assert (message.from_number, message.to_number) == (HANDSET, "+14155550123")
    assert message.organization == org
    assert message.conversation.phone_number == twilio_number
    assert CarrierEvent.objects.get().processed_at is not None


def test_same_webhook_delivered_five_times_makes_one_event_and_one_message(
    twilio_number: PhoneNumber,
) -> None:
    body = recorded("inbound_sms.txt")
    for _ in range(5):
        response = post(body)
        # Twilio retries until it hears 200: a duplicate is answered like the first one.
        assert response.status_code == 200
        assert response.content.decode() == EMPTY_TWIML

    assert CarrierEvent.objects.count() == 1
    carrier_events_process_pending()
    carrier_events_process_pending()
    for _ in range(2):  # and once more after processing, as a late retry would
        post(body)
        carrier_events_process_pending()

    assert CarrierEvent.objects.count() == 1
    assert Message.objects.count() == 1
    assert Conversation.objects.get().unread_count == 1


def test_inbound_mms_keeps_the_media_urls_in_the_stored_event(twilio_number: PhoneNumber) -> None:
    response = post(recorded("inbound_mms.txt"))

    assert response.status_code == 200
    payload = CarrierEvent.objects.get().payload
    assert len(payload["media_urls"]) == 2
    assert all(url.startswith("https://api.twilio.com/") for url in payload["media_urls"])
    carrier_events_process_pending()
    assert Message.objects.get().body == "Here is the damaged box and the receipt"


def test_signature_for_the_public_url_is_accepted_behind_a_proxy(
    twilio_number: PhoneNumber, settings
) -> None:
    settings.TWOWAY_PUBLIC_URL = "https://texts.example.org"
    body = recorded("inbound_sms.txt")

    wrong = post(body, signature=sign(body, url=URL))
    right = post(body, signature=sign(body, url="https://texts.example.org/webhooks/twilio/"))

    assert wrong.status_code == 403
    assert right.status_code == 200
    assert CarrierEvent.objects.count() == 1


# --- Refused webhooks -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "signature",
    [
        sign(recorded("inbound_sms.txt"), token="someone-elses-token"),
        sign(recorded("inbound_sms.txt"), url="http://testserver/webhooks/other/"),
        sign(recorded("inbound_sms.txt").replace("5pm", "6pm")),  # the body was changed after
        "not-a-signature",
        "",
    ],
    ids=["wrong-token", "wrong-url", "tampered-body", "garbage", "empty"],
)
def test_bad_signature_is_refused_and_stores_nothing(
    twilio_number: PhoneNumber, signature: str
) -> None:
    response = post(recorded("inbound_sms.txt"), signature=signature)

    assert response.status_code == 403
    assert nothing_stored()
    assert carrier_events_process_pending() == 0
    assert nothing_stored()


def test_missing_signature_is_refused(twilio_number: PhoneNumber) -> None:
    response = post(recorded("inbound_sms.txt"), signature=None)

    assert response.status_code == 403
    assert nothing_stored()


def test_no_auth_token_configured_refuses_every_webhook(
    twilio_number: PhoneNumber, settings
) -> None:
    config = dict(settings.TWOWAY_CARRIER_CONFIG)
    config["twilio"] = {**config["twilio"], "auth_token": ""}
    settings.TWOWAY_CARRIER_CONFIG = config

    response = post(recorded("inbound_sms.txt"), signature=sign(recorded("inbound_sms.txt")))

    assert response.status_code == 403
    assert nothing_stored()


def _without(body: str, *names: str) -> str:
    return urlencode([(k, v) for k, v in parse_qsl(body) if k not in names])


@pytest.mark.parametrize(
    "body",
    [
        _without(recorded("inbound_sms.txt"), "MessageSid", "SmsSid", "SmsMessageSid"),
        _without(recorded("inbound_sms.txt"), "From"),
        _without(recorded("inbound_sms.txt"), "To"),
        _without(recorded("status_delivered.txt"), "MessageSid", "SmsSid"),
        _without(recorded("inbound_mms.txt"), "MediaUrl1"),
        _without(recorded("inbound_sms.txt"), "Body", "SmsStatus"),
    ],
    ids=["no-sid", "no-from", "no-to", "status-no-sid", "mms-missing-media", "neither-kind"],
)
def test_signed_but_malformed_body_is_a_400_kept_raw_and_nothing_else_stored(
    twilio_number: PhoneNumber, body: str
) -> None:
    response = post(body)
    again = post(body)  # the carrier's retry is the same webhook, kept once

    assert response.status_code == again.status_code == 400
    [kept] = CarrierEvent.objects.all()
    assert kept.kind == EventKind.UNPARSED
    assert kept.payload["body"] == body
    assert kept.payload["reason"].startswith("Malformed webhook:")
    assert kept.carrier == "twilio"

    carrier_events_process_pending()

    kept.refresh_from_db()
    assert kept.failed_at is not None and kept.error.startswith("Malformed webhook:")
    assert not (
        Contact.objects.exists() or Message.objects.exists() or RealtimeEvent.objects.exists()
    )


def test_status_twoway_does_not_track_is_acknowledged_and_kept(
    twilio_number: PhoneNumber,
) -> None:
    body = recorded("status_sent.txt").replace("Status=sent", "Status=partially_delivered")

    response = post(body)

    assert response.status_code == 200
    [kept] = CarrierEvent.objects.all()
    assert (kept.kind, kept.payload["reason"]) == (
        EventKind.UNPARSED,
        "A webhook of a type Twoway does not handle.",
    )
    carrier_events_process_pending()
    kept.refresh_from_db()
    assert kept.failed_at is not None


def test_a_kept_webhook_is_processed_once_its_adapter_reads_it(
    twilio_number: PhoneNumber, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Support added later: `twoway events retry` hands the kept webhook back, the worker parses
    it again and processes what it now makes of it."""
    from twoway.carrier_events.failed import failed_events_retry
    from twoway.carriers.registry import get_carrier

    complete = recorded("inbound_sms.txt")
    body = _without(complete, "From")
    post(body)
    carrier_events_process_pending()
    [kept] = CarrierEvent.objects.all()
    assert kept.failed_at is not None

    adapter = get_carrier("twilio")
    real = adapter.parse_webhook

    def reads_it(webhook):  # the new version knows where this carrier puts the sender
        form = dict(webhook.form)
        form.setdefault("From", HANDSET)
        return real(type(webhook)(webhook.url, webhook.method, webhook.headers, webhook.body, form))

    monkeypatch.setattr(adapter, "parse_webhook", reads_it)
    assert failed_events_retry(ids=[kept.pk]) == 1
    carrier_events_process_pending()

    kept.refresh_from_db()
    assert kept.processed_at is not None and kept.failed_at is None and kept.error == ""
    [message] = Message.objects.all()
    assert (message.direction, message.from_number) == (Direction.INBOUND, HANDSET)
    assert message.carrier_message_id == dict(parse_qsl(complete))["MessageSid"]


def test_unknown_carrier_slug_is_404(twilio_number: PhoneNumber) -> None:
    body = recorded("inbound_sms.txt")
    response = post(
        body,
        signature=sign(body, url="http://testserver/webhooks/nosuch/"),
        path="/webhooks/nosuch/",
    )

    assert response.status_code == 404
    assert nothing_stored()


def test_webhook_only_takes_post(twilio_number: PhoneNumber) -> None:
    assert Client().get("/webhooks/twilio/").status_code == 405
    assert nothing_stored()


def test_simulator_has_no_outside_webhook(number: PhoneNumber) -> None:
    """The simulator's events come from inside Twoway; nobody may post them from outside."""
    body = urlencode({"MessageSid": "x", "From": HANDSET, "To": number.number, "Body": "STOP"})

    response = post(body, signature=sign(body), path="/webhooks/simulator/")

    assert response.status_code == 403
    assert nothing_stored()


# --- Delivery reports -----------------------------------------------------------------------------


def test_delivered_report_moves_sent_to_delivered(twilio_number: PhoneNumber) -> None:
    message = sent_message(twilio_number)
    assert message.status == Status.SENT

    assert post(recorded("status_delivered.txt")).status_code == 200
    assert reload(message).status == Status.SENT  # nothing changes until the worker runs
    carrier_events_process_pending()

    message = reload(message)
    assert message.status == Status.DELIVERED
    assert message.delivered_at is not None
    assert message.error_code == ""
    event = RealtimeEvent.objects.filter(kind="message.status").last()
    assert event is not None
    assert event.data["message"] == str(message.uid)
    assert event.data["status"] == Status.DELIVERED
    assert CarrierEvent.objects.get().processed_at is not None


def test_late_sent_report_does_not_undo_delivered(twilio_number: PhoneNumber) -> None:
    message = sent_message(twilio_number)
    post(recorded("status_delivered.txt"))
    carrier_events_process_pending()
    delivered_at = reload(message).delivered_at

    assert post(recorded("status_sent.txt")).status_code == 200
    carrier_events_process_pending()

    message = reload(message)
    assert message.status == Status.DELIVERED
    assert message.delivered_at == delivered_at
    # The late report was handled (not left to retry), just not applied.
    assert not CarrierEvent.objects.filter(processed_at__isnull=True).exists()


def test_reports_in_order_sent_then_delivered(twilio_number: PhoneNumber) -> None:
    message = sent_message(twilio_number)
    Message.objects.filter(pk=message.pk).update(status=Status.SENDING)

    post(recorded("status_sent.txt"))
    carrier_events_process_pending()
    assert reload(message).status == Status.SENT
    post(recorded("status_delivered.txt"))
    carrier_events_process_pending()
    assert reload(message).status == Status.DELIVERED


def test_undelivered_30006_stores_code_and_plain_language_explanation(
    twilio_number: PhoneNumber,
) -> None:
    message = sent_message(twilio_number)

    post(recorded("status_undelivered_30006.txt"))
    carrier_events_process_pending()

    message = reload(message)
    assert message.status == Status.UNDELIVERED
    assert message.error_code == "30006"
    assert message.error_message == explain("30006")
    assert "landline" in message.error_message
    assert message.delivered_at is None


def test_duplicate_status_reports_are_stored_once(twilio_number: PhoneNumber) -> None:
    sent_message(twilio_number)
    for _ in range(3):
        post(recorded("status_delivered.txt"))
        post(recorded("status_undelivered_30006.txt"))

    # One event per distinct report (id + status + code), however often each was retried.
    assert CarrierEvent.objects.filter(kind=EventKind.STATUS).count() == 2


def test_report_before_the_carrier_id_is_known_waits_and_applies_later(
    twilio_number: PhoneNumber,
) -> None:
    # The worker handed the text to Twilio, but has not recorded the sid yet when the report lands.
    message = sent_message(twilio_number, carrier_id=None)
    assert message.carrier_message_id is None

    post(recorded("status_delivered.txt"))
    before = timezone.now()
    assert carrier_events_process_pending() == 1

    event = CarrierEvent.objects.get()
    assert event.processed_at is None
    assert event.retry_at is not None and event.retry_at > before
    assert event.attempts == 1
    assert SENT_SID in event.error
    assert reload(message).status == Status.QUEUED

    # Not tried again before its time.
    assert carrier_events_process_pending() == 0
    assert CarrierEvent.objects.get().attempts == 1

    record_sent(message.pk, SendResult(carrier_message_id=SENT_SID))
    assert reload(message).status == Status.SENT
    # Time passes: the retry is due.
    CarrierEvent.objects.update(retry_at=timezone.now() - dt.timedelta(seconds=1))
    assert carrier_events_process_pending() == 1

    event = CarrierEvent.objects.get()
    assert event.processed_at is not None
    assert event.error == ""
    assert event.attempts == 2
    assert reload(message).status == Status.DELIVERED


def test_report_for_a_message_that_never_appears_is_given_up(
    twilio_number: PhoneNumber,
) -> None:
    post(recorded("status_delivered.txt"))
    CarrierEvent.objects.update(attempts=processing.STATUS_MAX_ATTEMPTS - 1)

    carrier_events_process_pending()

    event = CarrierEvent.objects.get()
    assert event.processed_at is not None  # no longer retried forever
    assert SENT_SID in event.error


# --- Numbers nobody has ---------------------------------------------------------------------------


def test_inbound_to_a_number_nobody_has_is_recorded_and_leaks_nowhere(
    org: Organization, other_org: Organization, number: PhoneNumber
) -> None:
    PhoneNumber.objects.create(organization=other_org, number="+14155550199", carrier="twilio")
    # inbound_sms.txt is addressed to +14155550123, which neither organization has.

    assert post(recorded("inbound_sms.txt")).status_code == 200
    assert carrier_events_process_pending() == 1

    event = CarrierEvent.objects.get()
    assert event.processed_at is not None  # not retried forever
    assert "+14155550123" in event.error
    assert not Contact.objects.exists()
    assert not ContactPhone.objects.exists()
    assert not Conversation.objects.exists()
    assert not Message.objects.exists()
    assert not RealtimeEvent.objects.exists()
    assert carrier_events_process_pending() == 0


# --- The lean path under ASGI (what `twoway web` serves) -----------------------------------------


def asgi_call(application, method: str, path: str, body: str = "", headers=()) -> tuple:
    """One request through the ASGI application: (status, headers as a dict, body)."""
    from .test_webhook_path import scope as asgi_scope

    scope = asgi_scope(path, method=method, headers=headers)
    sent: list[dict] = []
    requests = [{"type": "http.request", "body": body.encode(), "more_body": False}]

    async def receive() -> dict:
        if requests:
            return requests.pop()
        await asyncio.Event().wait()  # the client stays connected
        return {}

    async def send(message: dict) -> None:
        sent.append(message)

    async_to_sync(application)(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    content = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], {k.decode().lower(): v.decode() for k, v in start["headers"]}, content


@pytest.mark.django_db(transaction=True)
def test_webhook_under_asgi_skips_the_browser_middleware_and_is_stored(
    asgi_application, twilio_number: PhoneNumber
) -> None:
    body = recorded("inbound_sms.txt")
    signature = (b"x-twilio-signature", sign(body).encode())
    status, headers, content = asgi_call(
        asgi_application, "POST", "/webhooks/twilio/", body, [signature]
    )
    assert (status, content.decode()) == (200, EMPTY_TWIML)
    assert headers["content-length"] == str(len(content))
    # No session, CSRF or clickjacking middleware ran on the webhook...
    assert not {"x-frame-options", "set-cookie", "vary"} & set(headers)
    [event] = CarrierEvent.objects.all()
    assert (event.kind, event.dedupe_key) == (EventKind.INBOUND, INBOUND_SID)
    # ...while every other page still gets the full stack.
    status, headers, _ = asgi_call(asgi_application, "GET", "/healthz")
    assert (status, headers["x-frame-options"]) == (200, "DENY")


@pytest.mark.django_db(transaction=True)
def test_webhook_under_asgi_with_a_bad_signature_stores_nothing(
    asgi_application, twilio_number: PhoneNumber
) -> None:
    body = recorded("inbound_sms.txt")
    signature = (b"x-twilio-signature", sign(body, token="wrong").encode())
    status, _, _ = asgi_call(asgi_application, "POST", "/webhooks/twilio/", body, [signature])
    assert status == 403
    assert nothing_stored()
