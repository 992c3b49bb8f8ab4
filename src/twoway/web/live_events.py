"""Server-Sent Events: an open inbox hears of new messages, statuses and folder moves.

Each stream reads the organization's event table from the id the client last saw, so a client
that reconnects (Last-Event-ID) misses nothing, whichever process wrote the event.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase

from twoway.accounts.access import access_membership
from twoway.accounts.models import Membership
from twoway.conversations.access import conversations_visible_to
from twoway.core.errors import TwowayError
from twoway.realtime.models import RealtimeEvent

KEEPALIVE_SECONDS = 15.0


def _events_after(membership_id: int, after: int) -> list[RealtimeEvent] | None:
    """The next events the member may hear of, or None once they may hear nothing.

    A member who sees only some numbers hears nothing, not even an id, of the conversations
    on the others. Role, number access and the account itself are read again on every poll,
    so access taken away stops the events at once.
    """
    membership = Membership.objects.select_related("user").filter(pk=membership_id).first()
    if membership is None or not membership.user.is_active:
        return None
    events = RealtimeEvent.objects.filter(organization_id=membership.organization_id, id__gt=after)
    if not membership.is_admin:
        visible = conversations_visible_to(membership).values("pk")
        events = events.filter(Q(conversation_id__isnull=True) | Q(conversation_id__in=visible))
    return list(events.order_by("id")[:200])


def _format(event: RealtimeEvent) -> str:
    data = json.dumps({"kind": event.kind, "conversation": event.conversation_id, **event.data})
    # Every event refreshes the conversation list; its conversation's thread refreshes too.
    chunks = [f"id: {event.pk}\nevent: inbox\ndata: {data}\n\n"]
    if event.conversation_id:
        chunks.append(f"event: conversation-{event.conversation_id}\ndata: {data}\n\n")
        # The open conversation's header (assignee, folder, mute) changes only with these, not
        # with each delivery status, so it is not redrawn under the reader's hand for nothing.
        if event.kind == "conversation.updated":
            name = f"conversation-{event.conversation_id}-updated"
            chunks.append(f"event: {name}\ndata: {data}\n\n")
    return "".join(chunks)


async def _stream(membership_id: int, after: int) -> AsyncIterator[str]:
    fetch = sync_to_async(_events_after)
    idle = 0.0
    yield "retry: 2000\n\n"
    while True:
        events = await fetch(membership_id, after)
        if events is None:
            return
        for event in events:
            after = event.pk
            yield _format(event)
        if events:
            idle = 0.0
            continue
        await asyncio.sleep(settings.REALTIME_POLL_SECONDS)
        idle += settings.REALTIME_POLL_SECONDS
        if idle >= KEEPALIVE_SECONDS:
            idle = 0.0
            yield ": keep-alive\n\n"


async def event_stream(request: HttpRequest) -> HttpResponseBase:
    user = await request.auser()
    try:
        membership = await sync_to_async(access_membership)(user)
    except TwowayError as exc:
        return HttpResponse(exc.message, status=exc.status, content_type="text/plain")
    raw_after = request.headers.get("Last-Event-ID") or request.GET.get("after") or "0"
    try:
        after = int(raw_after)
    except ValueError:
        return HttpResponse("`after` must be an event id.", status=400, content_type="text/plain")
    response = StreamingHttpResponse(
        _stream(membership.pk, after), content_type="text/event-stream"
    )
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx: pass events through as they come
    return response
