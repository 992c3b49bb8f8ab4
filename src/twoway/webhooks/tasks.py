"""Background jobs of outgoing webhooks: one try of one delivery.

The retries are the delivery's own (`delivery.py`: backoff, ordering, disabling), each try a
job enqueued for its time, so the job itself never raises for the runner to retry.
"""

from __future__ import annotations

from twoway.jobs.tasks_api import job
from twoway.webhooks.delivery import delivery_attempt


@job(max_attempts=1)
def webhook_deliver_job(delivery_id: int, force: bool = False) -> str:
    return delivery_attempt(delivery_id, force=force)
