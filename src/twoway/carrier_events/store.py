"""Storing verified carrier events raw, once: all a webhook request does besides verifying it.

Each event gets a key (the carrier's message id, or id + status for a report) under a unique
constraint, so a carrier's retry lands on the key instead of becoming a second message. Several
events are stored with one `INSERT ... ON CONFLICT DO NOTHING RETURNING` (`EventRecorder`, which
the web server's webhook path uses); a single one is the same statement with one row.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import InterfaceError, OperationalError, connections, router
from django.utils import timezone
from psycopg_pool import PoolTimeout

from twoway.carrier_events.models import CarrierEvent, EventKind
from twoway.carriers.base import (
    CarrierEventData,
    InboundMessage,
    VerificationUpdate,
    event_without_nul,
    without_nul,
)
from twoway.core.grouped import GroupedWork
from twoway.realtime.wakeup import wake_worker

log = logging.getLogger(__name__)

# The columns of CarrierEvent's unique constraint, which decides what a duplicate is.
_EVENT_UNIQUE = ("carrier", "kind", "dedupe_key")
_SQLITE_WRITES = threading.Lock()


@dataclass(frozen=True)
class EventRow:
    """A carrier event as it is stored: its kind, its duplicate key and its JSON payload."""

    carrier: str
    kind: str
    dedupe_key: str
    payload: dict[str, Any]
    carrier_account_id: int | None = None  # the account whose webhook received it

    @property
    def identity(self) -> tuple[str, str, str]:
        return (self.carrier, self.kind, self.dedupe_key)


def carrier_event_row(
    carrier: str, event: CarrierEventData, *, carrier_account_id: int | None = None
) -> EventRow:
    if isinstance(event, InboundMessage):
        kind, key = EventKind.INBOUND, event.carrier_message_id
    elif isinstance(event, VerificationUpdate):
        kind = EventKind.VERIFICATION
        digest = hashlib.sha256(event.reason.encode()).hexdigest()[:16]
        key = f"{event.number}:{event.status}:{digest}"
    else:
        kind = EventKind.STATUS
        key = f"{event.carrier_message_id}:{event.status}:{event.error_code}"
    # The event's fields, one level deep: they are strings, a tuple of strings and `raw`, a flat
    # mapping of the carrier's fields (dataclasses.asdict copies recursively: a tenth of a
    # webhook's CPU).
    payload = {field.name: getattr(event, field.name) for field in dataclasses.fields(event)}
    payload["raw"] = dict(event.raw)
    return EventRow(
        carrier=carrier,
        kind=str(kind),
        dedupe_key=key,
        payload=payload,
        carrier_account_id=carrier_account_id,
    )


@dataclass(frozen=True)
class UnparsedWebhook:
    """A verified webhook its adapter could not make an event of, as received, and why."""

    url: str
    content_type: str
    body: str
    form: dict[str, str]
    reason: str


def carrier_event_row_unparsed(
    carrier: str, webhook: UnparsedWebhook, *, carrier_account_id: int | None = None
) -> EventRow:
    """The row keeping an unparsed webhook: its duplicate key is the digest of what the carrier
    sent, so its retries are stored once."""
    key = hashlib.sha256(f"{webhook.url}\n{webhook.body}".encode()).hexdigest()
    payload = {
        "url": without_nul(webhook.url),
        "content_type": without_nul(webhook.content_type),
        "body": without_nul(webhook.body),
        "form": {without_nul(k): without_nul(v) for k, v in webhook.form.items()},
        "reason": without_nul(webhook.reason),
    }
    return EventRow(
        carrier=carrier,
        kind=str(EventKind.UNPARSED),
        dedupe_key=key,
        payload=payload,
        carrier_account_id=carrier_account_id,
    )


def carrier_events_store(rows: Sequence[EventRow]) -> list[bool]:
    """Store events in one statement, in autocommit; for each row, False when it was a
    duplicate (stored before, or earlier in `rows`). Wakes the worker when anything is new.

    One `INSERT ... ON CONFLICT DO NOTHING RETURNING` whatever the number of rows: a duplicate
    costs no error, savepoint or second round trip (docs/decisions.md), and a batch is one
    commit, which is what lets one web process take a thousand webhooks a second.
    """
    if not rows:
        return []
    first: dict[tuple[str, str, str], EventRow] = {}
    for row in rows:
        first.setdefault(row.identity, row)
    meta = CarrierEvent._meta
    db = connections[router.db_for_write(CarrierEvent)]
    quote = db.ops.quote_name
    payload_field, received_field = meta.get_field("payload"), meta.get_field("received_at")
    received_at = received_field.get_db_prep_save(timezone.now(), db)
    columns = (*_EVENT_UNIQUE, "payload", "received_at", "attempts", "error", "carrier_account_id")
    params: list[Any] = []
    for row in first.values():
        payload = payload_field.get_db_prep_save(row.payload, db)
        params.extend(
            (
                row.carrier,
                row.kind,
                row.dedupe_key,
                payload,
                received_at,
                0,
                "",
                row.carrier_account_id,
            )
        )
    marks = "(" + ", ".join(["%s"] * len(columns)) + ")"
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(map(quote, columns))}) "  # noqa: S608
        f"VALUES {', '.join([marks] * len(first))} "
        f"ON CONFLICT ({', '.join(map(quote, _EVENT_UNIQUE))}) DO NOTHING "
        f"RETURNING {', '.join(map(quote, _EVENT_UNIQUE))}"
    )
    # SQLite: the web process's threads queue here, not in SQLite's busy handler, which sleeps
    # in growing steps (up to 100 ms) between tries and turns a short wait into a long one.
    with (
        _SQLITE_WRITES if db.vendor == "sqlite" else contextlib.nullcontext(),
        db.cursor() as cursor,
    ):
        cursor.execute(sql, params)
        stored = {tuple(found) for found in cursor.fetchall()}
    if stored:
        wake_worker(events=True)
    flags = []
    for row in rows:
        new = row.identity in stored
        stored.discard(row.identity)  # a second row with the same key is a duplicate
        flags.append(new)
    return flags


def carrier_event_record(
    carrier: str, event: CarrierEventData, *, carrier_account_id: int | None = None
) -> bool:
    """Store a verified webhook event once (NUL characters removed, as from every carrier).
    False when it was a duplicate."""
    row = carrier_event_row(
        carrier, event_without_nul(event), carrier_account_id=carrier_account_id
    )
    [stored] = carrier_events_store([row])
    return stored


class EventRecorder(GroupedWork[EventRow, bool]):
    """Stores the events of concurrent webhook requests together (`core.grouped`): whatever
    was handed over meanwhile in one statement and one commit (`carrier_events_store`), at
    most MAX_GROUP rows. Each request is still answered only after its own event is durable,
    and an error answers every request of its group with a server error, so the carrier
    retries them (the unique key makes a retry of a stored event harmless).
    """

    THREAD_NAME = "webhook-events"

    async def record(self, row: EventRow) -> bool:
        """Store `row` (False: a duplicate); raises what storing its group raised."""
        return await self.submit(row)

    def do(self, items: Sequence[EventRow]) -> list[bool]:
        rows = list(items)
        try:
            return carrier_events_store(rows)
        except (OperationalError, InterfaceError) as exc:
            connections.close_all()
            if isinstance(exc.__cause__, PoolTimeout):
                # No connection within the pool's timeout (the database is down): a second
                # wait as long would only make the carrier time out instead of retrying.
                raise
            # A connection the database dropped (a restart): one try at once on a new one
            # (the backend replaces the pool's broken ones without waiting). The same rows
            # again are harmless: what was stored is a duplicate now.
            return carrier_events_store(rows)
