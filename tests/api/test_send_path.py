"""The web server's lean path for POST /api/v1/messages (`twoway.api.send_path`): concurrent
sends queued together, each answered once committed, and every answer the API view's own."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.db import OperationalError
from django.test import Client
from django.utils import timezone

from tests.carriers.test_webhook_path import call
from twoway.accounts.models import ApiKey, Membership, Organization
from twoway.api import send_path
from twoway.contacts.models import Contact, ContactPhone, OptInStatus
from twoway.conversations.models import Message
from twoway.numbers.models import PhoneNumber

pytestmark = pytest.mark.django_db(transaction=True)

SENDER = "+14155550100"


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("TWOWAY_CONN_MAX_AGE", "0")
    from twoway.asgi import application, send_application

    yield application
    send_application.queue.release()  # the test database is dropped at the end


@pytest.fixture
def key(admin: Membership, number: PhoneNumber) -> str:
    return ApiKey.issue(owner=admin, name="CRM")[1]


def scope(headers: list[tuple[bytes, bytes]], path: str = "/api/v1/messages") -> dict[str, Any]:
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
        "headers": [(b"host", b"testserver"), (b"content-type", b"application/json"), *headers],
        "client": ("127.0.0.1", 40000),
        "server": ("testserver", 80),
    }


def lean(app: Any, body: bytes, key: str | None) -> tuple[int, dict[str, Any]]:
    headers = [(b"authorization", f"Bearer {key}".encode())] if key is not None else []
    status, content = async_to_sync(call)(app, scope(headers), [body])
    return status, json.loads(content)


def through_django(body: bytes, key: str | None) -> tuple[int, dict[str, Any]]:
    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}") if key is not None else Client()
    response = client.post("/api/v1/messages", body, content_type="application/json")
    return response.status_code, response.json()


def comparable(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in ("id", "created_at", "conversation_id")}


TOMORROW = (timezone.now() + timezone.timedelta(days=1)).isoformat()
CASES = [
    {"from": SENDER, "to": "415-555-0123", "body": "Your table is ready"},
    {"from": SENDER, "to": SENDER, "body": "To ourselves"},  # 400 own_number
    {"from": "+13105550000", "to": "415-555-0123", "body": "Not ours"},  # 404
    {"from": SENDER, "to": "415-555-0199", "body": "Opted out"},  # 403 opted_out
    {"from": SENDER, "to": "415-555-0123"},  # 422, ninja's format
    {"to": "415-555-0123", "body": "No sender"},  # 400 sender_required
    # Scheduled: 201 with status "scheduled"; a time without offset 422; a past one 400.
    {"from": SENDER, "to": "415-555-0124", "body": "Later", "send_at": TOMORROW},
    {"from": SENDER, "to": "415-555-0124", "body": "Later", "send_at": "2030-01-01T09:00:00"},
    {"from": SENDER, "to": "415-555-0124", "body": "Later", "send_at": "2020-01-01T09:00:00Z"},
]


def test_every_answer_is_the_views_own(app: Any, org: Organization, key: str) -> None:
    out = Contact.objects.create(organization=org, opt_in_status=OptInStatus.OPTED_OUT)
    ContactPhone.objects.create(organization=org, contact=out, number="+14155550199")
    for payload in CASES:
        body = json.dumps(payload).encode()
        fast, slow = lean(app, body, key), through_django(body, key)
        assert fast[0] == slow[0], payload
        if fast[0] == 201:
            assert comparable(fast[1]) == comparable(slow[1])
        else:
            assert fast[1] == slow[1], payload
    # No key, a wrong key, a body that is not JSON: Django's answers, as before.
    body = json.dumps(CASES[0]).encode()
    assert lean(app, body, None) == through_django(body, None)
    assert lean(app, body, "nope")[0] == 401
    assert lean(app, b"{nope", key) == through_django(b"{nope", key)
    assert Message.objects.count() == 4  # the two accepted texts, one per path
    assert Message.objects.filter(status="scheduled").count() == 2


def test_the_same_headers_as_the_view(app: Any, key: str) -> None:
    body = json.dumps(CASES[0]).encode()
    sent: list[dict[str, Any]] = []

    async def run() -> None:
        messages = [{"type": "http.request", "body": body, "more_body": False}]

        async def receive() -> dict[str, Any]:
            return messages.pop(0) if messages else {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await app(scope([(b"authorization", f"Bearer {key}".encode())]), receive, send)

    async_to_sync(run)()
    fast = {name.decode().lower() for name, _ in sent[0]["headers"]}
    response = Client(HTTP_AUTHORIZATION=f"Bearer {key}").post(
        "/api/v1/messages", body, content_type="application/json"
    )
    assert fast == {name.lower() for name in response.headers}


def test_concurrent_sends_are_queued_together(
    app: Any, key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    groups: list[int] = []
    real = send_path.texts_send

    def counted(texts: Any) -> Any:
        groups.append(len(texts))
        return real(texts)

    monkeypatch.setattr(send_path, "texts_send", counted)
    headers = [(b"authorization", f"Bearer {key}".encode())]

    async def many() -> list[tuple[int, bytes]]:
        bodies = [
            json.dumps({"from": SENDER, "to": f"+1212555{i:04d}", "body": f"Hi {i}"}).encode()
            for i in range(30)
        ]
        return await asyncio.gather(*(call(app, scope(headers), [b]) for b in bodies))

    answers = async_to_sync(many)()
    assert [status for status, _ in answers] == [201] * 30
    assert sum(groups) == 30 and len(groups) < 30  # some went together
    ids = {json.loads(content)["id"] for _, content in answers}
    assert {str(uid) for uid in Message.objects.values_list("uid", flat=True)} == ids


def test_a_revoked_key_stops_at_once(app: Any, key: str) -> None:
    body = json.dumps(CASES[0]).encode()
    assert lean(app, body, key)[0] == 201
    ApiKey.objects.update(revoked_at=timezone.now())
    status, data = lean(app, body, key)
    assert (status, data["error"]["code"]) == (401, "unauthorized")
    assert Message.objects.count() == 1


def test_a_database_failure_is_a_503_and_stores_nothing(
    app: Any, key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def down(texts: Any) -> Any:
        raise OperationalError("the database went away")

    monkeypatch.setattr(send_path, "texts_send", down)
    status, data = lean(app, json.dumps(CASES[0]).encode(), key)
    assert status == 503
    assert data["error"]["code"] == "unavailable"
    assert Message.objects.count() == 0


def test_an_address_sending_wrong_keys_is_refused(app: Any, key: str, settings: Any) -> None:
    settings.API_KEY_FAILURE_LIMIT = 2
    body = json.dumps(CASES[0]).encode()
    for _ in range(2):
        assert lean(app, body, "wrong")[0] == 401
    status, _ = lean(app, body, key)  # even the right key, for a while
    assert status == 429
    assert Message.objects.count() == 0
