"""Webhooks to a carrier account's URL, /webhooks/<carrier>/<account>/, through Django's view and
the web server's path (`twoway.asgi.WebhookPath`): verified with that account's credentials,
stored with the account, and acting on its numbers only. The operator's URL works as before."""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import pytest
from asgiref.sync import async_to_sync
from django.http import HttpResponse
from django.test import Client
from twilio.request_validator import RequestValidator

from twoway.accounts.models import Organization
from twoway.carrier_accounts.models import CarrierAccount
from twoway.carrier_accounts.services import carrier_account_delete, carrier_account_update
from twoway.carrier_events.models import CarrierEvent, EventKind
from twoway.carrier_events.processing import carrier_events_process_pending
from twoway.carriers.twilio.adapter import EMPTY_TWIML
from twoway.conversations.models import Direction, Message, Status
from twoway.messaging.services import message_send
from twoway.numbers.models import PhoneNumber

from .conftest import OTHER_TOKEN, TOKEN

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "twilio"
FORM = "application/x-www-form-urlencoded"
ENV_TOKEN = "webhook-test-operator-auth-token"
HANDSET = "+12025550172"
OWN_NUMBER = "+14155550123"  # the To of the recorded inbound text
SENT_SID = "SMb2d4f6a8c0e14a3b9d7f5e3c1a0b2d4f"  # the MessageSid of the recorded reports


@pytest.fixture(autouse=True)
def operator_twilio(settings) -> None:
    config = dict(settings.TWOWAY_CARRIER_CONFIG)
    config["twilio"] = {**config["twilio"], "auth_token": ENV_TOKEN}
    settings.TWOWAY_CARRIER_CONFIG = config
    settings.TWOWAY_PUBLIC_URL = ""  # Twilio signed the URL the request came to


@pytest.fixture
def held_number(org: Organization, account: CarrierAccount) -> PhoneNumber:
    """The number the recorded inbound text went to, held in the organization's account."""
    return PhoneNumber.objects.create(
        organization=org,
        number=OWN_NUMBER,
        carrier="twilio",
        carrier_account=account,
        mps_limit=100,
    )


def recorded(name: str, **changes: str) -> str:
    form = dict(parse_qsl((FIXTURES / name).read_text().strip(), keep_blank_values=True))
    form.update(changes)
    return urlencode(form)


def inbound(sid: str = "SM8a1f4c2e9b7d4e30a6f15c28d9e3b7a1", **changes: str) -> str:
    return recorded("inbound_sms.txt", MessageSid=sid, SmsSid=sid, SmsMessageSid=sid, **changes)


def sign(body: str, path: str, token: str) -> str:
    params = dict(parse_qsl(body, keep_blank_values=True))
    return RequestValidator(token).compute_signature(f"http://testserver{path}", params)


def post(body: str, path: str, token: str) -> HttpResponse:
    return Client().post(
        path, data=body, content_type=FORM, HTTP_X_TWILIO_SIGNATURE=sign(body, path, token)
    )


# --- Django's view ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_webhook_signed_with_the_accounts_token_is_stored_with_the_account(
    account: CarrierAccount, held_number: PhoneNumber
) -> None:
    response = post(inbound(), account.webhook_path, TOKEN)

    assert (response.status_code, response.content.decode()) == (200, EMPTY_TWIML)
    event = CarrierEvent.objects.get()
    assert (event.carrier, event.kind, event.carrier_account_id) == (
        "twilio",
        EventKind.INBOUND,
        account.pk,
    )
    assert carrier_events_process_pending() == 1
    message = Message.objects.get()
    assert message.direction == Direction.INBOUND
    assert message.conversation.phone_number == held_number
    event.refresh_from_db()
    assert event.failed_at is None


@pytest.mark.django_db
@pytest.mark.parametrize("token", [ENV_TOKEN, OTHER_TOKEN, TOKEN[:-1] + "0"])
def test_a_webhook_not_signed_with_the_accounts_token_is_403(
    account: CarrierAccount, held_number: PhoneNumber, token: str
) -> None:
    response = post(inbound(), account.webhook_path, token)

    assert (response.status_code, response.content.decode()) == (403, "Invalid signature.")
    assert not CarrierEvent.objects.exists()


@pytest.mark.django_db
def test_an_unknown_account_is_404_with_nothing_stored(
    account: CarrierAccount, other_account: CarrierAccount, held_number: PhoneNumber
) -> None:
    for path in (
        "/webhooks/twilio/no-such-account-key/",
        f"/webhooks/simulator/{account.webhook_key}/",  # the key of another carrier's account
        f"/webhooks/nosuch/{account.webhook_key}/",
        f"/webhooks/twilio/{account.pk}/",  # its id is not its key
    ):
        response = post(inbound(), path, TOKEN)
        assert (response.status_code, path) == (404, path)
    assert post(inbound(), "/webhooks/twilio/nope/", TOKEN).content == b"No such carrier account."
    assert not CarrierEvent.objects.exists()


@pytest.mark.django_db
def test_the_operators_url_still_takes_the_settings_token(twilio_number: PhoneNumber) -> None:
    """A number in no account, on /webhooks/twilio/ with TWILIO_AUTH_TOKEN, exactly as before."""
    assert post(inbound(), "/webhooks/twilio/", TOKEN).status_code == 403

    response = post(inbound(), "/webhooks/twilio/", ENV_TOKEN)

    assert response.status_code == 200
    event = CarrierEvent.objects.get()
    assert event.carrier_account_id is None
    carrier_events_process_pending()
    assert Message.objects.get().conversation.phone_number == twilio_number


@pytest.mark.django_db
def test_replaced_credentials_sign_from_the_commit_on_and_a_deleted_account_is_404(
    admin, account: CarrierAccount, held_number: PhoneNumber, django_capture_on_commit_callbacks
) -> None:
    path = account.webhook_path
    assert post(inbound("SM" + "1" * 32), path, TOKEN).status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        carrier_account_update(
            actor=admin, account=account, credentials={"auth_token": OTHER_TOKEN}
        )

    assert post(inbound("SM" + "2" * 32), path, TOKEN).status_code == 403
    assert post(inbound("SM" + "2" * 32), path, OTHER_TOKEN).status_code == 200

    held_number.delete()
    with django_capture_on_commit_callbacks(execute=True):
        carrier_account_delete(actor=admin, account=account)

    assert post(inbound("SM" + "3" * 32), path, OTHER_TOKEN).status_code == 404
    assert CarrierEvent.objects.count() == 2


# --- What an account's webhook may act on ---------------------------------------------------------


@pytest.mark.django_db
def test_an_accounts_webhook_never_reaches_another_accounts_number(
    account: CarrierAccount,
    other_account: CarrierAccount,
    held_number: PhoneNumber,
    other_org: Organization,
) -> None:
    """Whoever holds an account's token signs what comes to its webhook: a text naming another
    organization's number (or one in no account) is refused, the texts to its own delivered."""
    theirs = PhoneNumber.objects.create(
        organization=other_org,
        number="+14155550124",
        carrier="twilio",
        carrier_account=other_account,
    )
    operators = PhoneNumber.objects.create(
        organization=other_org, number="+14155550125", carrier="twilio"
    )
    bodies = [
        inbound("SM" + "a" * 32),
        inbound("SM" + "b" * 32, To=theirs.number),
        inbound("SM" + "c" * 32, To=operators.number),
        inbound("SM" + "d" * 32),
    ]
    for body in bodies:
        assert post(body, account.webhook_path, TOKEN).status_code == 200

    carrier_events_process_pending()

    delivered = Message.objects.filter(direction=Direction.INBOUND)
    assert sorted(delivered.values_list("carrier_message_id", flat=True)) == [
        "SM" + "a" * 32,
        "SM" + "d" * 32,
    ]
    assert set(delivered.values_list("organization_id", flat=True)) == {held_number.organization_id}
    failed = CarrierEvent.objects.filter(failed_at__isnull=False)
    assert sorted(failed.values_list("dedupe_key", flat=True)) == ["SM" + "b" * 32, "SM" + "c" * 32]
    assert all("does not hold" in event.error for event in failed)


@pytest.mark.django_db
def test_an_accounts_webhook_reports_only_on_its_own_numbers_sends(
    account: CarrierAccount, other_account: CarrierAccount, other_org: Organization
) -> None:
    theirs = PhoneNumber.objects.create(
        organization=other_org,
        number="+14155550124",
        carrier="twilio",
        carrier_account=other_account,
    )
    message = message_send(phone_number=theirs, to=HANDSET, body="Your order is ready.")
    Message.objects.filter(pk=message.pk).update(
        carrier_message_id=SENT_SID, status=Status.SENT, carrier="twilio"
    )

    assert post(recorded("status_delivered.txt"), account.webhook_path, TOKEN).status_code == 200
    carrier_events_process_pending()

    assert Message.objects.get(pk=message.pk).status == Status.SENT
    assert "does not hold" in CarrierEvent.objects.get(kind=EventKind.STATUS).error

    # Through its own account's webhook the same report applies.
    CarrierEvent.objects.filter(kind=EventKind.STATUS).delete()
    report = recorded("status_delivered.txt")
    assert post(report, other_account.webhook_path, OTHER_TOKEN).status_code == 200
    carrier_events_process_pending()
    assert Message.objects.get(pk=message.pk).status == Status.DELIVERED


# --- The web server's path ----------------------------------------------------------------------


@pytest.fixture
def asgi_application(monkeypatch):
    monkeypatch.setenv("TWOWAY_CONN_MAX_AGE", "0")
    from twoway.asgi import application, webhook_application

    yield application
    webhook_application.recorder.release()


def scope(path: str, signature: str) -> dict:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", FORM.encode()),
            (b"x-twilio-signature", signature.encode()),
        ],
        "client": ("127.0.0.1", 40000),
        "server": ("testserver", 80),
    }


def asgi_post(application, body: str, path: str, token: str) -> tuple[int, str]:
    sent: list[dict] = []
    messages = [{"type": "http.request", "body": body.encode(), "more_body": False}]

    async def receive() -> dict:
        if messages:
            return messages.pop(0)
        await asyncio.Event().wait()
        return {}

    async def send(message: dict) -> None:
        sent.append(message)

    async_to_sync(application)(scope(path, sign(body, path, token)), receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    content = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], content.decode()


@pytest.mark.django_db(transaction=True)
def test_the_web_servers_path_answers_an_accounts_webhook_as_the_view_does(
    asgi_application, account: CarrierAccount, held_number: PhoneNumber, monkeypatch
) -> None:
    from twoway import asgi

    reads: list[str] = []
    read = asgi._target_from_database

    def counted(carrier: str, key: str):
        reads.append(key)
        return read(carrier, key)

    monkeypatch.setattr(asgi, "_target_from_database", counted)
    path = account.webhook_path

    assert asgi_post(asgi_application, inbound("SM" + "1" * 32), path, TOKEN) == (200, EMPTY_TWIML)
    assert asgi_post(asgi_application, inbound("SM" + "2" * 32), path, TOKEN) == (200, EMPTY_TWIML)
    # The account was read once; the second webhook was answered from memory, on the loop.
    assert reads == [account.webhook_key]
    stored = CarrierEvent.objects.order_by("id")
    assert [(e.dedupe_key, e.carrier_account_id) for e in stored] == [
        ("SM" + "1" * 32, account.pk),
        ("SM" + "2" * 32, account.pk),
    ]

    assert asgi_post(asgi_application, inbound("SM" + "3" * 32), path, ENV_TOKEN) == (
        403,
        "Invalid signature.",
    )
    assert asgi_post(
        asgi_application, inbound("SM" + "4" * 32), "/webhooks/twilio/nope/", TOKEN
    ) == (
        404,
        "No such carrier account.",
    )
    assert asgi_post(
        asgi_application,
        inbound("SM" + "5" * 32),
        f"/webhooks/simulator/{account.webhook_key}/",
        TOKEN,
    ) == (404, "No such carrier account.")
    assert CarrierEvent.objects.count() == 2

    carrier_events_process_pending()
    assert Message.objects.filter(conversation__phone_number=held_number).count() == 2


@pytest.mark.django_db(transaction=True)
def test_the_web_servers_path_takes_new_credentials_at_once_and_the_operators_url_as_before(
    asgi_application,
    admin,
    account: CarrierAccount,
    held_number: PhoneNumber,
    twilio_number_elsewhere,
) -> None:
    path = account.webhook_path
    assert asgi_post(asgi_application, inbound("SM" + "1" * 32), path, TOKEN)[0] == 200

    carrier_account_update(actor=admin, account=account, credentials={"auth_token": OTHER_TOKEN})

    assert asgi_post(asgi_application, inbound("SM" + "2" * 32), path, TOKEN)[0] == 403
    assert asgi_post(asgi_application, inbound("SM" + "2" * 32), path, OTHER_TOKEN)[0] == 200
    body = inbound("SM" + "3" * 32, To=twilio_number_elsewhere.number)
    assert asgi_post(asgi_application, body, "/webhooks/twilio/", ENV_TOKEN)[0] == 200
    assert asgi_post(asgi_application, body, "/webhooks/twilio/", OTHER_TOKEN)[0] == 403
    assert list(
        CarrierEvent.objects.order_by("id").values_list("carrier_account_id", flat=True)
    ) == [
        account.pk,
        account.pk,
        None,
    ]


@pytest.fixture
def twilio_number_elsewhere(org: Organization) -> PhoneNumber:
    """A Twilio number in no account: the operator's settings serve it."""
    return PhoneNumber.objects.create(
        organization=org, number="+14155550126", carrier="twilio", mps_limit=100
    )
