"""The batched path and the one-event path of inbound texts leave the same rows and events.

The same texts are received twice from the same starting state, once in one batch and once one
event at a time (a lone event takes the one-event path), and everything they wrote is compared
with the ids of the run taken out. The one difference by design: one event at a time publishes
`conversation.updated` after every text, a batch once per conversation with the final state, so
the last such event of each conversation is what is compared.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.db.models import Max

from tests.conftest import make_conversation
from twoway.accounts.models import Organization
from twoway.answering.models import Answering, KeywordRule
from twoway.canned.models import CannedResponse
from twoway.carrier_events import processing
from twoway.carrier_events.models import CarrierEvent
from twoway.carrier_events.processing import carrier_events_process_pending
from twoway.carrier_events.store import carrier_event_record
from twoway.carriers.base import InboundMessage
from twoway.contacts.models import Contact, ContactPhone
from twoway.conversations.models import Conversation, Message
from twoway.numbers.models import PhoneNumber
from twoway.realtime.models import RealtimeEvent

pytestmark = pytest.mark.django_db

KNOWN = "+12025550181"  # a named contact with a muted conversation already
TEXTS = [
    ("+12025550180", "Hi, are you open today?"),
    (KNOWN, "It's me again"),
    ("+12025550182", "Do you take walk-ins? 🙂"),
    ("+12025550180", "And tomorrow?"),
    ("+12025550183", "x" * 200),  # two segments
]


class Rollback(Exception):
    pass


def record_all(number: PhoneNumber) -> None:
    for index, (handset, body) in enumerate(TEXTS):
        carrier_event_record(
            "simulator",
            InboundMessage(
                carrier_message_id=f"SIM-agree-{index}",
                from_number=handset,
                to_number=number.number,
                body=body,
            ),
        )


def snapshot() -> dict[str, Any]:
    """What the texts wrote, keyed by what stays the same from one run to the other."""
    conversation_key = {
        c.pk: (c.phone_number_id, c.contact_number) for c in Conversation.objects.all()
    }
    message_key = {str(m.uid): m.carrier_message_id or m.body for m in Message.objects.all()}
    phones = dict(ContactPhone.objects.values_list("contact_id", "number"))
    messages = sorted(
        (
            m.carrier_message_id or "",  # an answer Twoway sent has none yet
            conversation_key[m.conversation_id],
            m.direction,
            m.body,
            m.encoding,
            m.segments,
            m.status,
            m.category,
            m.kind,
            m.from_number,
            m.to_number,
            m.carrier,
            m.organization_id,
            m.sent_by_label,
        )
        for m in Message.objects.all()
    )
    conversations = sorted(
        (
            conversation_key[c.pk],
            phones[c.contact_id],
            c.folder,
            c.unread_count,
            c.last_message_preview,
            c.muted,
            c.organization_id,
        )
        for c in Conversation.objects.all()
    )
    latest = dict(
        Conversation.objects.values("contact_id")
        .annotate(at=Max("last_message_at"))
        .values_list("contact_id", "at")
    )
    contacts = sorted(
        (
            phones[c.pk],
            c.name,
            c.created_from,
            c.source_number_id,
            c.lead_texted_at is not None,
            c.opt_in_status,
            # Last activity: their conversations' last message, whichever path wrote it.
            c.last_activity_at is not None,
            c.last_activity_at == latest.get(c.pk),
        )
        for c in Contact.objects.all()
    )
    created: Counter[tuple[Any, ...]] = Counter()
    last_update: dict[Any, dict[str, Any]] = {}
    for event in RealtimeEvent.objects.order_by("id"):
        data = dict(event.data)
        if event.kind == "message.created":
            data["message"] = message_key[data["message"]]
            created[(conversation_key[event.conversation_id], tuple(sorted(data.items())))] += 1
        elif event.kind == "conversation.updated":
            last_update[conversation_key[event.conversation_id]] = data
        else:
            created[(event.kind, tuple(sorted(data.items())))] += 1
    events = [
        (event.dedupe_key, event.processed_at is not None, event.attempts, event.error)
        for event in CarrierEvent.objects.order_by("dedupe_key")
    ]
    return {
        "messages": messages,
        "conversations": conversations,
        "contacts": contacts,
        "events": created,
        "conversation_updates": last_update,
        "carrier_events": events,
    }


def run(number: PhoneNumber, *, batched: bool) -> dict[str, Any]:
    """Receive TEXTS from the current state and return what they wrote, then undo it all."""
    result: dict[str, Any] = {}
    try:
        with transaction.atomic():
            if batched:
                record_all(number)
                assert carrier_events_process_pending(limit=100) == len(TEXTS)
            else:
                record_all(number)
                for _ in TEXTS:
                    assert carrier_events_process_pending(limit=1) == 1
            result = snapshot()
            raise Rollback
    except Rollback:
        pass
    return result


def test_a_batch_and_one_event_at_a_time_write_the_same_rows_and_events(
    org: Organization, number: PhoneNumber, monkeypatch: pytest.MonkeyPatch
) -> None:
    together: list[int] = []
    real = processing.texts_receive_together

    def counted(group: list[Any]) -> None:
        together.append(len(group))
        real(group)

    monkeypatch.setattr(processing, "texts_receive_together", counted)
    known = make_conversation(org, number, KNOWN, name="Dana Known", folder="archived")
    known.muted = True
    known.save()
    ContactPhone.objects.create(organization=org, contact=known.contact, number=KNOWN)

    batched = run(number, batched=True)
    assert together == [len(TEXTS)]  # all of them in one batch
    alone = run(number, batched=False)
    assert together == [len(TEXTS)]  # and none of them in one here

    assert len(batched["messages"]) == len(TEXTS)
    assert sum(batched["events"].values()) == len(TEXTS)
    for part in batched:
        assert batched[part] == alone[part], part


def test_keyword_rules_and_the_away_message_answer_the_same_on_both_paths(
    org: Organization, number: PhoneNumber, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A text a rule answers, and every text while the away message is due, take the one-event
    path; the batch keeps the others, and both runs send the same answers."""
    together: list[int] = []
    real = processing.texts_receive_together

    def counted(group: list[Any]) -> None:
        together.append(len(group))
        real(group)

    monkeypatch.setattr(processing, "texts_receive_together", counted)
    closed = dt.datetime(2026, 12, 8, 20, 0, tzinfo=ZoneInfo("America/New_York"))
    open_ = closed.replace(hour=11)
    now = {"at": open_}
    monkeypatch.setattr("django.utils.timezone.now", lambda: now["at"])
    walk_ins = CannedResponse.objects.create(organization=org, name="Walk-ins", body="Yes!")
    KeywordRule.objects.create(organization=org, keyword="DO YOU TAKE WALK INS", response=walk_ins)
    away = CannedResponse.objects.create(organization=org, name="Away", body="We are closed.")
    Answering.objects.create(organization=org, away_enabled=True, away_response=away)

    batched = run(number, batched=True)
    assert together == [2, 2]  # the rule's text between two batches
    alone = run(number, batched=False)
    for part in batched:
        assert batched[part] == alone[part], part
    labels = [m[-1] for m in batched["messages"] if m[0] == ""]
    assert labels == ["Keyword rule: DO YOU TAKE WALK INS"]

    together.clear()
    now["at"] = closed
    batched = run(number, batched=True)
    assert together == []  # closed: every text may get the away message
    alone = run(number, batched=False)
    for part in batched:
        assert batched[part] == alone[part], part
    labels = sorted(m[-1] for m in batched["messages"] if m[0] == "")
    # One away message per conversation (four handsets), the rule's answer instead of one.
    assert labels == ["Away message"] * 3 + ["Keyword rule: DO YOU TAKE WALK INS"]
