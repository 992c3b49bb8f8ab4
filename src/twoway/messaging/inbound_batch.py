"""Plain texts to inboxes received together: what `inbound_message_receive` does for each, with
a few queries for the whole group (lookups by every key at once, rows inserted in one statement,
conversations updated in one `UPDATE ... FROM`). Only texts with nothing to act on come here:
no keyword, not to a system number, to an inbox that shows them, never tried before."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import connections, router
from django.db.models import Q
from django.utils import timezone

from twoway.answering.selectors import MayAnswer
from twoway.carriers.base import InboundMessage
from twoway.compliance.keywords import DEFAULTS, KeywordSet, looks_like_opt_out
from twoway.contacts.models import Contact, ContactPhone, CreatedFrom
from twoway.contacts.services.activity import contacts_activity_record
from twoway.conversations.models import Conversation, Direction, Message, Status
from twoway.conversations.services import body_preview, inbound_folder
from twoway.core.rows import bound_cursor, pairs_in, rows_insert, rows_update
from twoway.core.segments import segment_info
from twoway.messaging.drip_replies import drip_steps_drop
from twoway.messaging.routing import inbound_route, sender_number
from twoway.numbers.models import PhoneNumber
from twoway.realtime.events import (
    ConversationUpdated,
    DomainEvent,
    MessageCreated,
    events_publish,
    preview_of,
)


@dataclass(frozen=True)
class ReceivedText:
    """A fresh text to an inbox, with nothing to act on: what the batch path takes."""

    carrier: str
    inbound: InboundMessage
    texted: PhoneNumber
    from_number: str


def plain_text_to_inbox(
    carrier: str,
    inbound: InboundMessage,
    numbers: dict[tuple[str, str], PhoneNumber],
    keywords: dict[int, KeywordSet],
    answers: Mapping[int, MayAnswer] | None = None,
) -> ReceivedText | None:
    """The text as the batch path takes it, or None when it needs the one-event path: to a
    number we do not have or the system number, reaching no inbox, a keyword (the defaults
    or one of the organization's own, in `keywords` by organization id), an MMS, or a text
    the organization may answer (a keyword rule's word, any text while its away message is
    on and it is closed: `answers` by organization id)."""
    texted = numbers.get((carrier, inbound.to_number))
    if texted is None or texted.is_system or inbound.media_urls:  # an MMS has files to fetch
        return None
    from_number = sender_number(inbound.from_number, texted)
    if inbound_route(texted, from_number).inbox_number is None:
        return None
    own = keywords.get(texted.organization_id or 0, DEFAULTS)
    if own.match(inbound.body) is not None or looks_like_opt_out(inbound.body, own):
        return None
    may = (answers or {}).get(texted.organization_id or 0)
    if may is not None and may.may_answer(inbound.body):
        return None
    return ReceivedText(carrier, inbound, texted, from_number)


def texts_receive_together(group: list[ReceivedText]) -> None:
    """Store the texts, their contacts and conversations, and their realtime events. The caller
    runs this in a transaction: all of it is stored or none."""
    taken = _messages_stored({(r.carrier, r.inbound.carrier_message_id) for r in group})
    fresh: list[ReceivedText] = []
    for received in group:
        key = (received.carrier, received.inbound.carrier_message_id)
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
                "carrier": received.carrier,
                "carrier_message_id": received.inbound.carrier_message_id,
                "created_at": now,
            }
        )
    rows_insert(Message, rows)
    drip_steps_drop({(text.organization_id, text.from_number) for text in texts})
    by_conversation: dict[int, list[_Text]] = {}
    for text in texts:
        by_conversation.setdefault(text.conversation_id, []).append(text)
    now_read, contact_of = _conversations_record_inbound(by_conversation)
    contacts_activity_record(
        {contact_of[pk]: its[-1].created_at for pk, its in by_conversation.items()}
    )
    events: list[DomainEvent] = []
    for conversation_id, its_texts in by_conversation.items():
        folder, unread_count, muted = now_read[conversation_id]
        organization_id = its_texts[0].organization_id
        events.append(
            ConversationUpdated(
                organization_id=organization_id,
                conversation_id=conversation_id,
                folder=folder,
                unread_count=unread_count,
            )
        )
        for text in its_texts:
            contact_name = contacts[(organization_id, text.from_number)][1]
            events.append(
                MessageCreated(
                    organization_id=organization_id,
                    conversation_id=conversation_id,
                    message=str(text.uid),
                    direction="in",
                    note=False,
                    status=Status.RECEIVED.value,
                    preview=preview_of(text.body),
                    contact=contact_name or text.from_number,
                    muted=muted,
                )
            )
    events_publish(events)


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


def _conversations_record_inbound(
    by_conversation: dict[int, list[_Text]],
) -> tuple[dict[int, tuple[str, int, bool]], dict[int, int]]:
    """What `conversation_record_inbound` does, for every conversation of the batch in one
    `UPDATE ... FROM (VALUES ...) RETURNING` (docs/decisions.md): folder, unread count plus the
    texts received, last message and preview. Returns each one's folder, unread count, muted,
    and each one's contact (whose last activity moves too).

    PostgreSQL takes the values as one array per column (see `rows_insert`)."""
    db = connections[router.db_for_write(Conversation)]
    at_field = Conversation._meta.get_field("last_message_at")
    rows = []
    for conversation_id, texts in by_conversation.items():
        last = texts[-1]
        rows.append(
            (
                conversation_id,
                inbound_folder(last.texted),
                len(texts),
                at_field.get_db_prep_save(last.created_at, db),
                body_preview(last.body),
            )
        )
    updated = rows_update(
        Conversation,
        columns=[
            ("cid", "bigint"),
            ("new_folder", "text"),
            ("received", "integer"),
            ("at", "timestamptz"),
            ("preview", "text"),
        ],
        rows=rows,
        assignments=(
            "folder = v.new_folder, unread_count = unread_count + v.received,"
            " last_message_at = v.at, last_message_preview = v.preview"
        ),
        returning="id, folder, unread_count, muted, contact_id",
    )
    return (
        {row[0]: (row[1], row[2], bool(row[3])) for row in updated},
        {row[0]: row[4] for row in updated},
    )


def _contacts_for(group: list[ReceivedText]) -> dict[tuple[int, str], tuple[int, str]]:
    """The contact (id, name) of each sender, created (as a lead, from the number texted) for
    new ones."""
    firsts: dict[tuple[int, str], ReceivedText] = {}
    for received in group:
        organization_id = received.texted.organization_id
        assert organization_id is not None
        firsts.setdefault((organization_id, received.from_number), received)
    found: dict[tuple[int, str], tuple[int, str]] = {}
    if not firsts:
        return found
    phones = ContactPhone.objects.filter(
        pairs_in(ContactPhone, ("organization_id", "number"), firsts)
    ).values_list("organization_id", "number", "contact_id", "contact__name")
    for organization_id, number, contact_id, name in phones:
        found[(organization_id, number)] = (contact_id, name)
    new = [key for key in firsts if key not in found]
    if new:
        texted_at = timezone.now()
        ids = rows_insert(
            Contact,
            [
                {
                    "organization_id": org,
                    "created_from": CreatedFrom.INBOUND.value,
                    "source_number_id": firsts[(org, number)].texted.pk,
                    "lead_texted_at": texted_at,
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
    group: list[ReceivedText], contacts: dict[tuple[int, str], tuple[int, str]]
) -> dict[tuple[int, str], int]:
    """The conversation id of each (number texted, sender), started for new pairs."""
    firsts: dict[tuple[int, str], ReceivedText] = {}
    for received in group:
        firsts.setdefault((received.texted.pk, received.from_number), received)
    found: dict[tuple[int, str], int] = {}
    if not firsts:
        return found
    rows = Conversation.objects.filter(
        pairs_in(Conversation, ("phone_number_id", "contact_number"), firsts)
    ).values_list("phone_number_id", "contact_number", "id")
    for phone_number_id, contact_number, conversation_id in rows:
        found[(phone_number_id, contact_number)] = conversation_id
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
