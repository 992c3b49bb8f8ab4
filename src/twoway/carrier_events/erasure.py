"""Deleting a conversation for good, texts and all: its messages go (`conversation_delete`), and
so do their words in what carriers sent us about them."""

from __future__ import annotations

from django.db import transaction

from twoway.carrier_events.models import CarrierEvent, EventKind
from twoway.conversations.models import Conversation, Direction, Message
from twoway.conversations.services import conversation_delete

# What an erased inbound event keeps: its row stays, so the carrier's retry of it is still known
# as a duplicate and not received again.
ERASED_PAYLOAD = {"erased": True}
# Keys looked up per statement (SQLite allows a few hundred parameters at most).
_CHUNK = 500


@transaction.atomic
def conversation_erase(*, conversation: Conversation) -> None:
    """Delete the conversation and clear the stored webhooks of the texts that came into it."""
    received = Message.objects.filter(
        conversation_id=conversation.pk, direction=Direction.INBOUND
    ).values_list("carrier", "carrier_message_id")
    by_carrier: dict[str, list[str]] = {}
    for carrier, message_id in received:
        if message_id:
            by_carrier.setdefault(carrier, []).append(message_id)
    conversation_delete(conversation=conversation)
    for carrier, message_ids in by_carrier.items():
        for start in range(0, len(message_ids), _CHUNK):
            CarrierEvent.objects.filter(
                carrier=carrier,
                kind=EventKind.INBOUND,
                dedupe_key__in=message_ids[start : start + _CHUNK],
            ).update(payload=ERASED_PAYLOAD, error="")
