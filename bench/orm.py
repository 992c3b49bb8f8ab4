"""The Django side of the benchmarks: seeding the bench database and reading back what happened.

Run in its own process with DATABASE_URL pointing at the bench database (the runner never loads
Django itself, so one run can cover SQLite and PostgreSQL): `python -m bench.orm COMMAND` reads a
JSON payload on stdin and prints one JSON line.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter, defaultdict
from typing import Any


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "twoway.settings")
    import django

    django.setup()


def seed_organization(payload: dict[str, Any]) -> dict[str, Any]:
    """An organization and its Twilio numbers: payload {"numbers": [[number, mps_limit], ...]}."""
    from decimal import Decimal

    from twoway.accounts.models import Organization
    from twoway.numbers.models import PhoneNumber

    organization = Organization.objects.create(
        name="Bench Dental", country="US", two_way_enabled=True
    )
    PhoneNumber.objects.bulk_create(
        PhoneNumber(
            organization=organization,
            number=number,
            carrier="twilio",
            mps_limit=Decimal(str(mps)),
            label=f"bench {index}",
        )
        for index, (number, mps) in enumerate(payload["numbers"])
    )
    return {"organization_id": organization.pk}


def seed_outbound(payload: dict[str, Any]) -> dict[str, Any]:
    """Queued outbound messages with their contacts and conversations, in one transaction.

    payload {"organization_id": id, "messages": [[from, to, body, segments], ...]}; messages are
    stored in the given order, which is the dispatcher's order among equal priorities.
    """
    from django.db import transaction
    from django.utils import timezone

    from twoway.contacts.models import Contact, ContactPhone, CreatedFrom
    from twoway.conversations.models import (
        Category,
        Conversation,
        Direction,
        Folder,
        Message,
        Priority,
        Status,
    )
    from twoway.numbers.models import PhoneNumber

    org_id = payload["organization_id"]
    rows = payload["messages"]
    started = time.perf_counter()
    with transaction.atomic():
        numbers = {n.number: n for n in PhoneNumber.objects.filter(organization_id=org_id)}
        to_numbers = sorted({row[1] for row in rows})
        contacts = Contact.objects.bulk_create(
            [Contact(organization_id=org_id, created_from=CreatedFrom.API) for _ in to_numbers],
            batch_size=2000,
        )
        contact_of = dict(zip(to_numbers, contacts, strict=True))
        ContactPhone.objects.bulk_create(
            [
                ContactPhone(organization_id=org_id, contact=contact, number=number)
                for number, contact in contact_of.items()
            ],
            batch_size=2000,
        )
        pairs = sorted({(row[0], row[1]) for row in rows})
        now = timezone.now()
        conversations = Conversation.objects.bulk_create(
            [
                Conversation(
                    organization_id=org_id,
                    contact=contact_of[to],
                    phone_number=numbers[sender],
                    contact_number=to,
                    folder=Folder.PARTICIPATING,
                    last_message_at=now,
                )
                for sender, to in pairs
            ],
            batch_size=2000,
        )
        conversation_of = dict(zip(pairs, conversations, strict=True))
        Message.objects.bulk_create(
            [
                Message(
                    organization_id=org_id,
                    conversation=conversation_of[(sender, to)],
                    direction=Direction.OUTBOUND,
                    category=Category.BLAST,
                    body=body,
                    encoding="GSM-7",
                    segments=segments,
                    status=Status.QUEUED,
                    from_number=sender,
                    to_number=to,
                    carrier="twilio",
                    sent_by_label="bench",
                    priority=Priority.BULK,
                    next_attempt_at=now,
                )
                for sender, to, body, segments in rows
            ],
            batch_size=2000,
        )
    return {"messages": len(rows), "seconds": time.perf_counter() - started}


def seed_send(payload: dict[str, Any]) -> dict[str, Any]:
    """What the send benchmark needs: its organization and numbers (as `seed_organization`), an
    administrator who logs in with payload's "email" and "password" and owns an API key, and a
    conversation with a contact of its own for each [from, to] of payload's "conversations".

    Returns the organization's id, the raw API key and the conversations' ids in the given order.
    """
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.utils import timezone

    from twoway.accounts.models import ApiKey, Membership, Role
    from twoway.contacts.models import Contact, ContactPhone, CreatedFrom
    from twoway.conversations.models import Conversation, Folder
    from twoway.numbers.models import PhoneNumber

    org_id = seed_organization(payload)["organization_id"]
    email = payload["email"]
    with transaction.atomic():
        user = get_user_model().objects.create_user(
            username=email, email=email, password=payload["password"]
        )
        owner = Membership.objects.create(
            user=user, organization_id=org_id, role=Role.ADMINISTRATIVE
        )
        _key, raw_key = ApiKey.issue(owner=owner, name="bench")
        numbers = {n.number: n for n in PhoneNumber.objects.filter(organization_id=org_id)}
        pairs = payload["conversations"]
        contacts = Contact.objects.bulk_create(
            [Contact(organization_id=org_id, created_from=CreatedFrom.MANUAL) for _ in pairs],
            batch_size=2000,
        )
        ContactPhone.objects.bulk_create(
            [
                ContactPhone(organization_id=org_id, contact=contact, number=to)
                for contact, (_sender, to) in zip(contacts, pairs, strict=True)
            ],
            batch_size=2000,
        )
        now = timezone.now()
        conversations = Conversation.objects.bulk_create(
            [
                Conversation(
                    organization_id=org_id,
                    contact=contact,
                    phone_number=numbers[sender],
                    contact_number=to,
                    folder=Folder.NEEDS_ATTENTION,
                    last_message_at=now,
                )
                for contact, (sender, to) in zip(contacts, pairs, strict=True)
            ],
            batch_size=2000,
        )
    if connection.vendor == "postgresql":
        # Statistics as autovacuum would long have made them for tables this size: the web
        # server's and the worker's connections start now and keep the plans they make.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return {
        "organization_id": org_id,
        "api_key": raw_key,
        "conversation_ids": [conversation.pk for conversation in conversations],
    }


def _epoch(value: Any) -> float | None:
    return value.timestamp() if value is not None else None


def inbound_facts(payload: dict[str, Any]) -> dict[str, Any]:
    """Everything the inbound benchmark checks, read from the database."""
    from django.db.models import Count

    from twoway.carrier_events.models import CarrierEvent, EventKind
    from twoway.compliance.models import ConsentEvent, ConsentEventKind
    from twoway.contacts.models import Contact, ContactPhone, OptInStatus
    from twoway.conversations.models import Category, Conversation, Direction, Message

    events = CarrierEvent.objects.filter(carrier="twilio", kind=EventKind.INBOUND)
    processed = {
        key: _epoch(at) for key, at in events.values_list("dedupe_key", "processed_at").iterator()
    }
    messages = Counter(
        Message.objects.filter(direction=Direction.INBOUND, carrier="twilio")
        .values_list("carrier_message_id", flat=True)
        .iterator()
    )
    inbound_per_conversation = dict(
        Message.objects.filter(direction=Direction.INBOUND)
        .values("conversation_id")
        .annotate(n=Count("id"))
        .values_list("conversation_id", "n")
    )
    conversations = [
        [number, contact_number, folder, unread, inbound_per_conversation.get(pk, 0)]
        for pk, number, contact_number, folder, unread in Conversation.objects.values_list(
            "pk", "phone_number__number", "contact_number", "folder", "unread_count"
        ).iterator()
    ]
    opted_out = list(
        ContactPhone.objects.filter(contact__opt_in_status=OptInStatus.OPTED_OUT).values_list(
            "number", flat=True
        )
    )
    consent_opt_outs = Counter(
        ConsentEvent.objects.filter(kind=ConsentEventKind.OPT_OUT).values_list(
            "phone_number", flat=True
        )
    )
    auto_replies: dict[str, list[str]] = defaultdict(list)
    for to, status in Message.objects.filter(
        direction=Direction.OUTBOUND, category=Category.AUTO_REPLY
    ).values_list("to_number", "status"):
        auto_replies[to].append(status)
    return {
        "events_total": events.count(),
        "events_unprocessed": CarrierEvent.objects.filter(processed_at__isnull=True).count(),
        "events_with_error": CarrierEvent.objects.exclude(error="").count(),
        "processed_at": processed,
        "messages": messages,
        "conversations": conversations,
        "contacts": Contact.objects.count(),
        "contact_phones": ContactPhone.objects.count(),
        "opted_out": opted_out,
        "consent_opt_outs": consent_opt_outs,
        "auto_replies": auto_replies,
    }


def outbound_facts(payload: dict[str, Any]) -> dict[str, Any]:
    """Every outbound message's fate: [uid, status, carrier id, attempts, from, to, sent_at]."""
    from twoway.conversations.models import Direction, Message

    rows = [
        [str(uid), status, carrier_id, attempts, sender, to, _epoch(sent_at)]
        for uid, status, carrier_id, attempts, sender, to, sent_at in Message.objects.filter(
            direction=Direction.OUTBOUND
        )
        .values_list(
            "uid", "status", "carrier_message_id", "attempts", "from_number", "to_number", "sent_at"
        )
        .iterator()
    ]
    return {"messages": rows}


def orm_insert_rate(payload: dict[str, Any]) -> dict[str, Any]:
    """Single-row inserts through the ORM, each in its own transaction, for `seconds`."""
    from django.db import transaction

    from twoway.carrier_events.models import CarrierEvent

    seconds = float(payload["seconds"])
    count = 0
    started = time.perf_counter()
    deadline = started + seconds
    while time.perf_counter() < deadline:
        with transaction.atomic():
            CarrierEvent.objects.create(
                carrier="ceiling",
                kind="inbound",
                dedupe_key=f"ceiling-{count}",
                payload={"n": count},
            )
        count += 1
    elapsed = time.perf_counter() - started
    CarrierEvent.objects.filter(carrier="ceiling").delete()  # not for the worker to process
    return {"inserts": count, "seconds": elapsed}


def insert_inbound_events(payload: dict[str, Any]) -> dict[str, Any]:
    """Raw inbound events as the webhook stores them, without the web server: payload
    {"numbers": [...], "contacts": [...], "count": n, "prefix": "..."}."""
    import random

    from twoway.carrier_events.models import CarrierEvent, EventKind

    rng = random.Random(payload["prefix"])
    events = []
    for index in range(payload["count"]):
        sid = f"{payload['prefix']}{index:010d}"
        events.append(
            CarrierEvent(
                carrier="twilio",
                kind=EventKind.INBOUND,
                dedupe_key=sid,
                payload={
                    "carrier_message_id": sid,
                    "from_number": rng.choice(payload["contacts"]),
                    "to_number": rng.choice(payload["numbers"]),
                    "body": rng.choice(payload["bodies"]),
                    "media_urls": [],
                    "raw": {},
                },
            )
        )
    CarrierEvent.objects.bulk_create(events, batch_size=2000)
    return {"inserted": len(events)}


COMMANDS = {
    "seed_organization": seed_organization,
    "seed_outbound": seed_outbound,
    "seed_send": seed_send,
    "inbound_facts": inbound_facts,
    "outbound_facts": outbound_facts,
    "orm_insert_rate": orm_insert_rate,
    "insert_inbound_events": insert_inbound_events,
}


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in COMMANDS:
        print(f"usage: python -m bench.orm {{{','.join(COMMANDS)}}} < payload.json")
        return 2
    _setup()
    payload = json.loads(sys.stdin.read() or "{}")
    print(json.dumps(COMMANDS[argv[0]](payload)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
