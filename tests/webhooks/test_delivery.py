"""Deliveries to a real local receiver: signed, retried with backoff, in order per
conversation, the endpoint disabled after the last try, secrets rotated with an overlap."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from tests.webhooks.conftest import Receiver, enqueued_webhook_jobs, make_due, run_webhook_jobs
from twoway.accounts.models import Membership
from twoway.notifications.models import Notification
from twoway.webhooks import delivery as delivery_module
from twoway.webhooks.delivery import MAX_ATTEMPTS, retry_delay
from twoway.webhooks.models import WebhookDelivery, WebhookEndpoint
from twoway.webhooks.recording import facts_record
from twoway.webhooks.services import (
    delivery_resend,
    endpoint_enable,
    endpoint_secret_rotate,
    endpoint_test_event_send,
)

pytestmark = pytest.mark.django_db


def received(endpoint: WebhookEndpoint, conversation_id: int | None, n: int) -> None:
    facts_record(
        [
            (
                endpoint.organization_id,
                conversation_id,
                "message.received",
                {"message_id": f"m{i}", "conversation_id": conversation_id, "preview": str(i)},
            )
            for i in range(n)
        ]
    )


def test_a_delivery_is_signed_and_logged(endpoint: WebhookEndpoint, receiver: Receiver) -> None:
    received(endpoint, 7, 1)
    assert run_webhook_jobs() == ["delivered (200)"]
    [request] = receiver.received
    event = Webhook(endpoint.secret).verify(request.body, request.headers)
    assert event["type"] == "message.received"
    assert event["data"] == {"message_id": "m0", "conversation_id": 7, "preview": "0"}
    delivery = WebhookDelivery.objects.get()
    assert request.headers["webhook-id"] == delivery.webhook_id
    assert (delivery.status, delivery.attempts, delivery.last_response_code) == (
        "delivered",
        1,
        200,
    )
    assert delivery.body == request.body
    assert [a.response_code for a in delivery.attempt_log.all()] == [200]


def test_a_failing_receiver_is_retried_with_backoff_until_it_answers(
    endpoint: WebhookEndpoint, receiver: Receiver
) -> None:
    receiver.answers = [500, 503]
    received(endpoint, 7, 1)
    before = timezone.now()
    assert run_webhook_jobs() == ["Answered 500."]
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending"
    # The next try is enqueued for 30 s later, as a job of its own.
    [retry] = enqueued_webhook_jobs()
    assert retry.run_after is not None
    assert 29 <= (retry.run_after - before).total_seconds() <= 35
    # Before it is due, a job for it does nothing.
    delivery_module._enqueue(delivery.pk, None)
    assert run_webhook_jobs() == ["not due"]
    assert len(receiver.received) == 1
    make_due()
    assert run_webhook_jobs() == ["Answered 503."]
    delivery.refresh_from_db()
    assert delivery.next_attempt_at is not None
    waited = (delivery.next_attempt_at - delivery.last_attempt_at).total_seconds()
    assert 59 <= waited <= 61  # doubled
    make_due()
    assert run_webhook_jobs() == ["delivered (200)"]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 3)
    assert [a.response_code for a in delivery.attempt_log.all()] == [500, 503, 200]
    # Every try carried the same webhook-id, so the receiver can drop a repeat.
    assert {r.headers["webhook-id"] for r in receiver.received} == {delivery.webhook_id}


def test_the_backoff_spans_about_a_day() -> None:
    total = sum(retry_delay(n) for n in range(1, MAX_ATTEMPTS))
    assert dt.timedelta(hours=20) < dt.timedelta(seconds=total) < dt.timedelta(hours=30)


def test_a_conversations_events_go_in_order(endpoint: WebhookEndpoint, receiver: Receiver) -> None:
    receiver.answers = [500]  # the first event of conversation 7 fails once
    received(endpoint, 7, 3)
    received(endpoint, 8, 1)  # another conversation is not held up
    results = run_webhook_jobs()
    assert results.count("waiting for an earlier event of its conversation") == 2
    assert [r.event["data"]["conversation_id"] for r in receiver.received] == [7, 8]
    make_due()
    run_webhook_jobs()
    previews = [
        r.event["data"]["preview"]
        for r in receiver.received
        if r.event["data"]["conversation_id"] == 7
    ]
    assert previews == ["0", "0", "1", "2"]
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"delivered"}


def test_the_endpoint_is_disabled_and_admins_told_after_the_last_try(
    endpoint: WebhookEndpoint,
    receiver: Receiver,
    admin: Membership,
    django_capture_on_commit_callbacks: Any,
) -> None:
    receiver.answers = [500] * MAX_ATTEMPTS
    received(endpoint, 7, 2)
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(MAX_ATTEMPTS):
            make_due()
            run_webhook_jobs()
    first, second = WebhookDelivery.objects.order_by("id")
    assert (first.status, first.attempts) == ("failed", MAX_ATTEMPTS)
    assert (second.status, second.attempts) == ("pending", 0)  # waits for the endpoint
    endpoint.refresh_from_db()
    assert not endpoint.enabled
    assert "15 failed tries" in endpoint.disabled_reason
    [note] = Notification.objects.filter(recipient=admin.user)
    assert note.kind == "webhook.disabled" and endpoint.url in note.title
    assert any(endpoint.url in m.subject for m in mail.outbox)
    # New events are not recorded for a disabled endpoint; enabling sends what waited.
    received(endpoint, 9, 1)
    assert WebhookDelivery.objects.count() == 2
    endpoint_enable(endpoint=endpoint, enabled=True)
    assert run_webhook_jobs() == ["delivered (200)"]
    second.refresh_from_db()
    assert second.status == "delivered"


def test_a_rotated_secret_signs_beside_the_new_one_for_a_day(
    endpoint: WebhookEndpoint, receiver: Receiver
) -> None:
    old = endpoint.secret
    endpoint_secret_rotate(endpoint=endpoint)
    assert endpoint.secret != old
    received(endpoint, 7, 1)
    run_webhook_jobs()
    request = receiver.received[-1]
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(request.body, request.headers)
    Webhook(endpoint.secret).verify(request.body, request.headers)
    # A day later, the old secret no longer signs.
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        previous_secret_expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    received(endpoint, 7, 1)
    run_webhook_jobs()
    request = receiver.received[-1]
    assert len(request.headers["webhook-signature"].split(" ")) == 1
    Webhook(endpoint.secret).verify(request.body, request.headers)


def test_resend_tries_a_delivered_event_again(
    endpoint: WebhookEndpoint, receiver: Receiver
) -> None:
    received(endpoint, 7, 1)
    run_webhook_jobs()
    delivery = WebhookDelivery.objects.get()
    delivery_resend(delivery=delivery)
    assert run_webhook_jobs() == ["delivered (200)"]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 2)
    assert receiver.received[0].body == receiver.received[1].body


def test_the_test_event_goes_once_and_disables_nothing(
    endpoint: WebhookEndpoint, receiver: Receiver
) -> None:
    receiver.answers = [404]
    endpoint_test_event_send(endpoint=endpoint)
    assert run_webhook_jobs() == ["Answered 404."]
    delivery = WebhookDelivery.objects.get()
    assert (delivery.event_type, delivery.status) == ("webhook.test", "failed")
    assert enqueued_webhook_jobs() == []
    endpoint.refresh_from_db()
    assert endpoint.enabled
    Webhook(endpoint.secret).verify(receiver.received[0].body, receiver.received[0].headers)


def test_an_address_turned_private_is_refused_at_delivery_time(
    endpoint: WebhookEndpoint, receiver: Receiver, settings: Any
) -> None:
    """The check runs again before each try: a name that now resolves to loopback gets
    nothing (DNS rebinding), and the try is logged as failed with why."""
    received(endpoint, 7, 1)
    settings.TWOWAY_WEBHOOKS_ALLOW_PRIVATE = False
    [result] = run_webhook_jobs()
    assert "webhooks go only to public addresses" in result
    assert receiver.received == []


def test_a_slow_receiver_times_out(endpoint: WebhookEndpoint, settings: Any) -> None:
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()  # accepts, never answers
    try:
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
            url=f"http://127.0.0.1:{listener.getsockname()[1]}/"
        )
        settings.TWOWAY_WEBHOOKS_TIMEOUT_SECONDS = 0.3
        received(endpoint, 7, 1)
        assert run_webhook_jobs() == ["No answer in time."]
    finally:
        listener.close()


def test_a_lost_try_is_swept_up_once_its_claim_ran_out(
    endpoint: WebhookEndpoint, receiver: Receiver
) -> None:
    from django_tasks_db.models import DBTaskResult

    from twoway.webhooks.tasks import webhook_deliveries_sweep

    received(endpoint, 7, 2)
    DBTaskResult.objects.all().delete()  # the runner died with the jobs
    assert webhook_deliveries_sweep.func() == 0  # not overdue yet
    WebhookDelivery.objects.update(next_attempt_at=timezone.now() - dt.timedelta(minutes=5))
    assert webhook_deliveries_sweep.func() == 1  # the conversation's first; it brings the next
    assert run_webhook_jobs() == ["delivered (200)", "delivered (200)"]


def test_old_finished_deliveries_are_pruned(endpoint: WebhookEndpoint, receiver: Receiver) -> None:
    from twoway.webhooks.tasks import webhook_deliveries_prune

    received(endpoint, 7, 1)
    run_webhook_jobs()
    received(endpoint, 8, 1)  # pending: kept however old
    WebhookDelivery.objects.update(created_at=timezone.now() - dt.timedelta(days=31))
    assert webhook_deliveries_prune.func() == 1
    assert list(WebhookDelivery.objects.values_list("status", flat=True)) == ["pending"]
