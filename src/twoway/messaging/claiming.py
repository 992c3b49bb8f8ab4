"""Claiming queued messages for sending (the first of claim → send → record), safe with many
workers; `sending.py` hands a claim to its carrier, `recording.py` stores what the carrier said.

The message table is the queue. A claim moves due messages to `sending` with a lease, inside
one short transaction that skips rows other workers hold (SKIP LOCKED on PostgreSQL; SQLite's
BEGIN IMMEDIATE serialises claimers instead). If a worker dies mid-send, the lease runs out and
another worker sends the message again with the same idempotency key, which a carrier that
honours it (the simulator does) turns into one delivery. The only window for a duplicate is a
carrier without such a key accepting the message and the worker dying before it records that
(the worker records results in batches, so that window is one pass of its loop).

Each sender number's throughput limit is kept in `PhoneNumber.next_send_at`: a claim books the
next free slot for the message's segments, so workers anywhere share one limit.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from twoway.carrier_accounts.selectors import carrier_webhook_url
from twoway.carriers.base import SendRequest
from twoway.carriers.errors import explain
from twoway.conversations.models import Direction, Kind, Message, Priority, Status
from twoway.core.rows import ExistsProbe, RowsStatement, as_uuid, rows_write
from twoway.media.rules import MMS_ENCODING
from twoway.media.selectors import media_links_for_carrier
from twoway.messaging.recording import RECORD_FIELDS, message_fail
from twoway.numbers.models import PhoneNumber

# A claim may book slots up to this far ahead, so a busy number's next second of sends is claimed
# in one go and then paced by the sender threads.
CLAIM_LOOKAHEAD = dt.timedelta(seconds=1)

# Slots are booked this much further apart than a number's limit asks. Two sends leave their
# worker a slot apart but reach the carrier up to ~20 ms closer or further (threads, the GIL, the
# network; measured at the fake carrier); without the margin such jitter at a second's edge puts
# one segment too many into the carrier's window. Any limit+1 consecutive segments of a number
# then span 1 s plus the margin (40 ms at 4%) before jitter. It costs 4% of the limit; 3% still
# let 2 windows through in one of eight full runs.
RATE_MARGIN = Decimal("0.04")

# A worker paces two sends of one number at least this share of their booked spacing apart: less
# than the booking, so a send that left late lets the next ones catch up with their slots instead
# of pushing every later send back, more than the limit itself, so the margin keeps half its use.
CATCH_UP_SHARE = (1 + RATE_MARGIN / 2) / (1 + RATE_MARGIN)

# Senders whose limit is below this many segments per second are sent by one worker process of
# a supervisor (`twoway worker --processes N`), chosen by the number's id: one process keeps up
# with such a limit, and two processes sending for one number could each let a send leave late
# and the next one on time, putting one segment too many into the carrier's second (2 windows
# over in a loaded run, measured). Faster senders are shared by every process.
SHARED_SENDER_MIN_MPS = 100

# Claim candidates read per message wanted: rows of senders that fill up during the claim are
# skipped, so a claim still finds work for the others.
CANDIDATES_PER_CLAIM = 2


@dataclass(frozen=True)
class ClaimedSend:
    message_id: int
    send_at: dt.datetime
    lease_expires_at: dt.datetime
    request: SendRequest
    carrier: str
    carrier_account_id: int | None  # the sender's carrier account; None: the operator's
    attempt: int  # which claim of the message this is: a stale one records nothing
    spacing: float  # seconds this message occupies on its sender's rate limit (margin included)

    @property
    def min_gap(self) -> float:
        """Seconds this send must leave after its sender's previous one in the same worker."""
        return self.spacing * float(CATCH_UP_SHARE)


def slot_spacing(segments: int, mps_limit: Decimal) -> Decimal:
    """Seconds a message of `segments` takes on a number's rate limit, margin included."""
    per_segment = (1 + RATE_MARGIN) / max(mps_limit, Decimal("0.01"))
    return Decimal(max(segments, 1)) * per_segment


@dataclass(frozen=True)
class _Candidate:
    """A due message as the claim reads it: one row, no model instance."""

    id: int
    uid: str
    attempts: int
    priority: int
    next_attempt_at: Any  # only compared with other candidates' (naive on SQLite)
    segments: int
    from_number: str
    to_number: str
    body: str
    carrier: str
    encoding: str


def _prefer_index_order() -> None:
    """Keep PostgreSQL's planner on `message_due_idx` for the rest of the claim.

    Right after a large blast is queued the table's statistics still say almost nothing is
    queued (autovacuum analyses after 10% of a table changed, so a big table may wait long),
    and the planner then collects every due message and sorts them: 12-47 ms per claim at
    10,000 queued, measured, against 0.4 ms walking the index. Pricing sorts out makes the
    index walk the plan whatever the statistics say. JIT goes off with it: statements that
    must still sort look so expensive that they would be JIT-compiled (~0.7 s, measured). The
    other statements of a claim are small and keyed; one round trip sets both.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('enable_sort', 'off', true), set_config('jit', 'off', true)"
            )


def _lock_candidates(
    now: dt.datetime, count: int, lost_leases: bool, partition: tuple[int, int] | None
) -> list[_Candidate]:
    """Due messages in queue order, locked: queued ones and those whose lease ran out.

    Two queries, because each matches an index: the queued ones walk the partial index
    `message_due_idx` in claim order and stop after `count` rows, instead of sorting the whole
    queue; the few `sending` ones with a lost lease come from `message_lease_idx`. Written out
    by hand: building, compiling and instantiating these through the ORM was about a third of
    a busy worker's CPU per message (docs/performance.md).
    """
    adapt = connection.ops.adapt_datetimefield_value
    now_db = adapt(now)
    index, processes = partition or (0, 1)
    due = (now_db, adapt(now + CLAIM_LOOKAHEAD), SHARED_SENDER_MIN_MPS, processes, index)
    statements = _claim_statements()
    with connection.cursor() as cursor:
        cursor.execute(statements.queued, (*due, count))
        rows = cursor.fetchall()
        if lost_leases:
            cursor.execute(statements.lost, (*due, now_db, count))
            rows += cursor.fetchall()
    candidates = [_Candidate(*row) for row in rows]
    if lost_leases:
        candidates.sort(key=lambda m: (m.priority, m.next_attempt_at, m.id))
    return candidates[:count]


@dataclass(frozen=True)
class _ClaimStatements:
    queued: str
    lost: str
    numbers: str


@functools.cache
def _claim_statements() -> _ClaimStatements:
    """The claim's statements for this database; names come from the models."""
    m, n = Message._meta, PhoneNumber._meta
    # Senders already booked beyond the lookahead are left out, so a long backlog on one busy
    # number never fills the candidate window and starves every other number; so are slow
    # senders of another process of this supervisor (SHARED_SENDER_MIN_MPS). Released numbers
    # are no senders (PhoneNumber's default manager leaves them out too).
    due = (
        f"SELECT id, uid, attempts, priority, next_attempt_at, segments, from_number, "  # noqa: S608
        f"to_number, body, carrier, encoding FROM {m.db_table} "
        f"WHERE direction = '{Direction.OUTBOUND.value}' AND kind = '{Kind.MESSAGE.value}' "
        "AND next_attempt_at <= %s AND from_number NOT IN ("
        f"SELECT number FROM {n.db_table} WHERE released_at IS NULL AND (next_send_at > %s "
        "OR (mps_limit < %s AND id %% %s <> %s))) "
    )
    order = " ORDER BY priority, next_attempt_at, id LIMIT %s"
    # FOR NO KEY UPDATE where the database has it: a claim changes no key of what it locks, and
    # a plain FOR UPDATE would block the KEY SHARE locks other transactions' foreign keys take
    # at their commit (a send's new conversation naming its number): a claim locking numbers
    # while such a commit checked them deadlocked, and the send answered 500.
    features = connection.features
    mode = (
        " FOR NO KEY UPDATE"
        if features.has_select_for_no_key_update
        else " FOR UPDATE"
        if features.has_select_for_update
        else ""
    )
    skip_locked = f"{mode} SKIP LOCKED" if mode else ""
    lock = mode
    return _ClaimStatements(
        queued=f"{due}AND status = '{Status.QUEUED.value}'{order}{skip_locked}",
        lost=f"{due}AND status = '{Status.SENDING.value}' AND lease_expires_at < %s"
        f"{order}{skip_locked}",
        # Locked in id order, so two claimers never wait on each other in a cycle.
        numbers=f"SELECT id, number, mps_limit, next_send_at, carrier_account_id FROM {n.db_table} "  # noqa: S608
        "WHERE released_at IS NULL AND number IN ({}) ORDER BY id" + lock,
    )


def _lock_senders(numbers: set[str]) -> dict[str, list[Any]]:
    """The claim's senders, locked: number → [id, mps_limit, next_send_at, carrier account]."""
    statement = _claim_statements().numbers.format(", ".join(["%s"] * len(numbers)))
    with connection.cursor() as cursor:
        cursor.execute(statement, tuple(numbers))
        rows = cursor.fetchall()
    return {
        number: [pk, Decimal(str(limit)), _aware(next_send_at), account_id]
        for pk, number, limit, next_send_at, account_id in rows
    }


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    # SQLite hands back naive datetimes (stored in UTC); PostgreSQL aware ones.
    if value is not None and timezone.is_naive(value):
        return timezone.make_aware(value, dt.UTC)
    return value


def claim_due(
    limit: int,
    now: dt.datetime | None = None,
    *,
    lost_leases: bool = True,
    partition: tuple[int, int] | None = None,
) -> list[ClaimedSend]:
    """Claim up to `limit` due messages whose sender has a free slot within the lookahead.

    `lost_leases=False` leaves out messages whose lease ran out, for callers that look for
    them less often than they claim (a lease is tens of seconds; a busy worker claims many
    times a second). `partition` = (index, processes) of a supervised worker process: slow
    senders of the other processes are theirs (SHARED_SENDER_MIN_MPS).
    """
    now = now or timezone.now()
    lease = dt.timedelta(seconds=settings.SEND_LEASE_SECONDS)
    with transaction.atomic():
        _prefer_index_order()
        candidates = _lock_candidates(now, limit * CANDIDATES_PER_CLAIM, lost_leases, partition)
        if not candidates:
            return []
        senders = _lock_senders({m.from_number for m in candidates})
        slots: list[tuple[_Candidate, dt.datetime, Decimal, int | None]] = []
        booked: dict[str, list[Any]] = {}
        for message in candidates:
            if len(slots) >= limit:
                break
            sender = senders.get(message.from_number)
            if sender is None:
                message_fail(
                    Message.objects.only(*RECORD_FIELDS).get(pk=message.id),
                    "no_sender",
                    explain("no_sender"),
                )
                continue
            _, mps_limit, next_send_at, _ = sender
            slot = max(now, next_send_at or now)
            if slot > now + CLAIM_LOOKAHEAD:
                continue  # this sender is busy for now; lower-priority senders may still go
            spacing = slot_spacing(message.segments, mps_limit)
            sender[2] = slot + dt.timedelta(seconds=float(spacing))
            booked[message.from_number] = sender
            slots.append((message, slot, spacing, sender[3]))
        if not slots:
            return []
        # One lease for the whole claim, from its latest slot: a message booked earlier holds
        # its lease a little longer, and the claim is one UPDATE however many it takes.
        lease_expires_at = max(slot for _, slot, _, _ in slots) + lease
        _mark_claimed([message.id for message, _, _, _ in slots], lease_expires_at)
        _save_next_send_at([(sender[0], sender[2]) for sender in booked.values()])
    # Only a claim with an MMS in it reads media: plain texts cost no statement more.
    mms = [message.id for message, _, _, _ in slots if message.encoding == MMS_ENCODING]
    media_links = media_links_for_carrier(mms) if mms else {}
    return [
        ClaimedSend(
            message_id=message.id,
            send_at=slot,
            lease_expires_at=lease_expires_at,
            carrier=message.carrier,
            carrier_account_id=account_id,
            attempt=message.attempts + 1,  # as the claim's UPDATE counted it
            spacing=float(spacing),
            request=SendRequest(
                idempotency_key=str(as_uuid(message.uid)),
                from_number=message.from_number,
                to_number=message.to_number,
                body=message.body,
                status_callback_url=carrier_webhook_url(message.carrier, account_id),
                media_urls=media_links.get(message.id, ()),
            ),
        )
        for message, slot, spacing, account_id in slots
    ]


def _mark_claimed(ids: list[int], lease_expires_at: dt.datetime) -> None:
    statement = _CLAIMED_UPDATE.format(", ".join(["%s"] * len(ids)))
    params = (Status.SENDING.value, connection.ops.adapt_datetimefield_value(lease_expires_at))
    with connection.cursor() as cursor:
        cursor.execute(statement, (*params, *ids))


def _save_next_send_at(senders: list[tuple[int, dt.datetime]]) -> None:
    adapt = connection.ops.adapt_datetimefield_value
    rows_write(_NEXT_SEND_UPDATE, [(adapt(next_send_at), pk) for pk, next_send_at in senders])


def _others_senders(partition: tuple[int, int]) -> QuerySet[PhoneNumber]:
    """Slow senders another process of this supervisor sends for."""
    index, processes = partition
    return (
        PhoneNumber.objects.filter(mps_limit__lt=SHARED_SENDER_MIN_MPS)
        .annotate(share=F("id") % processes)
        .exclude(share=index)
    )


def next_due_in(
    now: dt.datetime | None = None, *, partition: tuple[int, int] | None = None
) -> float | None:
    """Seconds until a queued message can next be claimed (None when none is waiting).

    A message that is due but whose sender is booked up waits for the sender's next free slot,
    so an idle worker sleeps instead of spinning on a rate-limited backlog.
    """
    now = now or timezone.now()
    queued = _queued()
    # The worker asks whenever it goes idle, which under a stream of inbound texts is many times
    # a second with nothing queued: one look at `message_due_idx` answers that case, where the
    # lookups below cost ~5 ms of CPU (measured with the benchmark, docs/performance.md).
    if not _ANY_QUEUED():
        return None
    if partition is not None and partition[1] > 1:
        others = _others_senders(partition)
        queued = queued.exclude(from_number__in=others.values("number"))
    busy = PhoneNumber.objects.filter(next_send_at__gt=now + CLAIM_LOOKAHEAD)
    free = queued.exclude(from_number__in=busy.values("number"))
    waits: list[dt.datetime] = []
    # One look per priority: each walks `message_due_idx` in order and stops at the first row,
    # where one look over all priorities would sort the whole queue.
    for priority in Priority.values:
        first_free = (
            free.filter(priority=priority)
            .order_by("next_attempt_at")
            .values_list("next_attempt_at", flat=True)
            .first()
        )
        if first_free is not None:
            waits.append(first_free)
    held = busy.filter(number__in=queued.filter(next_attempt_at__lte=now).values("from_number"))
    if first_slot := held.order_by("next_send_at").values_list("next_send_at", flat=True).first():
        waits.append(first_slot - CLAIM_LOOKAHEAD)
    if not waits:
        return None
    return max((min(waits) - now).total_seconds(), 0.0)


def _queued() -> QuerySet[Message]:
    return Message.objects.filter(status=Status.QUEUED, next_attempt_at__isnull=False)


_ANY_QUEUED = ExistsProbe(_queued)

# Names from the models, values as parameters.
_M, _N = Message._meta.db_table, PhoneNumber._meta.db_table
_NEXT_SEND_UPDATE = RowsStatement(
    values=f"UPDATE {_N} AS n SET next_send_at = v.next_send_at "  # noqa: S608
    "FROM (VALUES {}) AS v(next_send_at, id) WHERE n.id = v.id",
    each=f"UPDATE {_N} SET next_send_at = %s WHERE id = %s",  # noqa: S608
)

_CLAIMED_UPDATE = (
    f"UPDATE {_M} SET status = %s, attempts = attempts + 1, "  # noqa: S608
    "lease_expires_at = %s WHERE id IN ({})"
)
