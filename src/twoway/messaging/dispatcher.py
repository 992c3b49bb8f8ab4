"""Hands queued messages to carriers: claim → send → record, safe with many workers.

The message table is the queue. A claim moves a due message to `sending` with a lease, inside
one short transaction that skips rows other workers hold (SKIP LOCKED on PostgreSQL; SQLite's
BEGIN IMMEDIATE serialises claimers instead). If a worker dies mid-send, the lease runs out and
another worker sends the message again with the same idempotency key, which a carrier that
honours it (the simulator does) turns into one delivery. The only window for a duplicate is a
carrier without such a key accepting the message and the worker dying before it records that.

Each sender number's throughput limit is kept in `PhoneNumber.next_send_at`: a claim books the
next free slot for the message's segments, so workers anywhere share one limit.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from twoway.billing.services import balance_refund
from twoway.carriers.base import CarrierError, SendRequest, SendResult
from twoway.carriers.errors import explain
from twoway.carriers.registry import get_carrier
from twoway.conversations.models import Direction, Kind, Message, Status
from twoway.numbers.models import PhoneNumber
from twoway.realtime.services import event_publish

log = logging.getLogger(__name__)

# A claim may book slots up to this far ahead, so a busy number's next second of sends is claimed
# in one go and then paced by the sender threads.
CLAIM_LOOKAHEAD = dt.timedelta(seconds=1)


@dataclass(frozen=True)
class ClaimedSend:
    message_id: int
    send_at: dt.datetime
    request: SendRequest
    carrier: str
    attempt: int  # which claim of the message this is: a stale one records nothing
    spacing: float  # seconds this message occupies on its sender's rate limit


def _due_messages(now: dt.datetime) -> Q:
    # A lost lease (`sending` whose lease ran out) is due again.
    return Q(
        direction=Direction.OUTBOUND,
        kind=Kind.MESSAGE,
        next_attempt_at__lte=now,
    ) & (Q(status=Status.QUEUED) | Q(status=Status.SENDING, lease_expires_at__lt=now))


def claim_due(limit: int, now: dt.datetime | None = None) -> list[ClaimedSend]:
    """Claim up to `limit` due messages whose sender has a free slot within the lookahead."""
    now = now or timezone.now()
    lease = dt.timedelta(seconds=settings.SEND_LEASE_SECONDS)
    claimed: list[ClaimedSend] = []
    # Senders already booked beyond the lookahead are left out, so a long backlog on one busy
    # number never fills the candidate window and starves every other number.
    busy_senders = PhoneNumber.objects.filter(next_send_at__gt=now + CLAIM_LOOKAHEAD).values(
        "number"
    )
    with transaction.atomic():
        candidates = list(
            Message.objects.filter(_due_messages(now))
            .exclude(from_number__in=busy_senders)
            .order_by("priority", "next_attempt_at", "id")
            .select_for_update(skip_locked=True)[: limit * 4]
        )
        if not candidates:
            return []
        numbers = {
            n.number: n
            # Locked in id order, so two claimers never wait on each other in a cycle.
            for n in PhoneNumber.objects.select_for_update()
            .filter(number__in={m.from_number for m in candidates})
            .order_by("pk")
        }
        booked: set[str] = set()
        for message in candidates:
            if len(claimed) >= limit:
                break
            number = numbers.get(message.from_number)
            if number is None:
                _fail(message, "no_sender", explain("no_sender"))
                continue
            slot = max(now, number.next_send_at or now)
            if slot > now + CLAIM_LOOKAHEAD:
                continue  # this sender is busy for now; lower-priority senders may still go
            spacing = Decimal(max(message.segments, 1)) / max(number.mps_limit, Decimal("0.01"))
            number.next_send_at = slot + dt.timedelta(seconds=float(spacing))
            booked.add(number.number)
            message.status = Status.SENDING
            message.attempts += 1
            message.lease_expires_at = slot + lease
            message.save(update_fields=["status", "attempts", "lease_expires_at"])
            claimed.append(
                ClaimedSend(
                    message_id=message.pk,
                    send_at=slot,
                    carrier=message.carrier,
                    attempt=message.attempts,
                    spacing=float(spacing),
                    request=SendRequest(
                        idempotency_key=str(message.uid),
                        from_number=message.from_number,
                        to_number=message.to_number,
                        body=message.body,
                        status_callback_url=_status_callback_url(message.carrier),
                    ),
                )
            )
        for number_value in booked:
            number = numbers[number_value]
            number.save(update_fields=["next_send_at"])
    return claimed


def _status_callback_url(carrier: str) -> str | None:
    if not settings.TWOWAY_PUBLIC_URL:
        return None
    return f"{settings.TWOWAY_PUBLIC_URL}/webhooks/{carrier}/"


def send_claimed(claim: ClaimedSend) -> None:
    """Wait for the booked slot, hand the message to its carrier, record what happened."""
    delay = (claim.send_at - timezone.now()).total_seconds()
    if delay > 0:
        time.sleep(delay)
    try:
        result = get_carrier(claim.carrier).send(claim.request)
    except CarrierError as exc:
        record_failure(claim.message_id, exc, attempt=claim.attempt)
    except Exception as exc:  # an adapter bug must not kill the worker or lose the message
        log.exception("Carrier %s crashed sending message %s", claim.carrier, claim.message_id)
        record_failure(
            claim.message_id, CarrierError(str(exc), transient=True), attempt=claim.attempt
        )
    else:
        record_sent(claim.message_id, result)


@transaction.atomic
def record_sent(message_id: int, result: SendResult) -> None:
    message = Message.objects.select_for_update().filter(pk=message_id).first()
    if message is None or message.status not in (Status.SENDING, Status.QUEUED):
        return  # deleted meanwhile, or a status report already moved it on
    message.status = Status.SENT
    message.carrier_message_id = result.carrier_message_id
    message.sent_at = timezone.now()
    message.lease_expires_at = None
    message.error_code = ""
    message.error_message = ""
    message.save(
        update_fields=[
            "status",
            "carrier_message_id",
            "sent_at",
            "lease_expires_at",
            "error_code",
            "error_message",
        ]
    )
    _publish_status(message)


def retry_delay(attempts: int) -> dt.timedelta:
    seconds = settings.SEND_RETRY_BASE_SECONDS * (2 ** max(attempts - 1, 0))
    return dt.timedelta(seconds=min(seconds, settings.SEND_RETRY_MAX_SECONDS))


@transaction.atomic
def record_failure(message_id: int, error: CarrierError, *, attempt: int | None = None) -> None:
    """Re-queue with backoff or fail for good. `attempt` is the claim's: a worker whose lease
    ran out while it waited on the carrier must not undo what the message's new owner does."""
    message = Message.objects.select_for_update().filter(pk=message_id).first()
    if message is None or message.status != Status.SENDING:
        return
    if attempt is not None and message.attempts != attempt:
        return
    if error.transient and message.attempts < settings.SEND_MAX_ATTEMPTS:
        log.warning("Message %s: carrier trouble (%s), retrying", message.uid, error)
        message.status = Status.QUEUED
        message.next_attempt_at = timezone.now() + retry_delay(message.attempts)
        message.lease_expires_at = None
        message.error_code = error.code
        message.error_message = f"Retrying: {error}"[:300]
        message.save(
            update_fields=[
                "status",
                "next_attempt_at",
                "lease_expires_at",
                "error_code",
                "error_message",
            ]
        )
        _publish_status(message)
        return
    if error.transient:
        _fail(message, "expired", f"{explain('expired')} Last error: {error}")
    else:
        _fail(message, error.code, explain(error.code) or str(error))


def _fail(message: Message, code: str, explanation: str) -> None:
    balance_refund(message=message)  # no carrier took it: its segments were never used
    message.status = Status.FAILED
    message.lease_expires_at = None
    message.error_code = code
    message.error_message = explanation[:300]
    message.save(update_fields=["status", "lease_expires_at", "error_code", "error_message"])
    _publish_status(message)


def _publish_status(message: Message) -> None:
    event_publish(
        organization_id=message.organization_id,
        kind="message.status",
        conversation_id=message.conversation_id,
        message=str(message.uid),
        status=message.status,
    )


def next_due_in(now: dt.datetime | None = None) -> float | None:
    """Seconds until a queued message can next be claimed (None when none is waiting).

    A message that is due but whose sender is booked up waits for the sender's next free slot,
    so an idle worker sleeps instead of spinning on a rate-limited backlog.
    """
    now = now or timezone.now()
    queued = Message.objects.filter(status=Status.QUEUED, next_attempt_at__isnull=False)
    busy = PhoneNumber.objects.filter(next_send_at__gt=now + CLAIM_LOOKAHEAD)
    free = queued.exclude(from_number__in=busy.values("number"))
    waits: list[dt.datetime] = []
    if (
        first_free := free.order_by("next_attempt_at")
        .values_list("next_attempt_at", flat=True)
        .first()
    ):
        waits.append(first_free)
    held = busy.filter(number__in=queued.filter(next_attempt_at__lte=now).values("from_number"))
    if first_slot := held.order_by("next_send_at").values_list("next_send_at", flat=True).first():
        waits.append(first_slot - CLAIM_LOOKAHEAD)
    if not waits:
        return None
    return max((min(waits) - now).total_seconds(), 0.0)
