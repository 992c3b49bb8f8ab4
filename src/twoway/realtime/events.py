"""The domain events Twoway produces, one class per kind, and the one function that writes them.

Open inboxes hear of them over SSE (`RealtimeEvent` rows, read in id order), and every kind has a
fixed schema: the fields of its class, the same whichever path produced it (the one-text path,
a batch, the worker recording sends), so a consumer can rely on them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from twoway.core.rows import rows_insert
from twoway.realtime.models import RealtimeEvent

# How much of a text an event carries: enough for a list line or a notification.
PREVIEW_LENGTH = 80


@dataclass(frozen=True, kw_only=True)
class DomainEvent:
    """What every event has: the organization it belongs to and, for most, its conversation.
    The other fields of a subclass are its payload."""

    kind: ClassVar[str]
    organization_id: int
    conversation_id: int | None = None

    def payload(self) -> dict[str, Any]:
        return {
            field.name: getattr(self, field.name)
            for field in dataclasses.fields(self)
            if field.name not in ("organization_id", "conversation_id")
        }


@dataclass(frozen=True, kw_only=True)
class MessageCreated(DomainEvent):
    """A text came in or went out, or a note was added to a thread."""

    kind: ClassVar[str] = "message.created"
    message: str  # the message's uid
    direction: str  # "in", "out" (a note is "out")
    note: bool
    status: str  # the message's status; "" for a note
    preview: str  # the first PREVIEW_LENGTH characters
    contact: str  # the contact's name, or their number
    muted: bool  # the conversation is muted: shown, but nobody is alerted


@dataclass(frozen=True, kw_only=True)
class MessageStatus(DomainEvent):
    """A message's status moved on (sending, sent, delivered, failed, ...)."""

    kind: ClassVar[str] = "message.status"
    message: str
    status: str


@dataclass(frozen=True, kw_only=True)
class ConversationUpdated(DomainEvent):
    """A conversation changed folder, unread count, assignee, muting or contact (a merge)."""

    kind: ClassVar[str] = "conversation.updated"
    folder: str
    unread_count: int


@dataclass(frozen=True, kw_only=True)
class ConversationDeleted(DomainEvent):
    kind: ClassVar[str] = "conversation.deleted"


@dataclass(frozen=True, kw_only=True)
class ContactUpdated(DomainEvent):
    """A contact's opt-in status was acted on (a keyword: STOP, START, HELP)."""

    kind: ClassVar[str] = "contact.updated"
    opt_in_status: str


@dataclass(frozen=True, kw_only=True)
class NotificationCreated(DomainEvent):
    """The organization's administrators got a notification (the bell)."""

    kind: ClassVar[str] = "notification.created"
    title: str


EVENT_KINDS: dict[str, type[DomainEvent]] = {
    cls.kind: cls
    for cls in (
        MessageCreated,
        MessageStatus,
        ConversationUpdated,
        ConversationDeleted,
        ContactUpdated,
        NotificationCreated,
    )
}


def preview_of(body: str) -> str:
    return body[:PREVIEW_LENGTH]


# Apps above this one that act on every event (outgoing webhooks), registered at start-up: they
# see the events in the same transaction, so what they record commits or rolls back with them.
_listeners: list[Callable[[Sequence[DomainEvent]], None]] = []


def events_listen(listener: Callable[[Sequence[DomainEvent]], None]) -> None:
    if listener not in _listeners:
        _listeners.append(listener)


def events_publish(events: Sequence[DomainEvent]) -> None:
    """Record changes in the caller's transaction (seen on commit), in one statement however
    many: the only writer of `RealtimeEvent`."""
    if not events:
        return
    for listener in _listeners:
        listener(events)
    rows_insert(
        RealtimeEvent,
        [
            {
                "organization_id": event.organization_id,
                "kind": event.kind,
                "conversation_id": event.conversation_id,
                "data": event.payload(),
            }
            for event in events
        ],
    )


def event_publish(event: DomainEvent) -> None:
    events_publish([event])


def realtime_events_forget(*, organization_id: int, conversation_id: int) -> None:
    """A conversation deleted for good takes its events along: they carry its texts' previews."""
    RealtimeEvent.objects.filter(
        organization_id=organization_id, conversation_id=conversation_id
    ).delete()
