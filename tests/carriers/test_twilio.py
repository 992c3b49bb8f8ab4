"""Twilio adapter: signatures (vectors from the project's shared test vectors), webhook parsing of
recorded bodies, and sends against the local fake API. No database needed."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import httpx
import pytest
from bench.fakes.twilio_api import FakeTwilioServer

from twoway.carriers.base import (
    CarrierError,
    InboundMessage,
    SendRequest,
    StatusUpdate,
    WebhookParseError,
    WebhookRequest,
)
from twoway.carriers.twilio.adapter import EMPTY_TWIML, TwilioCarrier

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "twilio"
SID = "AC3f5e9c1d2b7a48e6a0c4d8b2e1f37a90"
HANDSET, OURS = "+12025550172", "+14155550123"
TOKEN = "fake-auth-token-0123456789"
FORM_TYPE = "application/x-www-form-urlencoded"

VECTOR_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
VECTOR_URL_443 = "https://mycompany.com:443/myapp.php?foo=1&bar=2"
VECTOR_PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+14158675309",
    "Digits": "1234",
    "From": "+14158675309",
    "To": "+18005551212",
}
DOCS_PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+12349013030",
    "Digits": "1234",
    "From": "+12349013030",
    "To": "+18005551212",
}


def webhook(
    params: dict[str, str], *, url: str = VECTOR_URL, signature: str | None = None
) -> WebhookRequest:
    headers = {"content-type": FORM_TYPE}
    if signature is not None:
        headers["x-twilio-signature"] = signature
    return WebhookRequest(
        url=url, method="POST", headers=headers, body=urlencode(params).encode(), form=params
    )


def fixture(name: str) -> WebhookRequest:
    body = (FIXTURES / name).read_text().strip()
    form = dict(parse_qsl(body, keep_blank_values=True))
    url = "https://texts.example.org/webhooks/twilio/"
    return WebhookRequest(
        url=url, method="POST", headers={"content-type": FORM_TYPE}, body=body.encode(), form=form
    )


def message(key: str = "msg-1", **overrides: object) -> SendRequest:
    fields: dict[str, object] = {
        "idempotency_key": key,
        "from_number": "+14155550123",
        "to_number": "+12025550172",
        "body": "Your order is ready for pickup.",
    }
    fields.update(overrides)
    return SendRequest(**fields)  # type: ignore[arg-type]


@pytest.fixture
def fake() -> Iterator[FakeTwilioServer]:
    with FakeTwilioServer(auth_token=TOKEN, hang_seconds=5) as server:
        yield server


@pytest.fixture
def carrier(fake: FakeTwilioServer) -> Iterator[TwilioCarrier]:
    adapter = TwilioCarrier(account_sid=SID, auth_token=TOKEN, api_base_url=fake.url, timeout=2.0)
    yield adapter
    adapter.close()


# --- Signatures ------------------------------------------------------------------------------

signer = TwilioCarrier(account_sid=SID, auth_token="12345")


@pytest.mark.parametrize(
    ("url", "params", "signature"),
    [
        (VECTOR_URL, VECTOR_PARAMS, "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
        (VECTOR_URL, VECTOR_PARAMS, "kvajT1Ptam85bY51eRf/AJRuM3w="),  # signed with :443
        (VECTOR_URL_443, VECTOR_PARAMS, "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
        (VECTOR_URL_443, VECTOR_PARAMS, "kvajT1Ptam85bY51eRf/AJRuM3w="),
        (VECTOR_URL, DOCS_PARAMS, "0/KCTR6DLpKmkAf8muzZqo1nDgQ="),
    ],
)
def test_signature_vectors(url: str, params: dict[str, str], signature: str) -> None:
    assert signer.verify_signature(webhook(params, url=url, signature=signature))


def test_signature_from_parsed_form_when_no_body() -> None:
    request = webhook(VECTOR_PARAMS, signature="RSOYDt4T1cUTdK1PDd93/VVr8B8=")
    request = WebhookRequest(request.url, "POST", request.headers, b"", request.form)
    assert signer.verify_signature(request)


def test_tampered_body_fails() -> None:
    params = {**VECTOR_PARAMS, "Digits": "1235"}
    assert not signer.verify_signature(webhook(params, signature="RSOYDt4T1cUTdK1PDd93/VVr8B8="))


def test_tampered_url_fails() -> None:
    url = "https://mycompany.com/myapp.php?foo=1&bar=3"
    request = webhook(VECTOR_PARAMS, url=url, signature="RSOYDt4T1cUTdK1PDd93/VVr8B8=")
    assert not signer.verify_signature(request)


def test_missing_header_fails() -> None:
    assert not signer.verify_signature(webhook(VECTOR_PARAMS))


def test_no_token_configured_fails() -> None:
    unconfigured = TwilioCarrier(account_sid=SID, auth_token="")
    request = webhook(VECTOR_PARAMS, signature="RSOYDt4T1cUTdK1PDd93/VVr8B8=")
    assert not unconfigured.verify_signature(request)


# --- Webhook parsing -------------------------------------------------------------------------


def test_parse_inbound_sms() -> None:
    event = signer.parse_webhook(fixture("inbound_sms.txt"))
    assert isinstance(event, InboundMessage)
    assert event.carrier_message_id == "SM8a1f4c2e9b7d4e30a6f15c28d9e3b7a1"
    assert event.from_number == "+12025550172"
    assert event.to_number == "+14155550123"
    assert event.body == "Hi, is my order ready? Can I pick it up at 5pm?"
    assert event.media_urls == ()
    assert event.raw["FromCity"] == "WASHINGTON"
    assert signer.webhook_response(event) == (EMPTY_TWIML, "text/xml")


def test_parse_inbound_mms() -> None:
    event = signer.parse_webhook(fixture("inbound_mms.txt"))
    assert isinstance(event, InboundMessage)
    assert event.carrier_message_id.startswith("MM")
    assert len(event.media_urls) == 2
    assert event.media_urls[0].endswith("/Media/ME1d9b3e7a5c2f48a6b0e4d1c8a7f3e2b9")
    assert event.media_urls[1].endswith("/Media/ME6e2c8a4f0b1d47c3a9e5f2b7d0c4a8e1")


@pytest.mark.parametrize(
    ("name", "status", "error_code"),
    [
        ("status_sent.txt", "sent", ""),
        ("status_delivered.txt", "delivered", ""),
        ("status_undelivered_30006.txt", "undelivered", "30006"),
    ],
)
def test_parse_status(name: str, status: str, error_code: str) -> None:
    event = signer.parse_webhook(fixture(name))
    assert isinstance(event, StatusUpdate)
    assert event.carrier_message_id == "SMb2d4f6a8c0e14a3b9d7f5e3c1a0b2d4f"
    assert event.status == status
    assert event.error_code == error_code
    assert signer.webhook_response(event) == ("", "text/plain")


@pytest.mark.parametrize(
    ("twilio_status", "ours"),
    [
        ("accepted", "queued"),
        ("scheduled", "queued"),
        ("queued", "queued"),
        ("sending", "sending"),
        ("read", "delivered"),
        ("failed", "failed"),
        ("canceled", "failed"),
    ],
)
def test_status_vocabulary(twilio_status: str, ours: str) -> None:
    event = signer.parse_webhook(webhook({"MessageSid": "SM1", "MessageStatus": twilio_status}))
    assert isinstance(event, StatusUpdate)
    assert event.status == ours


def test_unknown_status_is_ignored() -> None:
    params = {"MessageSid": "SM1", "MessageStatus": "partially_delivered"}
    assert signer.parse_webhook(webhook(params)) is None


@pytest.mark.parametrize(
    ("params", "complaint"),
    [
        ({}, "MessageSid"),
        ({"Body": "hi", "From": "+12025550172", "To": "+14155550123"}, "MessageSid"),
        ({"MessageSid": "SM1", "Body": "hi", "To": "+14155550123"}, "From or To"),
        ({"MessageSid": "SM1", "Body": "hi", "From": "+12025550172"}, "From or To"),
        ({"MessageSid": "SM1", "AccountSid": SID}, "neither"),
        (
            {"MessageSid": "SM1", "Body": "", "From": HANDSET, "To": OURS, "NumMedia": "two"},
            "NumMedia",
        ),
        (
            {"MessageSid": "SM1", "Body": "", "From": HANDSET, "To": OURS, "NumMedia": "1"},
            "MediaUrl0",
        ),
    ],
)
def test_malformed_webhooks(params: dict[str, str], complaint: str) -> None:
    with pytest.raises(WebhookParseError, match=complaint):
        signer.parse_webhook(webhook(params))


# --- Sending ---------------------------------------------------------------------------------


def test_send_success(fake: FakeTwilioServer, carrier: TwilioCarrier) -> None:
    result = carrier.send(message())
    assert result.status == "sent"
    assert result.carrier_message_id.startswith("SM")
    assert len(result.carrier_message_id) == 34
    assert [d.sid for d in fake.deliveries] == [result.carrier_message_id]


def test_send_reports_its_departure_before_the_answer_comes() -> None:
    """The worker paces a number's next send from when the request really left: the adapter
    says so once its body is written, while Twilio (here 300 ms slow) has not answered yet."""
    with FakeTwilioServer(auth_token=TOKEN, latency_ms=300) as slow:
        adapter = TwilioCarrier(account_sid=SID, auth_token=TOKEN, api_base_url=slow.url)
        departures: list[float] = []
        started = time.monotonic()
        try:
            adapter.send(message(departed=lambda: departures.append(time.monotonic())))
        finally:
            adapter.close()
        answered = time.monotonic()
    assert TwilioCarrier.reports_departure
    assert len(departures) == 1
    assert started <= departures[0] <= answered - 0.25  # long before the answer
    assert len(slow.deliveries) == 1


def test_a_send_that_never_left_reports_no_departure() -> None:
    with FakeTwilioServer() as gone:
        url = gone.url  # closed: the connection is refused
    adapter = TwilioCarrier(account_sid=SID, auth_token=TOKEN, api_base_url=url, timeout=1.0)
    departures: list[float] = []
    with pytest.raises(CarrierError):
        adapter.send(message(departed=lambda: departures.append(time.monotonic())))
    assert departures == []


def test_send_request_shape(fake: FakeTwilioServer, carrier: TwilioCarrier) -> None:
    media = ("https://cdn.example.org/a.jpg", "https://cdn.example.org/b.png")
    callback = "https://texts.example.org/webhooks/twilio/status/"
    carrier.send(message("msg-7", status_callback_url=callback, media_urls=media))
    [request] = fake.requests
    assert request.path == f"/2010-04-01/Accounts/{SID}/Messages.json"
    assert request.auth == (SID, TOKEN)
    assert request.headers["authorization"] == "Basic " + base64.b64encode(
        f"{SID}:{TOKEN}".encode()
    ).decode("ascii")
    assert request.idempotency_key == "msg-7"
    assert request.form == {
        "To": ["+12025550172"],
        "From": ["+14155550123"],
        "Body": ["Your order is ready for pickup."],
        "StatusCallback": [callback],
        "MediaUrl": list(media),
    }


def test_send_without_callback_or_media_omits_them(
    fake: FakeTwilioServer, carrier: TwilioCarrier
) -> None:
    carrier.send(message())
    assert set(fake.requests[0].form) == {"To", "From", "Body"}


def test_same_idempotency_key_delivers_once(fake: FakeTwilioServer, carrier: TwilioCarrier) -> None:
    first = carrier.send(message("msg-42"))
    second = carrier.send(message("msg-42"))
    other = carrier.send(message("msg-43"))
    assert first.carrier_message_id == second.carrier_message_id != other.carrier_message_id
    assert len(fake.requests) == 3
    assert [d.idempotency_key for d in fake.deliveries] == ["msg-42", "msg-43"]


def test_server_error_is_transient(fake: FakeTwilioServer, carrier: TwilioCarrier) -> None:
    fake.set_mode("down")
    with pytest.raises(CarrierError) as caught:
        carrier.send(message())
    assert caught.value.transient
    assert caught.value.code == "20500"
    assert fake.deliveries == []


def test_timeout_is_transient(fake: FakeTwilioServer) -> None:
    fake.set_mode("timeout")
    impatient = TwilioCarrier(account_sid=SID, auth_token=TOKEN, api_base_url=fake.url, timeout=0.5)
    with pytest.raises(CarrierError) as caught:
        impatient.send(message())
    impatient.close()
    assert caught.value.transient
    assert caught.value.code == ""


def test_retry_after_timeout_with_same_key_delivers_once(fake: FakeTwilioServer) -> None:
    fake.set_mode("timeout")
    impatient = TwilioCarrier(account_sid=SID, auth_token=TOKEN, api_base_url=fake.url, timeout=0.5)
    with pytest.raises(CarrierError):
        impatient.send(message("msg-9"))
    fake.set_mode("normal")
    impatient.send(message("msg-9"))
    impatient.close()
    assert len(fake.deliveries) == 1


def test_unreachable_is_transient() -> None:
    with FakeTwilioServer() as gone:
        url = gone.url  # a port that was free a moment ago and is closed now
    adapter = TwilioCarrier(account_sid=SID, auth_token=TOKEN, api_base_url=url, timeout=1.0)
    with pytest.raises(CarrierError) as caught:
        adapter.send(message())
    assert caught.value.transient


def test_rejection_is_permanent(fake: FakeTwilioServer, carrier: TwilioCarrier) -> None:
    fake.set_mode("reject", code=21610, message="Attempt to send to unsubscribed recipient")
    with pytest.raises(CarrierError) as caught:
        carrier.send(message())
    assert not caught.value.transient
    assert caught.value.code == "21610"
    assert "unsubscribed recipient" in str(caught.value)


def test_wrong_token_is_permanent(fake: FakeTwilioServer) -> None:
    adapter = TwilioCarrier(account_sid=SID, auth_token="wrong", api_base_url=fake.url)
    with pytest.raises(CarrierError) as caught:
        adapter.send(message())
    assert not caught.value.transient
    assert caught.value.code == "20003"
    assert "wrong" not in str(caught.value)


@pytest.mark.parametrize(("sid", "token"), [("", TOKEN), (SID, ""), (None, None)])
def test_missing_credentials_is_config_error(
    fake: FakeTwilioServer, sid: str | None, token: str | None
) -> None:
    adapter = TwilioCarrier(account_sid=sid, auth_token=token, api_base_url=fake.url)
    with pytest.raises(CarrierError) as caught:
        adapter.send(message())
    assert not caught.value.transient
    assert caught.value.code == "config"
    assert "TWILIO_ACCOUNT_SID" in str(caught.value)
    assert "TWILIO_AUTH_TOKEN" in str(caught.value)
    assert fake.requests == []


def test_token_not_in_repr() -> None:
    assert TOKEN not in repr(TwilioCarrier(account_sid=SID, auth_token=TOKEN))


def test_fake_deliveries_endpoint(fake: FakeTwilioServer, carrier: TwilioCarrier) -> None:
    sid = carrier.send(message("msg-1")).carrier_message_id
    listed = httpx.get(f"{fake.url}/_fake/deliveries").json()
    assert listed == [
        {
            "sid": sid,
            "to": "+12025550172",
            "from": "+14155550123",
            "body": "Your order is ready for pickup.",
            "media_urls": [],
            "idempotency_key": "msg-1",
        }
    ]
    httpx.post(f"{fake.url}/_fake/mode", json={"mode": "down"})
    with pytest.raises(CarrierError):
        carrier.send(message("msg-2"))
