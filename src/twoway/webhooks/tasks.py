"""Background jobs of outgoing webhooks: one try of one delivery, the sweep that tries again
a delivery whose try was lost, and the log's pruning.

The retries are the delivery's own (`delivery.py`: backoff, ordering, disabling), each try a
job enqueued for its time, so the job itself is not retried by the runner: a try that crashed
or whose runner died is picked up by the sweep once its claim has run out.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone

from twoway.jobs.pruning import DEFAULT_BATCH_SIZE, oldest_rows_delete
from twoway.jobs.tasks_api import job
from twoway.webhooks.delivery import CLAIM_SECONDS, delivery_attempt
from twoway.webhooks.models import DeliveryStatus, WebhookDelivery

# Lost tries enqueued again per sweep.
SWEEP_LIMIT = 500


@job(max_attempts=1)
def webhook_deliver_job(delivery_id: int, force: bool = False) -> str:
    return delivery_attempt(delivery_id, force=force)


@job
def webhook_deliveries_sweep() -> int:
    """Enqueue again the pending deliveries of enabled endpoints that are overdue by more
    than a claim (their job was lost), the first waiting one of each conversation only; how
    many."""
    overdue = timezone.now() - dt.timedelta(seconds=2 * CLAIM_SECONDS)
    rows = (
        WebhookDelivery.objects.filter(
            status=DeliveryStatus.PENDING, next_attempt_at__lt=overdue, endpoint__enabled=True
        )
        .order_by("id")
        .values_list("id", "endpoint_id", "conversation_id")[:SWEEP_LIMIT]
    )
    seen: set[tuple[int, int]] = set()
    again = []
    for delivery_id, endpoint_id, conversation_id in rows:
        if conversation_id is not None:
            if (endpoint_id, conversation_id) in seen:
                continue
            seen.add((endpoint_id, conversation_id))
        again.append(delivery_id)
    for delivery_id in again:
        webhook_deliver_job.enqueue(delivery_id)
    return len(again)


@job
def webhook_deliveries_prune(*, batch_size: int = DEFAULT_BATCH_SIZE) -> int:
    """Delete the delivered and given-up deliveries older than WEBHOOK_DELIVERIES_RETENTION_DAYS
    (0: kept), with their tries; how many. Pending ones stay, however old."""
    days = settings.WEBHOOK_DELIVERIES_RETENTION_DAYS
    if days <= 0:
        return 0
    return oldest_rows_delete(
        WebhookDelivery.objects.exclude(status=DeliveryStatus.PENDING),
        age_field="created_at",
        before=timezone.now() - dt.timedelta(days=days),
        batch_size=batch_size,
    )
