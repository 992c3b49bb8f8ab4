from __future__ import annotations

from typing import Any

from twoway.realtime.models import RealtimeEvent


def event_publish(
    *, organization_id: int, kind: str, conversation_id: int | None = None, **data: Any
) -> RealtimeEvent:
    """Record a change for open inboxes; written in the caller's transaction, seen on commit."""
    return RealtimeEvent.objects.create(
        organization_id=organization_id, kind=kind, conversation_id=conversation_id, data=data
    )
