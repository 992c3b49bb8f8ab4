"""Recording what carriers said to sends (the last of claim → send → record): many outcomes in
one transaction, a sent message's carrier id, a transient error re-queued with backoff, a
permanent one failed and refunded."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from twoway.billing.services import balance_refund
from twoway.carriers.base import CarrierError, SendResult
from twoway.carriers.errors import explain
from twoway.conversations.models import Message, Status, status_moves_forward
from twoway.core.rows import RowsStatement, as_uuid, rows_write
from twoway.realtime.events import MessageStatus, event_publish, events_publish

log = logging.getLogger(__name__)

# What recording a result reads: enough to decide and to publish the new status.
RECORD_FIELDS = ("id", "uid", "organization_id", "conversation_id", "status", "attempts")


@dataclass(frozen=True)
class SendOutcome:
    """What a carrier made of one send: its result, or the error it raised."""

    message_id: int
    # The claim's attempt; None records whatever the message's current claim is.
    attempt: int | None
    result: SendResult | None = None
    error: CarrierError | None = None
    at: dt.datetime = field(default_factory=timezone.now)


@dataclass
class _Recorded:
    """A message as recording reads it (locked): enough to decide and to publish."""

    id: int
    uid: Any
    organization_id: int
    conversation_id: int
    status: str
    attempts: int


@transaction.atomic
def record_outcomes(outcomes: Sequence[SendOutcome]) -> None:
    """Record what carriers said to many sends in one transaction: one commit for the batch."""
    ids = sorted({o.message_id for o in outcomes})
    messages = {m.id: m for m in _lock_for_recording(ids)}
    sent: dict[int, tuple[_Recorded, str, dt.datetime]] = {}
    for outcome in outcomes:
        message = messages.get(outcome.message_id)
        if message is None:
            continue  # deleted meanwhile
        if outcome.result is not None:
            # Any claim's success counts, a stale one's too: every claim of a message carries
            # the same idempotency key, so the carrier's id is the same whoever records it.
            if status_moves_forward(message.status, Status.SENT):
                message.status = Status.SENT  # a status report had not already moved it on
                sent[message.id] = (message, outcome.result.carrier_message_id, outcome.at)
        elif outcome.error is not None and message.status == Status.SENDING:
            # Rare, and retries, refunds and failures go through the model: read it in full.
            model = Message.objects.only(*RECORD_FIELDS).get(pk=message.id)
            _record_error(model, outcome.error, outcome.attempt)
            message.status = model.status
    _save_sent(list(sent.values()))
    _publish_statuses([message for message, _, _ in sent.values()])


def _lock_for_recording(ids: list[int]) -> list[_Recorded]:
    # Locked in id order, so two recorders never wait on each other in a cycle.
    statement = _RECORD_SELECT.format(", ".join(["%s"] * len(ids)))
    if connection.features.has_select_for_update:
        statement += " FOR UPDATE"
    with connection.cursor() as cursor:
        cursor.execute(statement, ids)
        return [_Recorded(*row) for row in cursor.fetchall()]


def _save_sent(sent: list[tuple[_Recorded, str, dt.datetime]]) -> None:
    """Store sent messages, each with its own carrier id (which `QuerySet.update` cannot
    express; `bulk_update` builds a CASE per row and field, ~2 ms of Python per message)."""
    if not sent:
        return
    adapt = connection.ops.adapt_datetimefield_value
    rows = [(carrier_message_id, adapt(at), message.id) for message, carrier_message_id, at in sent]
    rows_write(_SENT_UPDATE, rows)


def retry_delay(attempts: int) -> dt.timedelta:
    seconds = settings.SEND_RETRY_BASE_SECONDS * (2 ** max(attempts - 1, 0))
    return dt.timedelta(seconds=min(seconds, settings.SEND_RETRY_MAX_SECONDS))


def _record_error(message: Message, error: CarrierError, attempt: int | None) -> None:
    if message.status != Status.SENDING:
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
        message_fail(message, "expired", f"{explain('expired')} Last error: {error}")
    else:
        message_fail(message, error.code, explain(error.code) or str(error))


def message_fail(message: Message, code: str, explanation: str) -> None:
    balance_refund(message=message)  # no carrier took it: its segments were never used
    message.status = Status.FAILED
    message.lease_expires_at = None
    message.error_code = code
    message.error_message = explanation[:300]
    message.save(update_fields=["status", "lease_expires_at", "error_code", "error_message"])
    _publish_status(message)


def _publish_statuses(messages: list[_Recorded]) -> None:
    events_publish(
        [
            MessageStatus(
                organization_id=message.organization_id,
                conversation_id=message.conversation_id,
                message=str(as_uuid(message.uid)),
                status=message.status,
            )
            for message in messages
        ]
    )


def _publish_status(message: Message) -> None:
    event_publish(
        MessageStatus(
            organization_id=message.organization_id,
            conversation_id=message.conversation_id,
            message=str(message.uid),
            status=message.status,
        )
    )


# Names from the models, values as parameters. The rows of a `RowsStatement` are in the order
# of `each`'s parameters, which the names after VALUES follow.
_M = Message._meta.db_table
_SENT_FIELDS = (
    f"status = '{Status.SENT.value}', lease_expires_at = NULL, error_code = '', error_message = ''"
)

_SENT_UPDATE = RowsStatement(
    values=f"UPDATE {_M} AS m SET {_SENT_FIELDS}, carrier_message_id = v.carrier_message_id, "  # noqa: S608
    "sent_at = v.sent_at FROM (VALUES {}) AS v(carrier_message_id, sent_at, id) "
    "WHERE m.id = v.id",
    each=f"UPDATE {_M} SET {_SENT_FIELDS}, carrier_message_id = %s, sent_at = %s "  # noqa: S608
    "WHERE id = %s",
)

_RECORD_SELECT = f"SELECT {', '.join(RECORD_FIELDS)} FROM {_M} WHERE id IN ({{}}) ORDER BY id"  # noqa: S608
