"""Texts sent later: when a text may be scheduled for, changing or cancelling a scheduled text,
and the worker's promotion of the due ones to the queue.

A scheduled text is stored as any text is (`message_send`), with status `scheduled`, its due
time in `send_at` and no `next_attempt_at`, so no claim sees it. Its segments are reserved from
the balance when it is scheduled, so "balance used up" never comes as a surprise at its time,
and given back when it is cancelled or fails. When it falls due, the worker moves it to
`queued` in one statement (`scheduled_promote`) and the claim sends it like any other text;
what the claim checks (a released number) applies then, and so does the contact's opt-out,
which promotion checks in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from twoway.accounts.models import Membership
from twoway.billing.services import balance_rebook, balance_refund
from twoway.contacts.models import ContactPhone, OptInStatus
from twoway.conversations.models import Category, Message, Status
from twoway.core.errors import Conflict
from twoway.core.rows import as_uuid
from twoway.core.segments import segment_info
from twoway.messaging.quiet_hours import steps_outside_quiet_hours
from twoway.messaging.recording import message_fail
from twoway.messaging.send_times import schedule_time_check
from twoway.messaging.services import validate_body
from twoway.realtime.events import MessageStatus, event_publish, events_publish

# Due texts moved to the queue by one statement at most: a pass that moved this many looks again
# at once.
PROMOTE_BATCH = 1000

OPTED_OUT_AT_SEND_TIME = (
    "The contact opted out before this scheduled text was due, so it was not sent."
)
DRIP_OPTED_OUT = "Not sent: the contact opted out before this drip step was due."
DRIP_OPT_OUT_FLAGGED = (
    "Not sent: a possible opt-out from the contact was waiting for a decision when this drip "
    "step was due."
)


def _locked_scheduled(message: Message) -> Message:
    """The message, locked, as long as it is still waiting for its time."""
    locked = Message.objects.select_for_update().get(pk=message.pk)
    if locked.status != Status.SCHEDULED:
        raise Conflict(
            f"This text is no longer scheduled (it is {locked.get_status_display().lower()}), "
            "so it cannot be changed or cancelled.",
            code="not_scheduled",
        )
    return locked


@transaction.atomic
def scheduled_edit(
    *,
    message: Message,
    membership: Membership | None,
    body: str | None = None,
    send_at: dt.datetime | None = None,
) -> Message:
    """Change a scheduled text's words, its time, or both; its reservation follows its
    segments. `membership` is who changes it (access checked by the caller)."""
    locked = _locked_scheduled(message)
    fields = []
    if body is not None:
        text = validate_body(locked.organization, body, locked.category)
        info = segment_info(text)
        balance_rebook(message=locked, segments=info.segments)
        locked.body, locked.encoding, locked.segments = text, info.encoding, info.segments
        fields += ["body", "encoding", "segments"]
    if send_at is not None:
        locked.send_at = schedule_time_check(send_at)
        fields.append("send_at")
    if fields:
        locked.save(update_fields=fields)
        _publish(locked)
    return locked


@transaction.atomic
def scheduled_cancel(*, message: Message, membership: Membership | None) -> Message:
    """Cancel a scheduled text: it stays in the thread as cancelled, its segments given back."""
    locked = _locked_scheduled(message)
    balance_refund(message=locked)
    locked.status = Status.CANCELED
    locked.save(update_fields=["status"])
    _publish(locked)
    return locked


@dataclass(frozen=True)
class _Promoted:
    id: int
    uid: str
    organization_id: int
    conversation_id: int | None
    to_number: str
    category: str


def scheduled_promote(now: dt.datetime | None = None) -> int:
    """Queue the scheduled texts whose time has come; how many were moved.

    One statement moves them and names them (UPDATE ... RETURNING), so two workers promoting at
    once never both take a text (the second's update finds it queued already and leaves it),
    and a worker killed mid-promotion rolls the whole move back. In the same transaction, a
    text whose contact opted out since it was scheduled is failed instead of sent.
    """
    now = now or timezone.now()
    adapt = connection.ops.adapt_datetimefield_value
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(_PROMOTE, (adapt(now), PROMOTE_BATCH))
            promoted = [_Promoted(*row) for row in cursor.fetchall()]
        if not promoted:
            return 0
        opted_out, flagged = _opted_out_and_flagged(promoted)
        stopped = opted_out | flagged
        # A drip step promoted late (the worker was down) into the contact's night waits for
        # the morning: quiet hours hold however late it is.
        held = steps_outside_quiet_hours(
            [
                (m.id, m.organization_id, m.to_number)
                for m in promoted
                if m.category == Category.DRIP and (m.organization_id, m.to_number) not in stopped
            ],
            now,
        )
        for message_id, moment in held.items():
            Message.objects.filter(pk=message_id).update(
                status=Status.SCHEDULED, send_at=moment, next_attempt_at=None
            )
        queued = []
        for message in promoted:
            key = (message.organization_id, message.to_number)
            if message.id in held:
                continue
            if message.category == Category.DRIP and key in stopped:
                # A drip step is automation's: it is dropped, not failed, and says why.
                code, reason = (
                    ("opted_out", DRIP_OPTED_OUT)
                    if key in opted_out
                    else ("opt_out_flagged", DRIP_OPT_OUT_FLAGGED)
                )
                _cancel_with_reason(Message.objects.get(pk=message.id), code, reason)
            elif key in opted_out:
                failing = Message.objects.get(pk=message.id)
                message_fail(failing, "opted_out", OPTED_OUT_AT_SEND_TIME)
            else:
                queued.append(message)
        events_publish(
            [
                MessageStatus(
                    organization_id=message.organization_id,
                    conversation_id=message.conversation_id,
                    message=str(as_uuid(message.uid)),
                    # A held step is scheduled again, for its new time.
                    status=Status.SCHEDULED if message.id in held else Status.QUEUED,
                )
                for message in promoted
                if message in queued or message.id in held
            ]
        )
    return len(promoted)


def _opted_out_and_flagged(
    promoted: list[_Promoted],
) -> tuple[set[tuple[int, str]], set[tuple[int, str]]]:
    """Which (organization, number) of these texts are opted-out contacts', and which have a
    possible opt-out waiting for an agent's decision."""
    rows = ContactPhone.objects.filter(
        Q(contact__opt_in_status=OptInStatus.OPTED_OUT)
        | Q(contact__opt_out_flagged_at__isnull=False),
        organization_id__in={m.organization_id for m in promoted},
        number__in={m.to_number for m in promoted},
    ).values_list("organization_id", "number", "contact__opt_in_status")
    opted_out: set[tuple[int, str]] = set()
    flagged: set[tuple[int, str]] = set()
    for organization_id, number, status in rows:
        (opted_out if status == OptInStatus.OPTED_OUT else flagged).add((organization_id, number))
    return opted_out, flagged


def _cancel_with_reason(message: Message, code: str, reason: str) -> None:
    balance_refund(message=message)
    message.status = Status.CANCELED
    message.error_code = code
    message.error_message = reason[:300]
    message.save(update_fields=["status", "error_code", "error_message"])
    _publish(message)


def next_scheduled_in(now: dt.datetime | None = None) -> float | None:
    """Seconds until the next scheduled text is due (0 when one is), None when none waits."""
    first = (
        Message.objects.filter(status=Status.SCHEDULED)
        .order_by("send_at")
        .values_list("send_at", flat=True)
        .first()
    )
    if first is None:
        return None
    return max((first - (now or timezone.now())).total_seconds(), 0.0)


def _publish(message: Message) -> None:
    event_publish(
        MessageStatus(
            organization_id=message.organization_id,
            conversation_id=message.conversation_id,
            message=str(message.uid),
            status=message.status,
        )
    )


_M = Message._meta.db_table
# The status is checked again outside the subquery: on PostgreSQL a second promoter waiting on
# a row the first one moved re-reads the row and skips it, instead of queueing it once more
# (which could undo a claim that took it meanwhile).
_PROMOTE = (
    f"UPDATE {_M} SET status = '{Status.QUEUED.value}', next_attempt_at = send_at "  # noqa: S608
    f"WHERE status = '{Status.SCHEDULED.value}' AND id IN ("
    f"SELECT id FROM {_M} WHERE status = '{Status.SCHEDULED.value}' AND send_at <= %s "
    "ORDER BY send_at LIMIT %s) "
    "RETURNING id, uid, organization_id, conversation_id, to_number, category"
)
