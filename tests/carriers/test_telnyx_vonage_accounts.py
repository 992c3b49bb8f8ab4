"""Telnyx and Vonage carrier accounts end to end, with fakes of their APIs: a webhook to the
account's URL goes through the real view (and the web server's path), is stored once, and the
worker's processing puts the text in the inbox or moves the message; sends go out with the
account's credentials; numbers are searched and bought through Settings → Numbers → Add."""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import pytest
from asgiref.sync import async_to_sync
from bench.fakes.carrier_server import FakeCarrierServer
from bench.fakes.telnyx_api import FakeTelnyxServer
from bench.fakes.vonage_api import FakeVonageServer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.test import Client

from tests.messaging import send_steps
from twoway.accounts.models import Organization
from twoway.carrier_accounts.models import CarrierAccount
from twoway.carrier_accounts.selectors import carrier_account_uncache
from twoway.carrier_accounts.services import carrier_account_create
from twoway.carrier_events.models import CarrierEvent, EventKind
from twoway.carrier_events.processing import carrier_events_process_pending
from twoway.carriers.registry import get_carrier
from twoway.conversations.models import Direction, Message, Status
from twoway.messaging import claiming
from twoway.messaging.services import message_send
from twoway.numbers.models import PhoneNumber

from .test_webhook_path import call, scope

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
TELNYX_KEY = Ed25519PrivateKey.generate()
TELNYX_PUBLIC = base64.b64encode(TELNYX_KEY.public_key().public_bytes_raw()).decode()
VONAGE_SIGNATURE_SECRET = "vonage-signature-secret-of-this-account-0001"


@dataclass(frozen=True)
class Scheme:
    """One carrier's side of these tests."""

    slug: str
    credentials: dict[str, str]
    server: Callable[[], FakeCarrierServer]
    sign: Callable[[bytes, float], dict[str, str]]  # body, when → the signing headers
    inbound: str  # the recorded incoming text
    delivered: str  # the recorded delivery report (MESSAGE_ID to fill in)
    failed: str
    failed_code: str
    own_number: str  # the number the recorded text went to
    handset: str  # the number it came from


def telnyx_headers(body: bytes, at: float) -> dict[str, str]:
    timestamp = str(int(at))
    signature = TELNYX_KEY.sign(timestamp.encode() + b"|" + body)
    return {
        "telnyx-timestamp": timestamp,
        "telnyx-signature-ed25519": base64.b64encode(signature).decode(),
    }


def vonage_headers(body: bytes, at: float) -> dict[str, str]:
    claims = {
        "iat": int(at),
        "jti": str(uuid.uuid4()),
        "iss": "Vonage",
        "payload_hash": hashlib.sha256(body).hexdigest(),
        "api_key": "a1b2c3d4",
    }
    token = jwt.encode(claims, VONAGE_SIGNATURE_SECRET, algorithm="HS256")
    return {"authorization": f"Bearer {token}"}


SCHEMES = {
    "telnyx": Scheme(
        slug="telnyx",
        credentials={
            "api_key": "KEY0193A1B2C3D4E5F6_abcdefghijklmnop",
            "public_key": TELNYX_PUBLIC,
            "messaging_profile_id": "40017a4c-8d5e-4b5e-9c1a-2f6f1e3b9a10",
        },
        server=lambda: FakeTelnyxServer(api_key="KEY0193A1B2C3D4E5F6_abcdefghijklmnop"),
        sign=telnyx_headers,
        inbound="telnyx/message_received.json",
        delivered="telnyx/message_finalized_delivered.json",
        failed="telnyx/message_finalized_failed_40300.json",
        failed_code="21610",
        own_number="+14155550190",
        handset="+12025550135",
    ),
    "vonage": Scheme(
        slug="vonage",
        credentials={
            "api_key": "a1b2c3d4",
            "api_secret": "Secret0123456789",
            "signature_secret": VONAGE_SIGNATURE_SECRET,
            "application_id": "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee",
        },
        server=lambda: FakeVonageServer(api_key="a1b2c3d4", api_secret="Secret0123456789"),
        sign=vonage_headers,
        inbound="vonage/inbound_sms.json",
        delivered="vonage/status_delivered.json",
        failed="vonage/status_rejected_1250.json",
        failed_code="vonage:1250",
        own_number="+14155550191",
        handset="+12025550136",
    ),
}


@pytest.fixture(params=sorted(SCHEMES))
def scheme(request: pytest.FixtureRequest) -> Scheme:
    return SCHEMES[request.param]


@pytest.fixture
def fake(scheme: Scheme, settings: Any) -> Iterator[FakeCarrierServer]:
    """The carrier's fake API for every account of it; Twoway's public address is known."""
    with scheme.server() as server:
        config = dict(settings.TWOWAY_CARRIER_CONFIG)
        base = {"api_base_url": server.url, "timeout": 1.0}
        if scheme.slug == "vonage":
            base["rest_base_url"] = server.url
        config[scheme.slug] = base
        settings.TWOWAY_CARRIER_CONFIG = config
        settings.TWOWAY_PUBLIC_URL = "https://texts.example.com"
        get_carrier.cache_clear()
        carrier_account_uncache()
        yield server
        get_carrier.cache_clear()
        carrier_account_uncache()


@pytest.fixture
def account(org: Organization, scheme: Scheme, fake: FakeCarrierServer) -> CarrierAccount:
    return carrier_account_create(
        actor=None,
        organization=org,
        carrier=scheme.slug,
        name=f"Main {scheme.slug}",
        credentials=scheme.credentials,
    )


@pytest.fixture
def held_number(org: Organization, account: CarrierAccount, scheme: Scheme) -> PhoneNumber:
    return PhoneNumber.objects.create(
        organization=org,
        number=scheme.own_number,
        carrier=scheme.slug,
        carrier_account=account,
        mps_limit=100,
    )


def body_of(name: str, message_id: str = "", **changes: Any) -> bytes:
    text = (FIXTURES / name).read_text().replace("MESSAGE_ID", message_id)
    return text.encode() if not changes else json.dumps({**json.loads(text), **changes}).encode()


def post(scheme: Scheme, path: str, body: bytes, *, at: float | None = None, **headers: str):
    signing = scheme.sign(body, time.time() if at is None else at)
    signing.update(headers)
    return Client().post(path, data=body, content_type="application/json", headers=signing)


# --- Webhooks -----------------------------------------------------------------------------------

pytestmark = pytest.mark.django_db


def test_an_incoming_text_lands_in_the_inbox(
    scheme: Scheme, account: CarrierAccount, held_number: PhoneNumber, admin_client: Client
) -> None:
    response = post(scheme, account.webhook_path, body_of(scheme.inbound))

    assert response.status_code == 200
    event = CarrierEvent.objects.get()
    assert (event.carrier, event.kind, event.carrier_account_id) == (
        scheme.slug,
        EventKind.INBOUND,
        account.pk,
    )
    assert carrier_events_process_pending() == 1
    message = Message.objects.get()
    assert (message.direction, message.from_number) == (Direction.INBOUND, scheme.handset)
    assert message.conversation.phone_number == held_number
    inbox = admin_client.get(f"/inbox/c/{message.conversation_id}/")
    assert inbox.status_code == 200
    assert message.body in inbox.content.decode()


def test_a_repeated_webhook_is_stored_once(
    scheme: Scheme, account: CarrierAccount, held_number: PhoneNumber
) -> None:
    body = body_of(scheme.inbound)
    assert post(scheme, account.webhook_path, body).status_code == 200
    assert post(scheme, account.webhook_path, body).status_code == 200

    assert CarrierEvent.objects.count() == 1
    carrier_events_process_pending()
    assert Message.objects.count() == 1


def test_a_bad_signature_is_403_with_nothing_stored(
    scheme: Scheme, account: CarrierAccount, held_number: PhoneNumber
) -> None:
    body = body_of(scheme.inbound)
    signed_for_other = scheme.sign(body_of(scheme.delivered, "x"), time.time())

    response = post(scheme, account.webhook_path, body, **signed_for_other)

    assert (response.status_code, response.content) == (403, b"Invalid signature.")
    unsigned = Client().post(account.webhook_path, data=body, content_type="application/json")
    assert unsigned.status_code == 403
    assert not CarrierEvent.objects.exists()


def test_a_stale_webhook_is_403_with_nothing_stored(
    scheme: Scheme, account: CarrierAccount, held_number: PhoneNumber
) -> None:
    response = post(scheme, account.webhook_path, body_of(scheme.inbound), at=time.time() - 301)

    assert response.status_code == 403
    assert not CarrierEvent.objects.exists()


def test_a_malformed_but_signed_webhook_is_400_and_kept_for_a_look(
    scheme: Scheme, account: CarrierAccount
) -> None:
    response = post(scheme, account.webhook_path, b'{"data": "nothing like a text"}')

    assert response.status_code == 400
    assert response.content.decode().startswith("Malformed webhook: ")
    assert not Message.objects.exists()


def send(number: PhoneNumber, to: str) -> Message:
    message = message_send(phone_number=number, to=to, body="Your table is ready")
    for claim in claiming.claim_due(limit=10):
        send_steps.send_claimed(claim)
    return Message.objects.get(pk=message.pk)


def test_a_send_goes_out_with_the_account_and_its_report_moves_the_message(
    scheme: Scheme, fake: FakeCarrierServer, account: CarrierAccount, held_number: PhoneNumber
) -> None:
    message = send(held_number, scheme.handset)

    assert message.status == Status.SENT
    [delivery] = fake.deliveries
    assert message.carrier_message_id == delivery.message_id
    callback = f"https://texts.example.com/webhooks/{scheme.slug}/{account.webhook_key}/"
    assert delivery.extra["webhook_url"] == callback

    report = body_of(scheme.delivered, delivery.message_id)
    assert post(scheme, account.webhook_path, report).status_code == 200
    carrier_events_process_pending()

    assert Message.objects.get(pk=message.pk).status == Status.DELIVERED


def test_a_failure_report_fails_the_message_with_a_plain_reason(
    scheme: Scheme, fake: FakeCarrierServer, account: CarrierAccount, held_number: PhoneNumber
) -> None:
    message = send(held_number, scheme.handset)

    report = body_of(scheme.failed, message.carrier_message_id)
    assert post(scheme, account.webhook_path, report).status_code == 200
    carrier_events_process_pending()

    message.refresh_from_db()
    assert message.status in (Status.FAILED, Status.UNDELIVERED)
    assert message.error_code == scheme.failed_code
    assert message.error_message and "reported error" not in message.error_message


def test_a_refused_send_fails_the_message_with_the_carriers_reason(
    scheme: Scheme, fake: FakeCarrierServer, account: CarrierAccount, held_number: PhoneNumber
) -> None:
    fake.set_mode("reject", code="40310" if scheme.slug == "telnyx" else "1240", status=422)

    message = send(held_number, scheme.handset)

    assert message.status == Status.FAILED
    assert message.error_code in ("21211", "vonage:1240")
    assert message.error_message == "The number is not a valid phone number."


@pytest.mark.django_db(transaction=True)
def test_the_web_servers_webhook_path_stores_it_too(
    scheme: Scheme, account: CarrierAccount, held_number: PhoneNumber, asgi_application: Any
) -> None:
    body = body_of(scheme.inbound)
    signing = [(k.encode(), v.encode()) for k, v in scheme.sign(body, time.time()).items()]
    request_scope = scope(account.webhook_path, headers=signing)
    request_scope["headers"] = [
        (name, b"application/json" if name == b"content-type" else value)
        for name, value in request_scope["headers"]
    ]

    # An account not looked up lately is read on a thread; the second request finds it cached.
    for _ in range(2):
        status, _ = async_to_sync(call)(asgi_application, request_scope, [body])
        assert status == 200

    assert CarrierEvent.objects.filter(carrier_account_id=account.pk).count() == 1
    unsigned = [h for h in request_scope["headers"] if h not in signing]
    bad = dict(request_scope, headers=unsigned)
    status, content = async_to_sync(call)(asgi_application, bad, [body])
    assert (status, content) == (403, b"Invalid signature.")


# --- Settings → Numbers → Add -----------------------------------------------------------------

ADD = "/settings/numbers/add/"


def test_a_number_is_searched_and_bought_through_the_account(
    scheme: Scheme, fake: FakeCarrierServer, admin_client: Client, account: CarrierAccount
) -> None:
    source = f"{scheme.slug}@{account.pk}"
    page = admin_client.get(ADD).content.decode()
    assert f'value="{source}"' in page

    search = admin_client.get(ADD, {"carrier": source, "area_code": "646"})

    assert search.status_code == 200
    assert "+16465550100" in search.content.decode() or "(646) 555-0100" in (
        search.content.decode()
    )
    response = admin_client.post(
        f"{ADD}?carrier={source}&area_code=646",
        {"carrier": source, "number": "+16465550104", "label": f"Own {scheme.slug}"},
    )

    assert response.status_code == 302
    number = PhoneNumber.objects.get(number="+16465550104")
    assert (number.carrier, number.carrier_account_id) == (scheme.slug, account.pk)
    assert "+16465550104" in fake.state.owned_numbers


def test_a_refused_purchase_says_why_and_adds_nothing(
    scheme: Scheme, fake: FakeCarrierServer, admin_client: Client, account: CarrierAccount
) -> None:
    source = f"{scheme.slug}@{account.pk}"
    fake.set_mode("reject", code="10015" if scheme.slug == "telnyx" else "420", status=422)

    response = admin_client.post(ADD, {"carrier": source, "number": "+16465550104"})

    assert response.status_code == 422
    assert f"{scheme.slug.capitalize()} could not provide" in response.content.decode()
    assert not PhoneNumber.objects.filter(number="+16465550104").exists()


# --- Settings → Carrier accounts --------------------------------------------------------------

SECRET_FIELDS = {"telnyx": ("api_key",), "vonage": ("api_secret", "signature_secret")}


def test_an_account_is_added_in_the_settings_and_shown_masked(
    scheme: Scheme, admin_client: Client
) -> None:
    add = f"/settings/carrier-accounts/add/{scheme.slug}/"
    form = admin_client.get(add).content.decode()
    for name in SECRET_FIELDS[scheme.slug]:
        assert f'type="password" name="{name}"' in form

    response = admin_client.post(add, {"name": "Front desk", **scheme.credentials})

    assert response.status_code == 302
    account = CarrierAccount.objects.get()
    assert (account.carrier, account.credentials()) == (scheme.slug, scheme.credentials)
    page = admin_client.get(response["Location"]).content.decode()
    assert account.webhook_path in page
    for name in SECRET_FIELDS[scheme.slug]:
        assert scheme.credentials[name] not in page
        assert scheme.credentials[name][:8] not in page


@pytest.mark.parametrize(
    ("slug", "field", "value", "shape"),
    [
        ("telnyx", "public_key", "not-a-key", "44 characters of base64"),
        ("telnyx", "api_key", "sk_live_123", "KEY followed by"),
        ("vonage", "application_id", "my-app", "a UUID"),
    ],
)
def test_a_credential_of_the_wrong_shape_is_refused_saying_what_it_looks_like(
    admin_client: Client, slug: str, field: str, value: str, shape: str
) -> None:
    credentials = {**SCHEMES[slug].credentials, field: value}

    response = admin_client.post(
        f"/settings/carrier-accounts/add/{slug}/", {"name": "Front desk", **credentials}
    )

    assert response.status_code == 422
    assert shape in response.content.decode()
    assert not CarrierAccount.objects.exists()
