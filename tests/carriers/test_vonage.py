"""The Vonage adapter against a local fake of its Messages and Numbers APIs and recorded webhooks:
sends and their errors, the signed-JWT webhooks, parsing, numbers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from bench.fakes.vonage_api import FakeVonageServer

from twoway.carriers.base import (
    CarrierError,
    InboundMessage,
    SendRequest,
    StatusUpdate,
    WebhookParseError,
    WebhookRequest,
)
from twoway.carriers.errors import explain
from twoway.carriers.vonage.adapter import VonageCarrier

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "vonage"
API_KEY = "a1b2c3d4"
API_SECRET = "Secret0123456789"
SIGNATURE_SECRET = "sig-secret-of-the-account-0123456789"
APPLICATION = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
NOW = 1764515545.0


def token(body: bytes, *, secret: str = SIGNATURE_SECRET, **claims: Any) -> str:
    payload = {
        "iat": int(NOW),
        "jti": "c5ba8f24-1a14-4c10-bfdf-3fbe8ce511b5",
        "iss": "Vonage",
        "payload_hash": hashlib.sha256(body).hexdigest(),
        "api_key": API_KEY,
        "application_id": APPLICATION,
        **claims,
    }
    return jwt.encode(payload, secret, algorithm="HS256")


def webhook(body: bytes, authorization: str | None = None) -> WebhookRequest:
    return WebhookRequest(
        url="https://texts.example.com/webhooks/vonage/k/",
        method="POST",
        headers={
            "content-type": "application/json",
            "authorization": authorization
            if authorization is not None
            else f"Bearer {token(body)}",
        },
        body=body,
        form={},
    )


def adapter(url: str = "http://127.0.0.1:9", *, now: float = NOW) -> VonageCarrier:
    return VonageCarrier(
        api_key=API_KEY,
        api_secret=API_SECRET,
        signature_secret=SIGNATURE_SECRET,
        application_id=APPLICATION,
        api_base_url=url,
        rest_base_url=url,
        timeout=1.0,
        clock=lambda: now,
    )


@pytest.fixture
def fake() -> Iterator[FakeVonageServer]:
    with FakeVonageServer(api_key=API_KEY, api_secret=API_SECRET) as server:
        yield server


def fixture(name: str, message_id: str = "m-1") -> bytes:
    return (FIXTURES / name).read_text().replace("MESSAGE_ID", message_id).encode()


# --- The signature ------------------------------------------------------------------------------


def test_a_token_signed_with_the_secret_for_this_body_verifies() -> None:
    body = fixture("inbound_sms.json")
    assert adapter().verify_signature(webhook(body))


def test_the_token_is_checked_byte_for_byte_against_hs256() -> None:
    """The token computed by hand (base64url JSON, HMAC-SHA256), not only by PyJWT."""
    body = b'{"message_uuid":"x"}'

    def part(value: dict[str, Any]) -> bytes:
        raw = json.dumps(value, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=")

    signing_input = (
        part({"alg": "HS256", "typ": "JWT"})
        + b"."
        + part({"iat": int(NOW), "payload_hash": hashlib.sha256(body).hexdigest()})
    )
    mac = hmac.new(SIGNATURE_SECRET.encode(), signing_input, hashlib.sha256).digest()
    hand_made = (signing_input + b"." + base64.urlsafe_b64encode(mac).rstrip(b"=")).decode()

    assert adapter().verify_signature(webhook(body, f"Bearer {hand_made}"))
    assert not adapter().verify_signature(webhook(body + b" ", f"Bearer {hand_made}"))


@pytest.mark.parametrize(
    "authorization",
    [
        "",
        "Bearer ",
        "Basic YTpi",
        f"Bearer {token(b'{}', secret='another-secret-of-another-account-0123')}",
        # Signed for another body: the body was changed on the way.
        f"Bearer {token(b'{}')}",
        # Another Vonage account's token.
        "Bearer " + token(b"", api_key="zzzz9999"),
        # No algorithm: must never be taken.
        "Bearer " + jwt.encode({"iat": int(NOW), "payload_hash": "x"}, None, algorithm="none"),
    ],
)
def test_a_token_not_signed_for_this_body_with_the_secret_is_refused(authorization: str) -> None:
    assert not adapter().verify_signature(webhook(b"", authorization))


@pytest.mark.parametrize(("drift", "valid"), [(300, True), (301, False), (-301, False)])
def test_a_token_more_than_five_minutes_old_is_refused(drift: float, valid: bool) -> None:
    body = fixture("inbound_sms.json")
    assert adapter(now=NOW + drift).verify_signature(webhook(body)) is valid


def test_no_signature_secret_refuses_everything() -> None:
    body = fixture("inbound_sms.json")
    assert not VonageCarrier(api_key=API_KEY, clock=lambda: NOW).verify_signature(webhook(body))


# --- Webhooks -----------------------------------------------------------------------------------


def test_an_incoming_text_parses_with_numbers_in_e164() -> None:
    event = adapter().parse_webhook(webhook(fixture("inbound_sms.json")))

    assert isinstance(event, InboundMessage)
    assert (event.carrier_message_id, event.from_number, event.to_number, event.body) == (
        "aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab",
        "+12025550136",
        "+14155550191",
        "Can I move my booking to Friday?",
    )
    assert event.raw["channel"] == "sms"


@pytest.mark.parametrize(
    ("name", "status", "code"),
    [
        ("status_delivered.json", "delivered", ""),
        ("status_rejected_1250.json", "failed", "vonage:1250"),
    ],
)
def test_delivery_reports_parse(name: str, status: str, code: str) -> None:
    event = adapter().parse_webhook(webhook(fixture(name)))

    assert isinstance(event, StatusUpdate)
    assert (event.carrier_message_id, event.status, event.error_code) == ("m-1", status, code)


def test_an_undeliverable_report_and_an_explained_code() -> None:
    data = json.loads(fixture("status_rejected_1250.json"))
    data["status"] = "undeliverable"

    event = adapter().parse_webhook(webhook(json.dumps(data).encode()))

    assert isinstance(event, StatusUpdate)
    assert event.status == "undelivered"
    assert explain(event.error_code) == "Vonage cannot route texts to this number."
    assert explain("vonage:9999") == "Vonage reported error 9999."


def test_other_channels_and_statuses_parse_to_none() -> None:
    whatsapp = json.loads(fixture("inbound_sms.json"))
    whatsapp["channel"] = "whatsapp"
    assert adapter().parse_webhook(webhook(json.dumps(whatsapp).encode())) is None
    odd = json.loads(fixture("status_delivered.json"))
    odd["status"] = "failed-over"
    assert adapter().parse_webhook(webhook(json.dumps(odd).encode())) is None


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"[1]",
        b'{"to": "14155550191", "from": "12025550136", "text": "x"}',
        b'{"message_uuid": "u", "text": "x"}',
    ],
)
def test_a_malformed_webhook_is_a_parse_error(body: bytes) -> None:
    with pytest.raises(WebhookParseError):
        adapter().parse_webhook(webhook(body))


# --- Sending ------------------------------------------------------------------------------------


def request(**changes: str) -> SendRequest:
    fields = {
        "idempotency_key": "msg-1",
        "from_number": "+14155550191",
        "to_number": "+12025550136",
        "body": "Friday works, see you then",
        "status_callback_url": "https://texts.example.com/webhooks/vonage/k/",
        **changes,
    }
    return SendRequest(**fields)  # type: ignore[arg-type]


def test_a_send_posts_an_sms_and_returns_the_message_uuid(fake: FakeVonageServer) -> None:
    result = adapter(fake.url).send(request())

    [delivery] = fake.deliveries
    assert (result.carrier_message_id, result.status) == (delivery.message_id, "sent")
    [sent] = fake.requests
    expected = base64.b64encode(f"{API_KEY}:{API_SECRET}".encode()).decode()
    assert sent.headers["authorization"] == f"Basic {expected}"
    assert sent.json == {
        "message_type": "text",
        "channel": "sms",
        "to": "12025550136",
        "from": "14155550191",
        "text": "Friday works, see you then",
        "sms": {"encoding_type": "auto"},
        "client_ref": "msg-1",
        "webhook_url": "https://texts.example.com/webhooks/vonage/k/",
    }


@pytest.mark.parametrize(
    ("status", "vonage_code", "code", "transient"),
    [
        (422, "1240", "vonage:1240", False),
        (422, "1250", "vonage:1250", False),
        (402, "", "402", False),  # low balance, without a code
        (429, "1000", "vonage:1000", True),
        (500, "1030", "vonage:1030", True),
    ],
)
def test_each_refusal_is_final_or_retried_with_its_code(
    fake: FakeVonageServer, status: int, vonage_code: str, code: str, transient: bool
) -> None:
    fake.set_mode("reject", code=vonage_code, status=status)

    with pytest.raises(CarrierError) as caught:
        adapter(fake.url).send(request())

    assert (caught.value.code, caught.value.transient) == (code, transient)
    assert f"Vonage HTTP {status}" in str(caught.value)


def test_wrong_credentials_say_the_account_must_be_fixed(fake: FakeVonageServer) -> None:
    wrong = VonageCarrier(api_key=API_KEY, api_secret="WrongSecret00000", api_base_url=fake.url)

    with pytest.raises(CarrierError) as caught:
        wrong.send(request())

    assert (caught.value.code, caught.value.transient) == ("config", False)
    assert not fake.deliveries


def test_down_is_retried_and_missing_credentials_make_no_call(fake: FakeVonageServer) -> None:
    fake.set_mode("down")
    with pytest.raises(CarrierError) as down:
        adapter(fake.url).send(request())
    assert down.value.transient

    fake.set_mode("normal")
    before = len(fake.requests)
    with pytest.raises(CarrierError) as unconfigured:
        VonageCarrier(api_base_url=fake.url).send(request())
    assert (unconfigured.value.code, unconfigured.value.transient) == ("config", False)
    assert len(fake.requests) == before


def test_the_secrets_stay_out_of_the_adapters_repr() -> None:
    shown = repr(adapter())
    assert API_SECRET not in shown and SIGNATURE_SECRET not in shown


# --- Numbers ------------------------------------------------------------------------------------


def test_numbers_are_searched_bought_and_linked_to_the_application(
    fake: FakeVonageServer,
) -> None:
    carrier = adapter(fake.url)

    offered = carrier.available_numbers("US", "646", 2)

    assert [n.number for n in offered] == ["+16465550100", "+16465550101"]
    search = fake.requests[0]
    assert (search.query["pattern"], search.query["search_pattern"]) == (["1646"], ["0"])
    assert search.query["features"] == ["SMS"]

    bought = carrier.provision_number("+16465550101")

    assert (bought.number, bought.carrier_number_id) == ("+16465550101", "16465550101")
    assert fake.state.owned_numbers["+16465550101"] == {"country": "US", "app_id": APPLICATION}
    with pytest.raises(CarrierError) as taken:
        carrier.provision_number("+16465550101")
    assert (taken.value.code, taken.value.transient) == ("vonage:420", False)


def test_a_refused_search_is_reported(fake: FakeVonageServer) -> None:
    wrong = VonageCarrier(api_key=API_KEY, api_secret="WrongSecret00000", rest_base_url=fake.url)
    with pytest.raises(CarrierError) as caught:
        wrong.available_numbers("US", None, 5)
    assert caught.value.code == "config"


def test_a_real_clock_is_used_by_default() -> None:
    body = fixture("inbound_sms.json")
    carrier = VonageCarrier(api_key=API_KEY, signature_secret=SIGNATURE_SECRET)
    assert carrier.verify_signature(webhook(body, f"Bearer {token(body, iat=int(time.time()))}"))
