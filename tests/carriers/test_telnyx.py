"""The Telnyx adapter against a local fake of its API and recorded webhooks: sends and their
errors, the Ed25519 signature (with the published test vector), webhook parsing, numbers."""

from __future__ import annotations

import base64
import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from bench.fakes.telnyx_api import FakeTelnyxServer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from twoway.carriers.base import (
    CarrierError,
    InboundMessage,
    SendRequest,
    StatusUpdate,
    WebhookParseError,
    WebhookRequest,
)
from twoway.carriers.errors import explain
from twoway.carriers.telnyx.adapter import TelnyxCarrier

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "telnyx"
API_KEY = "KEY0193A1B2C3D4E5F6_abcdefghijklmnop"
PROFILE = "40017a4c-8d5e-4b5e-9c1a-2f6f1e3b9a10"

# The published vector: RFC 8032's first test key, a timestamp and a body Telnyx's scheme signs.
SEED = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
VECTOR_PUBLIC_KEY = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
VECTOR_TIMESTAMP = "1700000000"
VECTOR_BODY = (
    b'{"data":{"event_type":"message.received","id":"bf6307bd-884d-4c1f-b6ea-c62b8c495d3c",'
    b'"payload":{"text":"STOP"}}}'
)
VECTOR_SIGNATURE = (
    "+fvUDA0FmXtixyaMoi/pKmJzPITfhNPyEPdPeCWeo6xT1QQwt51D0PwTBGg7EwOAwS8SBD02ft3m96MgVJfiBQ=="
)


def signed(body: bytes, timestamp: str, key: Ed25519PrivateKey | None = None) -> WebhookRequest:
    key = key or Ed25519PrivateKey.from_private_bytes(SEED)
    signature = base64.b64encode(key.sign(timestamp.encode() + b"|" + body)).decode()
    return WebhookRequest(
        url="https://texts.example.com/webhooks/telnyx/k/",
        method="POST",
        headers={
            "content-type": "application/json",
            "telnyx-timestamp": timestamp,
            "telnyx-signature-ed25519": signature,
        },
        body=body,
        form={},
    )


def adapter(url: str = "http://127.0.0.1:9", *, now: float = 1700000000.0) -> TelnyxCarrier:
    return TelnyxCarrier(
        api_key=API_KEY,
        public_key=VECTOR_PUBLIC_KEY,
        messaging_profile_id=PROFILE,
        api_base_url=url,
        timeout=1.0,
        clock=lambda: now,
    )


@pytest.fixture
def fake() -> Iterator[FakeTelnyxServer]:
    with FakeTelnyxServer(api_key=API_KEY) as server:
        yield server


def fixture(name: str, message_id: str = "40385f64-5717-4562-b3fc-2c963f66afa6") -> bytes:
    return (FIXTURES / name).read_text().replace("MESSAGE_ID", message_id).encode()


# --- The signature ------------------------------------------------------------------------------


def test_the_published_vector_verifies() -> None:
    request = WebhookRequest(
        url="https://x/",
        method="POST",
        headers={
            "telnyx-timestamp": VECTOR_TIMESTAMP,
            "telnyx-signature-ed25519": VECTOR_SIGNATURE,
        },
        body=VECTOR_BODY,
        form={},
    )
    assert adapter().verify_signature(request)
    # The test key signs the same bytes to the same signature (Ed25519 is deterministic).
    assert signed(VECTOR_BODY, VECTOR_TIMESTAMP).headers["telnyx-signature-ed25519"] == (
        VECTOR_SIGNATURE
    )


@pytest.mark.parametrize(
    "change",
    [
        {"body": VECTOR_BODY.replace(b"STOP", b"STAR")},  # the body changed
        {"timestamp": "1700000001"},  # the timestamp changed: it is signed too
        {"signature": VECTOR_SIGNATURE[:-4] + "AAA="},
        {"signature": "not base64!"},
        {"signature": ""},
        {"timestamp": ""},
    ],
)
def test_anything_changed_in_the_vector_fails(change: dict[str, object]) -> None:
    request = WebhookRequest(
        url="https://x/",
        method="POST",
        headers={
            "telnyx-timestamp": str(change.get("timestamp", VECTOR_TIMESTAMP)),
            "telnyx-signature-ed25519": str(change.get("signature", VECTOR_SIGNATURE)),
        },
        body=bytes(change.get("body", VECTOR_BODY)),  # type: ignore[call-overload]
        form={},
    )
    assert not adapter(now=1700000000.0).verify_signature(request)


@pytest.mark.parametrize(
    ("now", "valid"),
    [(1700000000 + 300, True), (1700000000 + 301, False), (1700000000 - 301, False)],
)
def test_a_timestamp_more_than_five_minutes_off_is_refused(now: float, valid: bool) -> None:
    assert adapter(now=now).verify_signature(signed(VECTOR_BODY, VECTOR_TIMESTAMP)) is valid


def test_another_key_or_no_key_is_refused() -> None:
    request = signed(VECTOR_BODY, VECTOR_TIMESTAMP, Ed25519PrivateKey.generate())
    assert not adapter().verify_signature(request)
    unkeyed = TelnyxCarrier(api_key=API_KEY, public_key="", clock=lambda: 1700000000.0)
    assert not unkeyed.verify_signature(signed(VECTOR_BODY, VECTOR_TIMESTAMP))


# --- Webhooks -----------------------------------------------------------------------------------


def parse(body: bytes) -> object:
    return adapter().parse_webhook(signed(body, VECTOR_TIMESTAMP))


def test_an_incoming_text_parses() -> None:
    event = parse(fixture("message_received.json"))

    assert event == InboundMessage(
        carrier_message_id="b0c7e8f2-9a4d-4c1b-8e3f-5d6a7b8c9d0e",
        from_number="+12025550135",
        to_number="+14155550190",
        body="Is the 4pm slot still open?",
        raw=event.raw,  # type: ignore[attr-defined]
    )
    assert event.raw["event_type"] == "message.received"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("name", "status", "code"),
    [
        ("message_sent.json", "sent", ""),
        ("message_finalized_delivered.json", "delivered", ""),
        ("message_finalized_failed_40300.json", "undelivered", "21610"),
    ],
)
def test_delivery_reports_parse(name: str, status: str, code: str) -> None:
    event = parse(fixture(name, "m-1"))

    assert isinstance(event, StatusUpdate)
    assert (event.carrier_message_id, event.status, event.error_code) == ("m-1", status, code)


def test_a_send_that_failed_at_telnyx_and_an_unmapped_code() -> None:
    data = json.loads(fixture("message_finalized_failed_40300.json"))
    data["data"]["payload"]["to"][0]["status"] = "sending_failed"
    data["data"]["payload"]["errors"][0]["code"] = "40004"

    event = parse(json.dumps(data).encode())

    assert isinstance(event, StatusUpdate)
    assert (event.status, event.error_code) == ("failed", "telnyx:40004")
    assert explain(event.error_code) == (
        "The recipient's carrier rejected the message without saying why."
    )


def test_events_twoway_does_not_track_parse_to_none() -> None:
    data = json.loads(fixture("message_finalized_delivered.json"))
    data["data"]["payload"]["to"][0]["status"] = "delivery_unconfirmed"
    assert parse(json.dumps(data).encode()) is None
    call = {"data": {"event_type": "call.initiated", "id": "e", "payload": {"call_id": "c"}}}
    assert parse(json.dumps(call).encode()) is None


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"data": {"event_type": "message.received", "payload": {"text": "STOP"}}}',
        b'{"data": {"event_type": "message.received", "payload": "x"}}',
        b'{"data": {"event_type": "message.finalized", "payload": {"id": "m", "to": []}}}',
    ],
)
def test_a_malformed_webhook_is_a_parse_error(body: bytes) -> None:
    with pytest.raises(WebhookParseError):
        parse(body)


# --- Sending ------------------------------------------------------------------------------------


def request(**changes: str) -> SendRequest:
    fields = {
        "idempotency_key": "msg-1",
        "from_number": "+14155550190",
        "to_number": "+12025550135",
        "body": "Your table is ready",
        "status_callback_url": "https://texts.example.com/webhooks/telnyx/k/",
        **changes,
    }
    return SendRequest(**fields)  # type: ignore[arg-type]


def test_a_send_posts_the_message_and_returns_telnyx_id(fake: FakeTelnyxServer) -> None:
    result = adapter(fake.url).send(request())

    [delivery] = fake.deliveries
    assert result.carrier_message_id == delivery.message_id
    assert result.status == "sent"
    [sent] = fake.requests
    assert sent.headers["authorization"] == f"Bearer {API_KEY}"
    assert sent.json == {
        "from": "+14155550190",
        "to": "+12025550135",
        "text": "Your table is ready",
        "webhook_url": "https://texts.example.com/webhooks/telnyx/k/",
        "messaging_profile_id": PROFILE,
    }


@pytest.mark.parametrize(
    ("status", "telnyx_code", "code", "transient"),
    [
        (422, "40300", "21610", False),  # the recipient replied STOP: never retried
        (422, "40310", "21211", False),
        (422, "40013", "telnyx:40013", False),
        (400, "", "400", False),
        (403, "10010", "config", False),
        (429, "10011", "telnyx:10011", True),
        (503, "10007", "telnyx:10007", True),
    ],
)
def test_each_refusal_is_final_or_retried_with_its_code(
    fake: FakeTelnyxServer, status: int, telnyx_code: str, code: str, transient: bool
) -> None:
    fake.set_mode("reject", code=telnyx_code, status=status)

    with pytest.raises(CarrierError) as caught:
        adapter(fake.url).send(request())

    assert (caught.value.code, caught.value.transient) == (code, transient)
    assert f"Telnyx HTTP {status}" in str(caught.value)


def test_a_wrong_key_says_the_account_must_be_fixed(fake: FakeTelnyxServer) -> None:
    wrong = TelnyxCarrier(api_key="KEYwrongwrongwrong", api_base_url=fake.url, timeout=1)

    with pytest.raises(CarrierError) as caught:
        wrong.send(request())

    assert (caught.value.code, caught.value.transient) == ("config", False)
    assert "API key is missing or wrong" in str(caught.value)
    assert not fake.deliveries


def test_down_and_unreachable_are_retried(fake: FakeTelnyxServer) -> None:
    fake.set_mode("down")
    with pytest.raises(CarrierError) as down:
        adapter(fake.url).send(request())
    assert down.value.transient

    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    with pytest.raises(CarrierError) as unreachable:
        adapter(f"http://127.0.0.1:{port}").send(request())
    assert unreachable.value.transient
    assert "Could not reach Telnyx" in str(unreachable.value)


def test_no_key_is_a_configuration_error_without_a_call(fake: FakeTelnyxServer) -> None:
    with pytest.raises(CarrierError) as caught:
        TelnyxCarrier(api_base_url=fake.url).send(request())

    assert (caught.value.code, caught.value.transient) == ("config", False)
    assert not fake.requests


def test_the_key_stays_out_of_the_adapters_repr() -> None:
    assert API_KEY not in repr(adapter())


# --- Numbers ------------------------------------------------------------------------------------


def test_numbers_are_searched_and_ordered_into_the_profile(fake: FakeTelnyxServer) -> None:
    carrier = adapter(fake.url)

    offered = carrier.available_numbers("US", "646", 3)

    assert [n.number for n in offered] == ["+16465550100", "+16465550101", "+16465550102"]
    assert (offered[0].sms, offered[0].mms, offered[0].locality) == (True, True, "Fakeville, CA")
    search = fake.requests[0]
    assert search.query["filter[national_destination_code]"] == ["646"]
    assert search.query["filter[features][]"] == ["sms"]

    bought = carrier.provision_number("+16465550101")

    assert bought.number == "+16465550101"
    assert bought.carrier_number_id
    assert fake.state.owned_numbers["+16465550101"]["messaging_profile_id"] == PROFILE
    assert "+16465550101" not in [n.number for n in carrier.available_numbers("US", "646", 3)]
    with pytest.raises(CarrierError) as taken:
        carrier.provision_number("+16465550101")
    assert not taken.value.transient
