"""One try of a delivery: signed, sent with a short timeout, its answer logged, the next try
scheduled with backoff, and the endpoint disabled (its admins told) after the last.

A try claims its delivery with a conditional UPDATE (due, and not claimed by another runner
meanwhile), so two runners never send one at once; the HTTP request runs outside any
transaction, so a slow endpoint holds no lock a text needs.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from urllib.parse import urlsplit, urlunsplit

import httpx
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from twoway.core.errors import InvalidInput
from twoway.notifications.services import notify_admins
from twoway.webhooks.addresses import url_check
from twoway.webhooks.event_types import TEST
from twoway.webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from twoway.webhooks.signing import signed_headers

log = logging.getLogger(__name__)

# Tries of one delivery: the first at once, then after 30 s doubling up to 4 h between
# tries; the last comes about a day (24 h 15 min) after the first.
MAX_ATTEMPTS = 15
RETRY_BASE_SECONDS = 30.0
RETRY_MAX_SECONDS = 4 * 3600.0
# A claimed try that never reported (its runner killed) may be taken again after this.
CLAIM_SECONDS = 60.0
ERROR_LENGTH = 300


def retry_delay(attempts: int) -> float:
    """Seconds before the try after the `attempts`-th."""
    return min(RETRY_BASE_SECONDS * 2 ** (attempts - 1), RETRY_MAX_SECONDS)


def endpoint_secrets(endpoint: WebhookEndpoint, now: dt.datetime) -> list[str]:
    """The secrets that sign now: the current one, and a rotated one until its overlap ends."""
    found = [endpoint.secret]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret and expires is not None and expires > now:
        found.append(endpoint.previous_secret)
    return found


def _earlier_pending(delivery: WebhookDelivery) -> bool:
    """A delivery of the same conversation to the same endpoint still waits before this one."""
    if delivery.conversation_id is None:
        return False
    return WebhookDelivery.objects.filter(
        endpoint_id=delivery.endpoint_id,
        conversation_id=delivery.conversation_id,
        status=DeliveryStatus.PENDING,
        id__lt=delivery.pk,
    ).exists()


def _claim(delivery_id: int, now: dt.datetime, force: bool) -> bool:
    """Take the try: a due pending delivery (any, when forced) is marked claimed for a while."""
    claimable = WebhookDelivery.objects.filter(pk=delivery_id)
    if not force:
        claimable = claimable.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
    return bool(claimable.update(next_attempt_at=now + dt.timedelta(seconds=CLAIM_SECONDS)))


def delivery_attempt(delivery_id: int, *, force: bool = False) -> str:
    """Try a delivery once, if it is due (or `force`: Resend and the test event); say what
    happened, for the job's result."""
    delivery = WebhookDelivery.objects.select_related("endpoint").filter(pk=delivery_id).first()
    if delivery is None:
        return "gone"
    endpoint = delivery.endpoint
    if not force:
        if delivery.status != DeliveryStatus.PENDING:
            return f"already {delivery.status}"
        if not endpoint.enabled:
            return "endpoint disabled"  # sent when it is enabled again
        if _earlier_pending(delivery):
            return "waiting for an earlier event of its conversation"  # which enqueues it
    now = timezone.now()
    if not _claim(delivery_id, now, force):
        return "not due"
    code, error, elapsed = _post(endpoint, delivery, now)
    return _record(delivery, code, error, elapsed, force=force)


def _post(
    endpoint: WebhookEndpoint, delivery: WebhookDelivery, now: dt.datetime
) -> tuple[int | None, str, int]:
    started = time.monotonic()
    try:
        host, port, addresses = url_check(endpoint.url)
        headers = signed_headers(
            endpoint_secrets(endpoint, now),
            delivery.webhook_id,
            int(now.timestamp()),
            delivery.body,
        )
        # Connect to the address just checked, not a second lookup's answer (DNS rebinding);
        # the host still names the site (Host header, TLS name).
        parts = urlsplit(endpoint.url)
        address = addresses[0]
        netloc = f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
        headers["host"] = parts.netloc.rsplit("@", 1)[-1]
        # No proxies from the environment: the address checked is the one connected to.
        with httpx.Client(
            timeout=settings.TWOWAY_WEBHOOKS_TIMEOUT_SECONDS,
            follow_redirects=False,
            trust_env=False,
        ) as client:
            request = client.build_request(
                "POST",
                urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, "")),
                content=delivery.body.encode(),
                headers=headers,
                extensions={"sni_hostname": host},
            )
            response = client.send(request)
    except InvalidInput as exc:
        return None, exc.message, _ms(started)
    except httpx.TimeoutException:
        return None, "No answer in time.", _ms(started)
    except httpx.HTTPError as exc:
        return None, f"Could not connect: {exc}"[:ERROR_LENGTH], _ms(started)
    error = "" if 200 <= response.status_code < 300 else f"Answered {response.status_code}."
    return response.status_code, error, _ms(started)


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


@transaction.atomic
def _record(
    delivery: WebhookDelivery, code: int | None, error: str, elapsed: int, *, force: bool
) -> str:
    now = timezone.now()
    WebhookAttempt.objects.create(
        delivery=delivery, response_code=code, error=error[:ERROR_LENGTH], duration_ms=elapsed
    )
    delivery.attempts += 1
    delivery.last_response_code = code
    delivery.last_error = error[:ERROR_LENGTH]
    delivery.last_attempt_at = now
    finished = False
    if not error:
        delivery.status = DeliveryStatus.DELIVERED
        delivery.next_attempt_at = None
        finished = True
    elif delivery.event_type == TEST:
        delivery.status = DeliveryStatus.FAILED  # a test is tried once, and disables nothing
        delivery.next_attempt_at = None
    elif force and delivery.status != DeliveryStatus.PENDING:
        # A Resend of one already delivered or given up: it keeps its state, the try is logged.
        delivery.next_attempt_at = None
    elif delivery.attempts >= MAX_ATTEMPTS:
        delivery.status = DeliveryStatus.FAILED
        delivery.next_attempt_at = None
        finished = True
        _endpoint_disable(delivery.endpoint, delivery)
    else:
        delivery.next_attempt_at = now + dt.timedelta(seconds=retry_delay(delivery.attempts))
        _enqueue(delivery.pk, delivery.next_attempt_at)
    delivery.save(
        update_fields=[
            "attempts",
            "last_response_code",
            "last_error",
            "last_attempt_at",
            "status",
            "next_attempt_at",
        ]
    )
    if finished:
        _next_of_conversation(delivery)
    return error or f"delivered ({code})"


def _next_of_conversation(delivery: WebhookDelivery) -> None:
    """The conversation's next event waited for this one: it may go now."""
    if delivery.conversation_id is None:
        return
    following = (
        WebhookDelivery.objects.filter(
            endpoint_id=delivery.endpoint_id,
            conversation_id=delivery.conversation_id,
            status=DeliveryStatus.PENDING,
            id__gt=delivery.pk,
        )
        .order_by("id")
        .values_list("id", flat=True)
        .first()
    )
    if following is not None:
        _enqueue(following, None)


def _enqueue(delivery_id: int, run_after: dt.datetime | None) -> None:
    from twoway.webhooks.tasks import webhook_deliver_job

    if run_after is None:
        webhook_deliver_job.enqueue(delivery_id)
    else:
        webhook_deliver_job.using(run_after=run_after).enqueue(delivery_id)


def _endpoint_disable(endpoint: WebhookEndpoint, delivery: WebhookDelivery) -> None:
    reason = (
        f"Disabled after {delivery.attempts} failed tries of a {delivery.event_type} event "
        f"over about a day (last: {delivery.last_error})"
    )[:300]
    updated = WebhookEndpoint.objects.filter(pk=endpoint.pk, enabled=True).update(
        enabled=False, disabled_reason=reason
    )
    if updated:
        notify_admins(
            organization=endpoint.organization,
            kind="webhook.disabled",
            title=f"Webhook endpoint disabled: {endpoint.url}"[:200],
            body=f"{reason}. Enable it again under Settings, Webhooks once it answers.",
            link=f"/settings/webhooks/{endpoint.pk}/",
        )
