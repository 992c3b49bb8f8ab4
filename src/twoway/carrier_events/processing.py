"""The worker's side of carrier events: waiting events taken in batches, processed and marked
done in one transaction, so an event is processed exactly once whatever crashes.

Plain texts to inboxes are received together (`messaging.inbound_batch`); every other event goes
alone, in a savepoint of its own. An event that cannot be processed yet is tried again later, one
no try can cure is marked failed, a crash is retried ever more slowly, a lost database waited out.
"""

from __future__ import annotations

import datetime as dt
import logging
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
from django.db.models import F
from django.utils import timezone

from twoway.answering.selectors import MayAnswer, may_answer_of
from twoway.carrier_events.accounts import event_account_check, event_may_use
from twoway.carrier_events.models import CarrierEvent, EventKind
from twoway.carrier_events.store import carrier_event_row
from twoway.carrier_events.webhooks import UNSUPPORTED
from twoway.carriers.base import (
    InboundMessage,
    StatusUpdate,
    VerificationUpdate,
    WebhookParseError,
    WebhookRequest,
    event_without_nul,
)
from twoway.carriers.registry import UnknownCarrier, carrier_for_account
from twoway.compliance.keywords import KeywordSet
from twoway.compliance.organization_keywords import keyword_sets_of
from twoway.core.errors import TwowayError
from twoway.messaging.errors import RetryLater, Unprocessable
from twoway.messaging.inbound import inbound_message_receive
from twoway.messaging.inbound_batch import ReceivedText, plain_text_to_inbox, texts_receive_together
from twoway.messaging.routing import numbers_texted
from twoway.messaging.statuses import status_update_apply, verification_update_apply
from twoway.numbers.models import PhoneNumber

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
    # transaction, a lock and a locking read.
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


def _process_batch(events: list[CarrierEvent]) -> bool:
    """Plain texts to inboxes are received together, a few queries for all of them; anything
    else (keywords, system numbers, texts no inbox shows, status reports, retries) goes through
    the one-event path. Events are taken in order, and the texts gathered so far are stored
    before any other inbound event is processed, so a STOP acts after the texts that came before
    it and before the ones after it, as one at a time would.

    True when an event may have queued a text to send: any but a plain text or a status report.
    """
    numbers = _numbers_texted(events)
    keywords = _keywords_of(numbers)
    answers = may_answer_of(keywords, timezone.now())
    group: list[tuple[CarrierEvent, ReceivedText]] = []
    may_send = False
    for event in events:
        received = _batchable(event, numbers, keywords, answers)
        if received is not None:
            group.append((event, received))
            continue
        if event.kind != EventKind.STATUS:
            _receive_group(group)
            group = []
            may_send = True  # a keyword's confirmation, a do-not-reply answer, ...
        _process_alone(event)
        if event.kind == EventKind.VERIFICATION:
            numbers = _numbers_texted(events)  # a number may be held now
            keywords = _keywords_of(numbers)
            answers = may_answer_of(keywords, timezone.now())
    _receive_group(group)
    return may_send


def _numbers_texted(events: list[CarrierEvent]) -> dict[tuple[str, str], PhoneNumber]:
    return numbers_texted(
        {
            (event.carrier, str(event.payload.get("to_number")))
            for event in events
            if event.kind == EventKind.INBOUND and isinstance(event.payload, dict)
        }
    )


def _keywords_of(numbers: dict[tuple[str, str], PhoneNumber]) -> dict[int, KeywordSet]:
    """The keywords of the organizations texted, one query for the batch."""
    return keyword_sets_of({n.organization_id for n in numbers.values() if n.organization_id})


def _inbound_of(event: CarrierEvent) -> InboundMessage:
    data: dict[str, Any] = dict(event.payload)
    data["media_urls"] = tuple(data.get("media_urls") or ())
    return InboundMessage(**data)


def _batchable(
    event: CarrierEvent,
    numbers: dict[tuple[str, str], PhoneNumber],
    keywords: dict[int, KeywordSet],
    answers: dict[int, MayAnswer],
) -> ReceivedText | None:
    if event.kind != EventKind.INBOUND or event.attempts:
        return None  # an event that failed before is tried alone
    try:
        inbound = _inbound_of(event)
    except Exception:
        return None  # the one-event path records why
    if not event_may_use(event, numbers.get((event.carrier, inbound.to_number))):
        return None  # refused by the one-event path (carrier_events.accounts)
    return plain_text_to_inbox(event.carrier, inbound, numbers, keywords, answers)


def _receive_group(group: list[tuple[CarrierEvent, ReceivedText]]) -> None:
    """Receive the texts together; when that fails, each half again, so one bad event is
    found and recorded as failed while the others are received in this pass. A lone text
    takes the one-event path, which costs as much and records its failure."""
    if len(group) <= 1:
        for event, _ in group:
            _process_alone(event)
        return
    try:
        with transaction.atomic():
            texts_receive_together([received for _, received in group])
            CarrierEvent.objects.filter(pk__in=[event.pk for event, _ in group]).update(
                processed_at=timezone.now(), attempts=F("attempts") + 1, error=""
            )
    except Exception:
        log.warning("A batch of %d texts failed; trying each half", len(group), exc_info=True)
        half = len(group) // 2
        _receive_group(group[:half])
        _receive_group(group[half:])


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
    if event.kind == EventKind.UNPARSED:
        _dispatch(_parsed_again(event), notes)
        return
    event_account_check(event)
    data: dict[str, Any] = dict(event.payload)
    if event.kind == EventKind.INBOUND:
        inbound_message_receive(event.carrier, _inbound_of(event), notes=notes)
    elif event.kind == EventKind.VERIFICATION:
        verification_update_apply(event.carrier, VerificationUpdate(**data))
    else:
        status_update_apply(event.carrier, StatusUpdate(**data))


def _parsed_again(event: CarrierEvent) -> CarrierEvent:
    """A kept webhook, parsed by its adapter as it is now: the event it makes (not stored: it is
    processed in the kept one's place), or Unprocessable with why not, once more."""
    payload = event.payload
    try:
        adapter = carrier_for_account(event.carrier_account_id, event.carrier)
    except UnknownCarrier as exc:
        raise Unprocessable(str(exc)) from exc
    webhook = WebhookRequest(
        url=payload["url"],
        method="POST",
        headers={"content-type": payload["content_type"]},
        body=payload["body"].encode(),
        form=dict(payload["form"]),
    )
    try:
        parsed = adapter.parse_webhook(webhook)
    except WebhookParseError as exc:
        raise Unprocessable(f"Malformed webhook: {exc}") from exc
    if parsed is None:
        raise Unprocessable(UNSUPPORTED)
    row = carrier_event_row(
        event.carrier, event_without_nul(parsed), carrier_account_id=event.carrier_account_id
    )
    return CarrierEvent(
        pk=event.pk,
        carrier=row.carrier,
        kind=row.kind,
        dedupe_key=row.dedupe_key,
        payload=row.payload,
        carrier_account_id=row.carrier_account_id,
    )
