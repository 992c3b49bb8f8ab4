"""The webhooks API: administrators' keys add, list, change, rotate and delete endpoints."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.webhooks.conftest import Receiver
from twoway.accounts.models import ApiKey, Membership
from twoway.webhooks.models import WebhookEndpoint

pytestmark = pytest.mark.django_db

URL = "/api/v1/webhooks"


def _api(member: Membership) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {ApiKey.issue(owner=member, name='t')[1]}")


def _send(client: Client, method: str, url: str, body: Any) -> Any:
    return getattr(client, method)(url, body, content_type="application/json")


def test_an_admin_adds_an_endpoint_and_sees_its_secret_once(
    admin: Membership, receiver: Receiver, allow_private: None
) -> None:
    client = _api(admin)
    made = _send(client, "post", URL, {"url": receiver.url, "event_types": ["message.received"]})
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["secret"].startswith("whsec_")
    assert body["event_types"] == ["message.received"] and body["enabled"] is True
    got = client.get(f"{URL}/{body['id']}").json()
    assert "secret" not in got
    assert client.get(URL).json()["items"][0]["id"] == body["id"]
    changed = _send(
        client,
        "patch",
        f"{URL}/{body['id']}",
        {"description": "CRM", "event_types": ["message.status", "contact.opted_out"]},
    )
    assert changed.status_code == 200, changed.content
    assert changed.json()["event_types"] == ["message.status", "contact.opted_out"]
    rotated = client.post(f"{URL}/{body['id']}/rotate-secret").json()
    assert rotated["secret"] != body["secret"] and rotated["previous_secret_expires_at"]
    assert client.delete(f"{URL}/{body['id']}").status_code == 204
    assert not WebhookEndpoint.objects.exists()


def test_a_private_address_is_refused_with_the_reason(admin: Membership) -> None:
    made = _send(
        _api(admin),
        "post",
        URL,
        {"url": "http://169.254.169.254/latest", "event_types": ["message.received"]},
    )
    assert made.status_code == 400
    assert "public addresses" in made.json()["error"]["message"]
    assert not WebhookEndpoint.objects.exists()


def test_an_unknown_event_type_is_refused(admin: Membership) -> None:
    made = _send(
        _api(admin), "post", URL, {"url": "https://example.com/", "event_types": ["sms.maybe"]}
    )
    assert made.status_code == 422


def test_only_administrators_keys_manage_webhooks(standard: Membership) -> None:
    client = _api(standard)
    assert client.get(URL).status_code == 403
    made = _send(
        client, "post", URL, {"url": "https://example.com/", "event_types": ["message.received"]}
    )
    assert made.status_code == 403
