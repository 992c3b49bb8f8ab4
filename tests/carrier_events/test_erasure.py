"""Deleting a conversation for good leaves none of its texts anywhere in the database: not in
messages, not in the stored webhooks that brought them, not in the live events' previews."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django_tasks_db.models import DBTaskResult

from twoway.accounts.models import Membership, Organization
from twoway.carrier_events.models import CarrierEvent
from twoway.carrier_events.processing import carrier_events_process_pending
from twoway.carrier_events.store import carrier_event_record
from twoway.carriers.base import InboundMessage
from twoway.conversations.models import Conversation, Message
from twoway.conversations.services import note_add
from twoway.conversations.tasks import deleted_texts_forget
from twoway.messaging.services import message_send
from twoway.numbers.models import PhoneNumber

pytestmark = pytest.mark.django_db

HANDSET = "+12025550143"


def texted(number: PhoneNumber, body: str, sid: str) -> None:
    carrier_event_record(
        "simulator",
        InboundMessage(
            carrier_message_id=sid, from_number=HANDSET, to_number=number.number, body=body
        ),
    )
    carrier_events_process_pending()


def tables_holding(word: str) -> list[str]:
    """Every table with a row in which `word` appears, read with plain SQL."""
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            if any(word in str(row) for row in cursor.fetchall()):
                found.append(table)
    return found


def a_conversation_with_texts(
    org: Organization, number: PhoneNumber, admin: Membership
) -> tuple[Conversation, list[str], list[str]]:
    words = [f"secret{uuid.uuid4().hex[:10]}" for _ in range(3)]
    sids = [f"SIM{uuid.uuid4().hex}", f"SIM{uuid.uuid4().hex}"]
    texted(number, f"My test result is {words[0]}", sids[0])
    conversation = Conversation.objects.get(phone_number=number, contact_number=HANDSET)
    message_send(
        organization=org,
        membership=admin,
        to=HANDSET,
        body=f"Thanks, noted {words[1]}",
        phone_number=number,
    )
    note_add(conversation=conversation, body=f"Call back about {words[2]}", author_id=admin.user_id)
    texted(number, f"Also {words[0]} again", sids[1])
    return conversation, words, sids


def test_deleting_a_conversation_leaves_none_of_its_texts_in_the_database(
    org: Organization,
    number: PhoneNumber,
    admin: Membership,
    admin_client: Client,
    django_capture_on_commit_callbacks: Any,
) -> None:
    conversation, words, sids = a_conversation_with_texts(org, number, admin)
    # The texts are where they were stored: messages, webhooks, live events, the search index.
    assert "carriers_carrierevent" in tables_holding(words[0])
    assert "realtime_realtimeevent" in tables_holding(words[1])

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"/inbox/c/{conversation.pk}/delete/")
    # SQLite's search index forgets the words in a job of its own (it rewrites the index).
    forgetting = DBTaskResult.objects.filter(task_path__endswith="deleted_texts_forget")
    assert forgetting.count() == (1 if connection.vendor == "sqlite" else 0)
    deleted_texts_forget.call()

    assert response.status_code in (204, 302)
    assert not Conversation.objects.filter(pk=conversation.pk).exists()
    for word in words:
        assert tables_holding(word) == [], word
    # The stored webhooks stay as rows, emptied: a carrier's retry is still a known duplicate.
    erased = CarrierEvent.objects.filter(dedupe_key__in=sids)
    assert [event.payload for event in erased] == [{"erased": True}] * 2

    texted(number, f"My test result is {words[0]}", sids[0])

    assert not Message.objects.filter(carrier_message_id=sids[0]).exists()
    assert tables_holding(words[0]) == []


def test_another_conversations_stored_texts_are_left_alone(
    org: Organization, number: PhoneNumber, admin: Membership, admin_client: Client
) -> None:
    conversation, _, _ = a_conversation_with_texts(org, number, admin)
    carrier_event_record(
        "simulator",
        InboundMessage(
            carrier_message_id="SIM-other",
            from_number="+12025550199",
            to_number=number.number,
            body="keep this one",
        ),
    )
    carrier_events_process_pending()

    admin_client.post(f"/inbox/c/{conversation.pk}/delete/")

    kept = CarrierEvent.objects.get(dedupe_key="SIM-other")
    assert kept.payload["body"] == "keep this one"
    assert Message.objects.filter(carrier_message_id="SIM-other").exists()
