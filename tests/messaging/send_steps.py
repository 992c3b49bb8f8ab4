"""Steps of the send path one at a time, for tests: the worker runs them in batches."""

from __future__ import annotations

import time

from django.utils import timezone

from twoway.carriers.base import CarrierError, SendResult
from twoway.messaging.claiming import ClaimedSend
from twoway.messaging.recording import SendOutcome, record_outcomes
from twoway.messaging.sending import send_to_carrier


def send_claimed(claim: ClaimedSend, *, wait: bool = True) -> None:
    """Wait for the booked slot, hand the message to its carrier, record what happened.
    `wait=False` for a claim made at a moved clock, whose slot is that clock's."""
    delay = (claim.send_at - timezone.now()).total_seconds()
    if wait and delay > 0:
        time.sleep(delay)
    record_outcomes([send_to_carrier(claim)])


def record_sent(message_id: int, result: SendResult) -> None:
    record_outcomes([SendOutcome(message_id, None, result=result)])


def record_failure(message_id: int, error: CarrierError, *, attempt: int | None = None) -> None:
    """Re-queue with backoff or fail for good. `attempt` is the claim's: a worker whose lease
    ran out while it waited on the carrier must not undo what the message's new owner does."""
    record_outcomes([SendOutcome(message_id, attempt, error=error)])
