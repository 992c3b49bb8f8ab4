"""What happens to a carrier's webhook: stored raw at once, processed by the worker after.

`carrier_event_record` (`event_store.py`) is all a webhook request does besides verifying it, so it
answers fast and a retried webhook lands on the unique key instead of creating a second message.
The worker runs `carrier_events_process_pending`: a batch of events is processed and marked done
in one transaction, so an event is processed exactly once whatever crashes; plain texts to
inboxes are received together, with a few queries for the whole batch.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import (
    DataError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    connections,
    router,
    transaction,
)
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import F, Q
from django.utils import timezone

from twoway.accounts.models import OffReply, Organization
from twoway.carriers.base import (
    CarrierEventData,
    InboundMessage,
    StatusUpdate,
    VerificationUpdate,
    event_without_nul,
)
from twoway.carriers.models import CarrierEvent, EventKind
from twoway.compliance.keywords import (
    KeywordAction,
    classify,
    looks_like_opt_out,
    normalize_keyword,
)
from twoway.compliance.models import ConsentEvent, ConsentEventKind
from twoway.contacts.models import Contact, ContactPhone, CreatedFrom
from twoway.contacts.services import contact_get_or_create_by_phone, contact_set_opt_in
from twoway.conversations.models import Category, Conversation, Direction, Message, Status
from twoway.conversations.services import (
    body_preview,
    conversation_get_or_create,
    conversation_record_inbound,
    conversation_updated_data,
    inbound_folder,
)
from twoway.core.errors import TwowayError
from twoway.core.phones import InvalidPhoneNumber, normalize_phone
from twoway.core.rows import bound_cursor, rows_insert
from twoway.messaging.event_store import carrier_event_row, carrier_events_store
from twoway.messaging.segments import segment_info
from twoway.messaging.senders import system_reply_origin
from twoway.numbers.activation import dedicated_number
from twoway.numbers.models import PhoneNumber
from twoway.numbers.verification import number_verification_set
from twoway.realtime.models import RealtimeEvent
from twoway.realtime.services import event_publish

log = logging.getLogger(__name__)

# A status report may arrive before the worker recorded the carrier's id for that send; it is
# tried again for a while before it is given up.
STATUS_RETRY_DELAY = dt.timedelta(seconds=2)
STATUS_MAX_ATTEMPTS = 30
# An event whose processing crashed (a bug, a database outage) is kept and tried again, ever
# more slowly: after a fix it is processed, and it stays visible in the admin meanwhile.
CRASH_RETRY_MAX_DELAY = dt.timedelta(minutes=10)
# A crash on every try is not retried for ever: after this many attempts (about 40 hours of
# tries at the delays above, time to ship a fix) the event is marked failed. A lost database
# connection never counts: the event waits for the database however long it is away.
CRASH_MAX_ATTEMPTS = 400
# A unique constraint broken by a race (a contact created meanwhile) is cured by the next try;
# broken again and again, it is the event's own data, and the event is marked failed.
INTEGRITY_MAX_ATTEMPTS = 3

# How far a status may move: a late "sent" never undoes "delivered".
_STATUS_RANK = {
    Status.QUEUED: 0,
    Status.SENDING: 1,
    Status.SENT: 2,
    Status.DELIVERED: 3,
    Status.UNDELIVERED: 3,
    Status.FAILED: 3,
}


# A text no inbox shows gets the do-not-reply message at most this often per handset.
DO_NOT_REPLY_INTERVAL = dt.timedelta(hours=24)
DO_NOT_REPLY_LABEL = "do-not-reply"


class RetryLater(Exception):
    pass


class Unprocessable(Exception):
    """The event can never be processed (an unknown number): recorded and left."""


def carrier_event_record(carrier: str, event: CarrierEventData) -> bool:
    """Store a verified webhook event once (NUL characters removed, as from every carrier).
    False when it was a duplicate."""
    [stored] = carrier_events_store([carrier_event_row(carrier, event_without_nul(event))])
    return stored


def carrier_events_batch_limit() -> int:
    """How many events the worker processes in one transaction at most.

    PostgreSQL: 1,000, measured in-process with a backlog of texts (docs/performance.md) at
    1.3-1.6 times the rate of 200, as a batch costs a few statements whatever its size. SQLite:
    200, as its one write lock keeps the webhooks from storing events while a batch runs."""
    db = connections[router.db_for_write(CarrierEvent)]
    return 1000 if db.vendor == "postgresql" else 200


def carrier_events_process_pending(limit: int = 100) -> int:
    """Process up to `limit` waiting events in one transaction; returns how many were handled.

    One worker process at a time (PostgreSQL: an advisory lock, see EVENTS_LOCK_KEY); the batch
    is committed together with every event's `processed_at`, so a worker killed mid-batch leaves
    all of it to the next pass, which processes it exactly once.
    """
    now = timezone.now()
    waiting = CarrierEvent.objects.filter(processed_at__isnull=True).exclude(retry_at__gt=now)
    # The worker asks every time it wakes: with nothing waiting, one index look instead of a
    # transaction, a lock and a locking read (docs/performance.md, part 7).
    if not waiting.exists():
        return 0
    with transaction.atomic():
        if not _events_turn():
            return 0  # another worker process is at it
        events = list(waiting.select_for_update(skip_locked=True).order_by("id")[:limit])
        if events and not _process_batch(events):
            _commit_without_waiting(connections[router.db_for_write(CarrierEvent)])
    return len(events)


def _commit_without_waiting(db: BaseDatabaseWrapper) -> None:
    """PostgreSQL: this transaction's commit returns before its WAL is on disk (about one
    flush per batch less; docs/decisions.md, "Inbound batches: rows written without
    `bulk_create`, commits without waiting").

    Only for a transaction that queued no text to send: if the database crashes within the
    next fraction of a second, the commit may be lost, and so are the `processed_at` of its raw
    events, which are then processed again (nothing lost, nothing twice). A queued send lost so
    could have left already, and its event processed again would send it a second time. A
    later commit that waits (an agent's reply to one of these texts) flushes this one first.
    """
    if db.vendor != "postgresql":
        return
    with db.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit = off")


# The PostgreSQL advisory lock (any number of our own) that lets one worker process at a time
# process carrier events: texts of one conversation are then stored in the order they came, and
# two batches never race to create the same contact or conversation. A batch of hundreds of
# texts takes a fraction of a second, so the other processes lose little: they send meanwhile.
EVENTS_LOCK_KEY = 0x7477_6576


def _events_turn() -> bool:
    """Take the carrier events' lock for this transaction; False when another process has it."""
    db = connections[router.db_for_write(CarrierEvent)]
    if db.vendor != "postgresql":
        return True  # SQLite: one writer at a time anyway
    with db.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [EVENTS_LOCK_KEY])
        return bool(cursor.fetchone()[0])


@dataclass(frozen=True)
class _Received:
    """A fresh text to an inbox, with nothing to act on: what the batch path takes."""

    event: CarrierEvent
    inbound: InboundMessage
    texted: PhoneNumber
    from_number: str


def _process_batch(events: list[CarrierEvent]) -> bool:
    """Plain texts to inboxes are received together, a few queries for all of them; anything
    else (keywords, system numbers, texts no inbox shows, status reports, retries) goes through
    the one-event path. Events are taken in order, and the texts gathered so far are stored
    before any other inbound event is processed, so a STOP acts after the texts that came before
    it and before the ones after it, as one at a time would.

    True when an event may have queued a text to send: any but a plain text or a status report.
    """
    numbers = _numbers_texted(events)
    group: list[_Received] = []
    may_send = False
    for event in events:
        received = _batchable(event, numbers)
        if received is not None:
            group.append(received)
            continue
        if event.kind != EventKind.STATUS:
            _receive_group(group)
            group = []
            may_send = True  # a keyword's confirmation, a do-not-reply answer, ...
        _process_alone(event)
        if event.kind == EventKind.VERIFICATION:
            numbers = _numbers_texted(events)  # a number may be held now
    _receive_group(group)
    return may_send


def _numbers_texted(events: list[CarrierEvent]) -> dict[tuple[str, str], PhoneNumber]:
    """The numbers the batch's texts went to, by (carrier, number): a text reaches a number
    only through the carrier that has it, whichever carrier's webhook names it."""
    wanted = {
        (event.carrier, str(event.payload.get("to_number")))
        for event in events
        if event.kind == EventKind.INBOUND and isinstance(event.payload, dict)
    }
    found: dict[tuple[str, str], PhoneNumber] = {}
    numbers = PhoneNumber.objects.select_related("organization").filter(
        number__in={number for _, number in wanted}, carrier__in={carrier for carrier, _ in wanted}
    )
    for number in numbers.order_by("pk"):
        # The first, as `.first()` finds it.
        found.setdefault((number.carrier, number.number), number)
    return found


def _inbound_of(event: CarrierEvent) -> InboundMessage:
    data: dict[str, Any] = dict(event.payload)
    data["media_urls"] = tuple(data.get("media_urls") or ())
    return InboundMessage(**data)


def _batchable(
    event: CarrierEvent, numbers: dict[tuple[str, str], PhoneNumber]
) -> _Received | None:
    if event.kind != EventKind.INBOUND or event.attempts:
        return None  # an event that failed before is tried alone
    try:
        inbound = _inbound_of(event)
    except Exception:
        return None  # the one-event path records why
    texted = numbers.get((event.carrier, inbound.to_number))
    if texted is None or texted.is_system:
        return None
    from_number = _sender_number(inbound.from_number, texted)
    if _route(texted, from_number).inbox_number is None:
        return None
    if classify(inbound.body) is not None or looks_like_opt_out(inbound.body):
        return None
    return _Received(event, inbound, texted, from_number)


def _receive_group(group: list[_Received]) -> None:
    """Receive the texts together; when that fails, each half again, so one bad event is
    found and recorded as failed while the others are received in this pass. A lone text
    takes the one-event path, which costs as much and records its failure."""
    if len(group) <= 1:
        for received in group:
            _process_alone(received.event)
        return
    try:
        with transaction.atomic():
            _receive_together(group)
    except Exception:
        log.warning("A batch of %d texts failed; trying each half", len(group), exc_info=True)
        half = len(group) // 2
        _receive_group(group[:half])
        _receive_group(group[half:])


def _receive_together(group: list[_Received]) -> None:
    """What `inbound_message_receive` does for each text, with a few queries for the group."""
    taken = _messages_stored({(r.event.carrier, r.inbound.carrier_message_id) for r in group})
    fresh: list[_Received] = []
    for received in group:
        key = (received.event.carrier, received.inbound.carrier_message_id)
        if key not in taken:  # else a duplicate: already a message, nothing more to do
            taken.add(key)
            fresh.append(received)
    contacts = _contacts_for(fresh)
    conversations = _conversations_for(fresh, contacts)
    now = timezone.now()
    texts: list[_Text] = []
    rows: list[dict[str, Any]] = []
    for received in fresh:
        info = segment_info(received.inbound.body)
        organization_id = received.texted.organization_id
        assert organization_id is not None
        text = _Text(
            uid=uuid.uuid4(),
            body=received.inbound.body,
            from_number=received.from_number,
            organization_id=organization_id,
            conversation_id=conversations[(received.texted.pk, received.from_number)],
            texted=received.texted,
            created_at=now,
        )
        texts.append(text)
        rows.append(
            {
                "uid": text.uid,
                "organization_id": organization_id,
                "conversation_id": text.conversation_id,
                "direction": Direction.INBOUND.value,
                "body": text.body,
                "encoding": info.encoding,
                "segments": info.segments,
                "status": Status.RECEIVED.value,
                "from_number": text.from_number,
                "to_number": received.texted.number,
                "carrier": received.event.carrier,
                "carrier_message_id": received.inbound.carrier_message_id,
                "created_at": now,
            }
        )
    rows_insert(Message, rows)
    by_conversation: dict[int, list[_Text]] = {}
    for text in texts:
        by_conversation.setdefault(text.conversation_id, []).append(text)
    now_read = _conversations_record_inbound(by_conversation)
    realtime: list[dict[str, Any]] = []
    for conversation_id, its_texts in by_conversation.items():
        folder, unread_count, muted = now_read[conversation_id]
        organization_id = its_texts[0].organization_id
        realtime.append(
            _realtime_row(
                organization_id,
                "conversation.updated",
                conversation_id,
                conversation_updated_data(folder=folder, unread_count=unread_count),
            )
        )
        for text in its_texts:
            contact_name = contacts[(organization_id, text.from_number)][1]
            realtime.append(
                _realtime_row(
                    organization_id,
                    "message.created",
                    conversation_id,
                    {
                        "message": str(text.uid),
                        "direction": "in",
                        "muted": muted,
                        "preview": text.body[:80],
                        "contact": contact_name or text.from_number,
                    },
                )
            )
    rows_insert(RealtimeEvent, realtime)
    CarrierEvent.objects.filter(pk__in=[r.event.pk for r in group]).update(
        processed_at=timezone.now(), attempts=F("attempts") + 1, error=""
    )


@dataclass(slots=True)
class _Text:
    """A text the batch stores, with what its conversation and realtime events need."""

    uid: uuid.UUID
    body: str
    from_number: str
    organization_id: int
    conversation_id: int
    texted: PhoneNumber
    created_at: dt.datetime


def _messages_stored(keys: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which of these (carrier, carrier message id) are stored messages already.

    Looked up by both columns, as the unique index is (the ids alone read the whole table). On
    PostgreSQL each key is joined to the index from `unnest()`: with a list of ids the planner's
    choice depends on the table's statistics, and without fresh ones (a table that grew fast,
    autovacuum off) it read every message of the carrier, 20 ms per batch at 70,000 messages."""
    if not keys:
        return set()
    db = connections[router.db_for_write(Message)]
    if db.vendor != "postgresql":
        by_carrier: dict[str, set[str]] = {}
        for carrier, message_id in keys:
            by_carrier.setdefault(carrier, set()).add(message_id)
        stored = Q()
        for carrier, message_ids in by_carrier.items():
            stored |= Q(carrier=carrier, carrier_message_id__in=message_ids)
        found = Message.objects.filter(stored).values_list("carrier", "carrier_message_id")
        return {(carrier, message_id or "") for carrier, message_id in found}
    table = db.ops.quote_name(Message._meta.db_table)
    sql = (
        f"SELECT m.carrier, m.carrier_message_id FROM {table} m"  # noqa: S608
        " JOIN unnest(CAST(%b AS text[]), CAST(%b AS text[])) AS k(carrier, id)"
        " ON m.carrier = k.carrier AND m.carrier_message_id = k.id"
    )
    carriers, ids = zip(*keys, strict=True)
    with bound_cursor(db) as cursor:
        cursor.execute(sql, [list(carriers), list(ids)])
        return {(carrier, message_id) for carrier, message_id in cursor.fetchall()}


def _realtime_row(
    organization_id: int, kind: str, conversation_id: int, data: dict[str, Any]
) -> dict[str, Any]:
    """A `RealtimeEvent` row as `event_publish` writes it."""
    return {
        "organization_id": organization_id,
        "kind": kind,
        "conversation_id": conversation_id,
        "data": data,
    }


def _conversations_record_inbound(
    by_conversation: dict[int, list[_Text]],
) -> dict[int, tuple[str, int, bool]]:
    """What `conversation_record_inbound` does, for every conversation of the batch in one
    `UPDATE ... FROM (VALUES ...) RETURNING` (docs/decisions.md): folder, unread count plus the
    texts received, last message and preview. Returns each one's folder, unread count, muted.

    PostgreSQL takes the values as one array per column (see `rows_insert`)."""
    db = connections[router.db_for_write(Conversation)]
    at_field = Conversation._meta.get_field("last_message_at")
    columns: list[list[Any]] = [[], [], [], [], []]
    for conversation_id, texts in by_conversation.items():
        last = texts[-1]
        values = (
            conversation_id,
            inbound_folder(last.texted),
            len(texts),
            at_field.get_db_prep_save(last.created_at, db),
            body_preview(last.body),
        )
        for column, value in zip(columns, values, strict=True):
            column.append(value)
    if db.vendor == "postgresql":
        source = (
            "unnest(CAST(%b AS bigint[]), CAST(%b AS text[]), CAST(%b AS integer[]),"
            " CAST(%b AS timestamptz[]), CAST(%b AS text[])) AS v(cid, new_folder, received, at,"
            " preview)"
        )
        params: list[Any] = columns
    else:
        rows = ", ".join(["(%s, %s, %s, %s, %s)"] * len(by_conversation))
        # SQLite names a VALUES list's columns column1, column2, ... only.
        names = "column1 AS cid, column2 AS new_folder, column3 AS received, column4 AS at"
        source = f"(SELECT {names}, column5 AS preview FROM (VALUES {rows}) AS t) AS v"  # noqa: S608
        params = [value for row in zip(*columns, strict=True) for value in row]
    table = db.ops.quote_name(Conversation._meta.db_table)
    sql = (
        f"UPDATE {table} SET folder = v.new_folder, unread_count = unread_count + v.received,"  # noqa: S608
        " last_message_at = v.at, last_message_preview = v.preview"
        f" FROM {source}"
        f" WHERE {table}.id = v.cid RETURNING id, folder, unread_count, muted"
    )
    with bound_cursor(db) as cursor:
        cursor.execute(sql, params)
        return {row[0]: (row[1], row[2], bool(row[3])) for row in cursor.fetchall()}


def _contacts_for(group: list[_Received]) -> dict[tuple[int, str], tuple[int, str]]:
    """The contact (id, name) of each sender, created (as a lead, from the number texted) for
    new ones."""
    firsts: dict[tuple[int, str], _Received] = {}
    for received in group:
        organization_id = received.texted.organization_id
        assert organization_id is not None
        firsts.setdefault((organization_id, received.from_number), received)
    found: dict[tuple[int, str], tuple[int, str]] = {}
    if not firsts:
        return found
    phones = ContactPhone.objects.filter(
        organization_id__in={org for org, _ in firsts}, number__in={n for _, n in firsts}
    ).values_list("organization_id", "number", "contact_id", "contact__name")
    for organization_id, number, contact_id, name in phones:
        key = (organization_id, number)
        if key in firsts:
            found[key] = (contact_id, name)
    new = [key for key in firsts if key not in found]
    if new:
        ids = rows_insert(
            Contact,
            [
                {
                    "organization_id": org,
                    "created_from": CreatedFrom.INBOUND.value,
                    "source_number_id": firsts[(org, number)].texted.pk,
                }
                for org, number in new
            ],
            returning=True,
        )
        rows_insert(
            ContactPhone,
            [
                {"organization_id": org, "contact_id": contact_id, "number": number}
                for (org, number), contact_id in zip(new, ids, strict=True)
            ],
        )
        found.update((key, (contact_id, "")) for key, contact_id in zip(new, ids, strict=True))
    return found


def _conversations_for(
    group: list[_Received], contacts: dict[tuple[int, str], tuple[int, str]]
) -> dict[tuple[int, str], int]:
    """The conversation id of each (number texted, sender), started for new pairs."""
    firsts: dict[tuple[int, str], _Received] = {}
    for received in group:
        firsts.setdefault((received.texted.pk, received.from_number), received)
    found: dict[tuple[int, str], int] = {}
    if not firsts:
        return found
    rows = Conversation.objects.filter(
        phone_number_id__in={pk for pk, _ in firsts},
        contact_number__in={n for _, n in firsts},
    ).values_list("phone_number_id", "contact_number", "id")
    for phone_number_id, contact_number, conversation_id in rows:
        key = (phone_number_id, contact_number)
        if key in firsts:
            found[key] = conversation_id
    new = [key for key in firsts if key not in found]
    if new:
        values = []
        for key in new:
            received = firsts[key]
            organization_id = received.texted.organization_id
            assert organization_id is not None
            values.append(
                {
                    "organization_id": organization_id,
                    "contact_id": contacts[(organization_id, received.from_number)][0],
                    "phone_number_id": received.texted.pk,
                    "contact_number": received.from_number,
                }
            )
        ids = rows_insert(Conversation, values, returning=True)
        found.update(zip(new, ids, strict=True))
    return found


def _process_alone(event: CarrierEvent) -> None:
    """One event in a savepoint of its own: its failure undoes only its own writes."""
    event.attempts += 1
    notes: list[str] = []
    try:
        with transaction.atomic():
            _dispatch(event, notes)
    except RetryLater as exc:
        event.retry_at = timezone.now() + STATUS_RETRY_DELAY
        event.error = str(exc)[:300]
        if event.attempts >= STATUS_MAX_ATTEMPTS:
            _failed(event, f"Given up after {event.attempts} tries: {exc}")
    except Unprocessable as exc:
        _failed(event, str(exc))
    except Exception as exc:
        if _permanent(exc, event.attempts):
            _failed(event, f"{type(exc).__name__}: {exc}", exc)
        elif _outage(exc) or event.attempts < CRASH_MAX_ATTEMPTS:
            _crashed(event, exc)
        else:
            _failed(
                event,
                f"Crashed on each of {event.attempts} tries: {type(exc).__name__}: {exc}",
                exc,
            )
    else:
        event.processed_at = timezone.now()
        event.error = "; ".join(notes)[:300]  # what went wrong on the side, e.g. a reply
    event.save(update_fields=["attempts", "processed_at", "retry_at", "error", "failed_at"])


def _outage(exc: Exception) -> bool:
    """The database went away or refused for now (a restart, a lock timeout): a later try
    cures it."""
    return isinstance(exc, OperationalError | InterfaceError)


def _permanent(exc: Exception, attempts: int) -> bool:
    """A failure no later try can cure: a value the database refuses (too long, a character it
    cannot store), a rule the text breaks. Bugs are not in it: a fix cures them."""
    if isinstance(exc, DataError | ValidationError | TwowayError):
        return True
    return isinstance(exc, IntegrityError) and attempts >= INTEGRITY_MAX_ATTEMPTS


def _failed(event: CarrierEvent, reason: str, exc: Exception | None = None) -> None:
    """Processing gives up on the event: kept, marked failed for the operators, logged once."""
    log.error("Carrier event %s failed for good: %s", event.pk, reason, exc_info=exc)
    now = timezone.now()
    event.processed_at = event.failed_at = now
    event.retry_at = None
    event.error = reason[:300]


def _crashed(event: CarrierEvent, exc: Exception) -> None:
    """A bug or an outage: keep the event for a later try and an operator to look at."""
    if event.attempts == 1:
        log.error("Carrier event %s failed; it will be tried again", event.pk, exc_info=exc)
    else:
        log.warning("Carrier event %s failed again (try %d): %s", event.pk, event.attempts, exc)
    event.retry_at = timezone.now() + min(
        STATUS_RETRY_DELAY * event.attempts, CRASH_RETRY_MAX_DELAY
    )
    event.error = f"{type(exc).__name__}: {exc}"[:300]


def _dispatch(event: CarrierEvent, notes: list[str]) -> None:
    data: dict[str, Any] = dict(event.payload)
    if event.kind == EventKind.INBOUND:
        inbound_message_receive(event.carrier, _inbound_of(event), notes=notes)
    elif event.kind == EventKind.VERIFICATION:
        verification_update_apply(event.carrier, VerificationUpdate(**data))
    else:
        status_update_apply(event.carrier, StatusUpdate(**data))


@dataclass(frozen=True)
class InboundRoute:
    """Where a text to one of our numbers goes."""

    organization: Organization
    # The number whose conversation shows it; None when it reaches no inbox (two-way texting
    # off, or a reply to a marketing text).
    inbox_number: PhoneNumber | None
    conversation: Conversation | None = None  # the thread a system-number reply continues


def inbound_message_receive(
    carrier: str, inbound: InboundMessage, *, notes: list[str] | None = None
) -> Message:
    """A handset texted one of our numbers: store it where the agents will see it, then act.

    A compliance reply that cannot be queued undoes nothing else (the opt-out stays applied):
    why is logged and added to `notes`, which the worker keeps on the event."""
    notes = [] if notes is None else notes
    texted = (
        PhoneNumber.objects.select_related("organization")
        .filter(number=inbound.to_number, carrier=carrier)
        .first()
    )
    if texted is None:
        # Another carrier's number (or none): that carrier, not this one, delivers its texts.
        raise Unprocessable(f"No {carrier} number {inbound.to_number} is set up in Twoway.")
    existing = Message.objects.filter(
        carrier=carrier, carrier_message_id=inbound.carrier_message_id
    ).first()
    if existing:
        return existing
    from_number = _sender_number(inbound.from_number, texted)
    route = _route(texted, from_number)
    organization = route.organization
    contact, _ = contact_get_or_create_by_phone(
        organization=organization,
        number=from_number,
        created_from=CreatedFrom.INBOUND,
        source_number=route.inbox_number,
    )
    conversation = route.conversation
    if conversation is None and route.inbox_number is not None:
        conversation, _ = conversation_get_or_create(
            phone_number=route.inbox_number, contact=contact, contact_number=from_number
        )
    info = segment_info(inbound.body)
    message = Message.objects.create(
        organization=organization,
        conversation=conversation,
        direction=Direction.INBOUND,
        body=inbound.body,
        encoding=info.encoding,
        segments=info.segments,
        status=Status.RECEIVED,
        from_number=from_number,
        to_number=texted.number,
        carrier=carrier,
        carrier_message_id=inbound.carrier_message_id,
    )
    if conversation is not None:
        conversation_record_inbound(conversation=conversation, message=message)
        event_publish(
            organization_id=organization.pk,
            kind="message.created",
            conversation_id=conversation.pk,
            message=str(message.uid),
            direction="in",
            muted=conversation.muted,
            preview=message.body[:80],
            contact=contact.name or from_number,
        )
    was_keyword = _apply_keywords(message, contact, organization, texted, notes)
    if conversation is None and not was_keyword and not contact.is_opted_out:
        _answer_off_inbox(message, organization, texted, route, notes)
    return message


def _send_reply(notes: list[str], what: str, **send: Any) -> None:
    """Queue a compliance reply in a savepoint of its own, so that a reply which cannot be
    queued (a sender that cannot send, a bug) leaves the opt-out or the text it answers applied.
    A lost connection is not caught: then nothing of the text commits, and all of it, the
    reply with it, is tried again."""
    # Imported here: sending depends on inbound's neighbours, not the other way round.
    from twoway.messaging import services

    try:
        with transaction.atomic():
            services.message_send(**send)
    except (OperationalError, InterfaceError):
        raise
    except Exception as exc:
        log.error("The %s to %s could not be queued", what, send.get("to"), exc_info=exc)
        notes.append(f"The {what} was not sent: {type(exc).__name__}: {exc}")


def _sender_number(raw: str, texted: PhoneNumber) -> str:
    country = texted.organization.country if texted.organization else "US"
    try:
        return normalize_phone(raw, country)
    except InvalidPhoneNumber:
        return raw  # a short code or alphanumeric sender, kept as sent


def _route(texted: PhoneNumber, from_number: str) -> InboundRoute:
    if texted.is_system:
        return _route_system_reply(texted, from_number)
    organization = texted.organization
    assert organization is not None
    if not organization.two_way_enabled or texted.is_held:
        return InboundRoute(organization, None)
    return InboundRoute(organization, texted)


def _route_system_reply(system: PhoneNumber, from_number: str) -> InboundRoute:
    """The system number is shared: a reply belongs to whoever texted that handset from it last.
    Replies to transactional texts reach that organization's inbox while its two-way texting is
    on; replies to marketing reach no inbox (seed 001)."""
    origin = system_reply_origin(system, from_number)
    if origin is None:
        raise Unprocessable(
            f"{from_number} texted the system number {system.number}, which has sent it nothing."
        )
    organization = origin.organization
    if origin.category == Category.MARKETING or not organization.two_way_enabled:
        return InboundRoute(organization, None)
    if origin.conversation is not None and not origin.conversation.phone_number.is_held:
        return InboundRoute(organization, origin.conversation.phone_number, origin.conversation)
    own = dedicated_number(organization)
    if own is None or own.is_held:
        return InboundRoute(organization, None)
    return InboundRoute(organization, own)


def _answer_off_inbox(
    message: Message,
    organization: Organization,
    texted: PhoneNumber,
    route: InboundRoute,
    notes: list[str],
) -> None:
    """A text no inbox shows gets the organization's do-not-reply message when it chose one,
    at most once a day per handset, so two auto-responders never text each other forever."""
    if texted.is_system and route.inbox_number is None and organization.two_way_enabled:
        return  # a reply to marketing: carriers and the seed expect silence, not an answer
    if organization.two_way_enabled or organization.off_reply != OffReply.DO_NOT_REPLY:
        return
    since = timezone.now() - DO_NOT_REPLY_INTERVAL
    already = Message.objects.filter(
        organization=organization,
        direction=Direction.OUTBOUND,
        category=Category.AUTO_REPLY,
        sent_by_label=DO_NOT_REPLY_LABEL,
        from_number=texted.number,
        to_number=message.from_number,
        created_at__gte=since,
    ).exists()
    if already:
        return
    _send_reply(
        notes,
        "do-not-reply answer",
        organization=organization,
        reply_from=texted,
        to=message.from_number,
        body=organization.render(organization.do_not_reply_text),
        category=Category.AUTO_REPLY,
        label=DO_NOT_REPLY_LABEL,
    )


def _apply_keywords(
    message: Message,
    contact: Any,
    organization: Organization,
    texted: PhoneNumber,
    notes: list[str],
) -> bool:
    """Act on STOP, START and HELP (and flag a worded opt-out); True for a keyword."""
    action = classify(message.body)
    reply = ""
    # Opt-out and opt-in confirm a change, once: a second STOP gets no second text, and "Yes"
    # from a contact who never opted out is an answer to an agent, not a resubscription.
    if action in (KeywordAction.OPT_OUT, KeywordAction.OPT_IN):
        opting_in = action is KeywordAction.OPT_IN
        changed = contact_set_opt_in(
            contact=contact,
            opted_in=opting_in,
            source="keyword",
            text=message.body,
            phone_number=message.from_number,
            message_id=message.pk,
        )
        if changed:
            reply = (
                organization.opt_in_confirmation if opting_in else organization.opt_out_confirmation
            )
    elif action is KeywordAction.HELP:
        reply = organization.help_text
    elif looks_like_opt_out(message.body):
        ConsentEvent.objects.create(
            organization=organization,
            contact=contact,
            kind=ConsentEventKind.OPT_OUT_FLAGGED,
            source="keyword",
            text=message.body[:500],
            phone_number=message.from_number,
            message=message,
        )
    if action is not None:
        event_publish(
            organization_id=organization.pk,
            kind="contact.updated",
            conversation_id=message.conversation_id,
            opt_in_status=contact.opt_in_status,
        )
    if not reply:
        return action is not None
    conversation = message.conversation
    # The confirmation leaves from the number the contact texted, and joins their thread.
    _send_reply(
        notes,
        "confirmation" if action is not KeywordAction.HELP else "HELP answer",
        phone_number=conversation.phone_number if conversation is not None else None,
        organization=organization,
        reply_from=texted,
        to=message.from_number,
        body=organization.render(reply),
        category=Category.AUTO_REPLY,
        label=f"keyword:{normalize_keyword(message.body)}",
    )
    return True


def verification_update_apply(carrier: str, update: VerificationUpdate) -> None:
    number = PhoneNumber.objects.filter(number=update.number, carrier=carrier).first()
    if number is None:
        raise Unprocessable(f"No {carrier} number {update.number} is set up in Twoway.")
    number_verification_set(number=number, status=update.status, reason=update.reason)


def status_update_apply(carrier: str, update: StatusUpdate) -> None:
    message = (
        Message.objects.select_for_update()
        .filter(
            carrier=carrier,
            carrier_message_id=update.carrier_message_id,
            direction=Direction.OUTBOUND,
        )
        .first()
    )
    if message is None:
        raise RetryLater(f"No sent message has carrier id {update.carrier_message_id} yet.")
    new = Status(update.status)
    if _STATUS_RANK.get(new, 0) <= _STATUS_RANK.get(Status(message.status), 0):
        return
    from twoway.carriers.errors import explain

    message.status = new
    fields = ["status"]
    if new == Status.DELIVERED:
        message.delivered_at = timezone.now()
        fields.append("delivered_at")
    if update.error_code:
        message.error_code = update.error_code
        message.error_message = explain(update.error_code)
        fields += ["error_code", "error_message"]
    message.save(update_fields=fields)
    event_publish(
        organization_id=message.organization_id,
        kind="message.status",
        conversation_id=message.conversation_id,
        message=str(message.uid),
        status=message.status,
    )
