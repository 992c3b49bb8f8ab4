"""The web server's webhook path (`twoway.asgi.WebhookPath`): concurrent webhooks stored together,
each answered only once stored, and every refusal the same as the view's."""

from __future__ import annotations

import asyncio
import time
from urllib.parse import parse_qsl, urlencode

import pytest
from asgiref.sync import async_to_sync
from django.db import connection

from twoway.carrier_events import store as event_store
from twoway.carrier_events.models import CarrierEvent, EventKind
from twoway.carriers.twilio.adapter import EMPTY_TWIML
from twoway.numbers.models import PhoneNumber

# The Twilio settings of those tests (autouse), and their helpers.
from .test_webhooks import FORM, kept_raw_only, nothing_stored, recorded, sign, twilio_configured  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


def inbound_body(sid: str) -> str:
    """The recorded inbound text, as another message (its own MessageSid)."""
    form = dict(parse_qsl(recorded("inbound_sms.txt"), keep_blank_values=True))
    form.update(MessageSid=sid, SmsSid=sid, SmsMessageSid=sid)
    return urlencode(form)


def scope(path: str, method: str = "POST", headers=(), host: bytes = b"testserver") -> dict:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", host), (b"content-type", FORM.encode()), *headers],
        "client": ("127.0.0.1", 40000),
        "server": ("testserver", 80),
    }


async def call(application, request_scope: dict, chunks: list[bytes]) -> tuple[int, bytes]:
    """One request: the body in `chunks`; (status, body) of the answer."""
    messages = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
        for i, chunk in enumerate(chunks)
    ]
    sent: list[dict] = []

    async def receive() -> dict:
        if messages:
            return messages.pop(0)
        await asyncio.Event().wait()  # the client stays connected
        return {}

    async def send(message: dict) -> None:
        sent.append(message)

    await application(request_scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], body


def post_signed(application, body: str, **scope_args) -> tuple[int, str]:
    headers = [(b"x-twilio-signature", sign(body).encode())]
    request_scope = scope("/webhooks/twilio/", headers=headers, **scope_args)
    status, content = async_to_sync(call)(application, request_scope, [body.encode()])
    return status, content.decode()


def test_concurrent_webhooks_are_stored_once_each_with_few_statements(
    asgi_application, twilio_number: PhoneNumber, monkeypatch
) -> None:
    from twoway.asgi import webhook_application

    waiting = webhook_application.recorder._queue
    batches: list[int] = []
    store = event_store.carrier_events_store

    def counting_store(rows):
        if not batches:  # the first commit is slow: every other request comes in meanwhile
            deadline = time.monotonic() + 10
            while len(rows) + waiting.qsize() < 50 and time.monotonic() < deadline:
                time.sleep(0.01)
        batches.append(len(rows))
        return store(rows)

    monkeypatch.setattr(event_store, "carrier_events_store", counting_store)
    sids = [f"SM{n:032x}" for n in range(40)]
    bodies = [inbound_body(sid) for sid in sids] + [inbound_body(sid) for sid in sids[:10]]

    async def all_at_once() -> list[tuple[int, bytes]]:
        return await asyncio.gather(
            *[
                call(
                    asgi_application,
                    scope("/webhooks/twilio/", headers=[(b"x-twilio-signature", sign(b).encode())]),
                    [b.encode()],
                )
                for b in bodies
            ]
        )

    answers = async_to_sync(all_at_once)()

    # Every carrier gets its answer, a retry included, as Twilio expects.
    assert answers == [(200, EMPTY_TWIML.encode())] * len(bodies)
    stored = CarrierEvent.objects.filter(kind=EventKind.INBOUND)
    assert sorted(stored.values_list("dedupe_key", flat=True)) == sids
    # What came in during a commit is stored with the next one, in one statement.
    assert len(batches) <= 2
    assert sum(batches) == len(bodies)


def test_an_event_the_database_cannot_store_is_answered_503_and_stored_on_the_retry(
    asgi_application, twilio_number: PhoneNumber
) -> None:
    body = inbound_body("SM" + "d" * 32)
    table = CarrierEvent._meta.db_table
    with connection.cursor() as cursor:  # the table is gone: every insert fails
        cursor.execute(f"ALTER TABLE {table} RENAME TO {table}_away")
    try:
        status, content = post_signed(asgi_application, body)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {table}_away RENAME TO {table}")

    assert (status, content) == (503, "Could not store the event; please retry.")
    assert nothing_stored()
    # The carrier's retry is stored, once, by the same recorder.
    assert post_signed(asgi_application, body) == (200, EMPTY_TWIML)
    assert post_signed(asgi_application, body) == (200, EMPTY_TWIML)
    assert CarrierEvent.objects.get().dedupe_key == "SM" + "d" * 32


def test_webhook_path_refuses_what_the_view_refuses(
    asgi_application, twilio_number: PhoneNumber, settings
) -> None:
    body = inbound_body("SM" + "e" * 32)
    signed = [(b"x-twilio-signature", sign(body).encode())]

    def answer(request_scope: dict, chunks: list[bytes] | None = None) -> tuple[int, str]:
        status, content = async_to_sync(call)(
            asgi_application, request_scope, chunks or [body.encode()]
        )
        return status, content.decode()

    assert answer(scope("/webhooks/nope/", headers=signed)) == (404, "No such carrier.")
    assert answer(scope("/webhooks/twilio/", headers=[(b"x-twilio-signature", b"bad")])) == (
        403,
        "Invalid signature.",
    )
    no_sid = "Body=hi&From=%2B12025550172&To=%2B14155550123"
    assert answer(
        scope("/webhooks/twilio/", headers=[(b"x-twilio-signature", sign(no_sid).encode())]),
        [no_sid.encode()],
    ) == (400, "Malformed webhook: Twilio webhook has no MessageSid or SmsSid field")
    # Signed, so kept as received for a later parse; none of the others is.
    assert kept_raw_only()
    CarrierEvent.objects.all().delete()
    # Not a POST: Django's own answer.
    assert answer(scope("/webhooks/twilio/", method="GET", headers=signed))[0] == 405
    # A host Django does not serve.
    settings.ALLOWED_HOSTS = ["twoway.example.com"]
    assert answer(scope("/webhooks/twilio/", headers=signed)) == (400, "Bad request.")
    settings.ALLOWED_HOSTS = ["testserver"]
    # A body over Django's upload limit, in pieces.
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    pieces = [body.encode()[i : i + 40] for i in range(0, len(body), 40)]
    assert answer(scope("/webhooks/twilio/", headers=signed), pieces) == (
        400,
        "Request body too large.",
    )
    assert nothing_stored()


def test_a_carrier_that_hangs_up_before_its_body_stores_nothing(
    asgi_application, twilio_number: PhoneNumber
) -> None:
    body = inbound_body("SM" + "f" * 32)
    sent: list[dict] = []
    messages = [
        {"type": "http.request", "body": body.encode()[:50], "more_body": True},
        {"type": "http.disconnect"},
    ]

    async def receive() -> dict:
        return messages.pop(0)

    async def send(message: dict) -> None:
        sent.append(message)

    request_scope = scope(
        "/webhooks/twilio/", headers=[(b"x-twilio-signature", sign(body).encode())]
    )
    async_to_sync(asgi_application)(request_scope, receive, send)

    assert sent == []
    assert nothing_stored()


def test_a_malformed_webhook_on_the_fast_path_is_kept_raw_once(
    asgi_application, twilio_number: PhoneNumber
) -> None:
    form = dict(parse_qsl(inbound_body("SM" + "e" * 32), keep_blank_values=True))
    del form["From"]
    body = urlencode(form)

    first = post_signed(asgi_application, body)
    again = post_signed(asgi_application, body)

    assert first[0] == again[0] == 400
    [kept] = CarrierEvent.objects.all()
    assert (kept.kind, kept.payload["body"]) == ("unparsed", body)
    assert kept.payload["form"] == form
