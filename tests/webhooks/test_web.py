"""Settings, Webhooks: add an endpoint (its secret shown once), see the log, resend, test."""

from __future__ import annotations

import pytest

from tests.conftest import logged_in
from tests.webhooks.conftest import Receiver, run_webhook_jobs
from twoway.accounts.models import Membership
from twoway.webhooks.models import WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db


def test_an_admin_adds_an_endpoint_and_sees_the_secret_once(
    admin: Membership, receiver: Receiver, allow_private: None
) -> None:
    client = logged_in(admin)
    page = client.post(
        "/settings/webhooks/",
        {"url": receiver.url, "description": "CRM", "event_types": ["message.received"]},
    )
    assert page.status_code == 201
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.secret in page.content.decode()
    assert page["Cache-Control"] == "no-store"
    again = client.get(f"/settings/webhooks/{endpoint.pk}/")
    assert endpoint.secret not in again.content.decode()
    assert "Send test event" in again.content.decode()


def test_a_bad_url_is_refused_and_what_was_typed_kept(admin: Membership) -> None:
    page = logged_in(admin).post(
        "/settings/webhooks/",
        {"url": "http://10.0.0.5/hook", "description": "Office", "event_types": ["message.sent"]},
    )
    assert page.status_code == 422
    text = page.content.decode()
    assert "webhooks go only to public addresses" in text and "Office" in text
    assert not WebhookEndpoint.objects.exists()


def test_test_event_and_resend_show_in_the_log(
    admin: Membership, endpoint: WebhookEndpoint, receiver: Receiver
) -> None:
    client = logged_in(admin)
    client.post(f"/settings/webhooks/{endpoint.pk}/test/")
    run_webhook_jobs()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "delivered"
    client.post(f"/settings/webhooks/{endpoint.pk}/deliveries/{delivery.pk}/resend/")
    log = client.get(f"/settings/webhooks/{endpoint.pk}/log/").content.decode()
    assert "hx-trigger" in log  # a try is on its way: the log redraws itself
    run_webhook_jobs()
    delivery.refresh_from_db()
    assert delivery.attempts == 2 and len(receiver.received) == 2
    log = client.get(f"/settings/webhooks/{endpoint.pk}/log/").content.decode()
    assert "webhook.test" in log and "hx-trigger" not in log


def test_standard_users_cannot_open_webhooks(standard: Membership) -> None:
    assert logged_in(standard).get("/settings/webhooks/").status_code == 403


def test_a_disabled_endpoint_gets_no_new_events_until_enabled(
    admin: Membership, endpoint: WebhookEndpoint, receiver: Receiver
) -> None:
    from tests.webhooks.test_delivery import received

    client = logged_in(admin)
    client.post(f"/settings/webhooks/{endpoint.pk}/enable/", {"enabled": "0"})
    page = client.get(f"/settings/webhooks/{endpoint.pk}/").content.decode()
    assert "It gets no new events" in page and "Enable" in page
    received(endpoint, 7, 1)
    assert not WebhookDelivery.objects.exists()
    client.post(f"/settings/webhooks/{endpoint.pk}/enable/", {"enabled": "1"})
    received(endpoint, 7, 1)
    assert run_webhook_jobs() == ["delivered (200)"]
