"""Send later: the composer's Schedule, and a scheduled text's Edit and Cancel in its thread
(`messaging.scheduling`). Times are typed and shown in the organization's time zone."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any
from uuid import UUID

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from twoway.accounts.decorators import member_view
from twoway.accounts.models import Membership
from twoway.contacts.models import CreatedFrom
from twoway.conversations.access import access_conversation_reply
from twoway.conversations.models import Conversation, Message
from twoway.core.errors import InvalidInput, NotFound, TwowayError
from twoway.core.segments import segment_info
from twoway.messaging.scheduling import scheduled_cancel, scheduled_edit
from twoway.messaging.send_batch import TextToSend, texts_send
from twoway.web.inbox import redrawn_thread_context


def local_time(value: str, time_zone: str) -> dt.datetime:
    """A date and time as the picker sends it (`2027-01-05T09:30`, seconds optional), read in
    the organization's time zone."""
    if not value.strip():
        raise InvalidInput("Pick the date and time to send it at.", code="send_at_missing")
    try:
        naive = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(
            f"“{value[:40]}” is not a date and time.", code="send_at_invalid"
        ) from None
    if naive.tzinfo is not None:
        return naive
    return naive.replace(tzinfo=zoneinfo.ZoneInfo(time_zone))


@require_POST
@member_view
def conversation_schedule(
    request: HttpRequest, membership: Membership, conversation_id: int
) -> HttpResponse:
    """Schedule from the composer: the text checked as Send checks it, stored for its time,
    and the composer answered as Send answers (emptied, or keeping text and time beside the
    error) with the thread redrawn."""
    conversation = access_conversation_reply(membership, conversation_id)
    body = request.POST.get("body", "")
    typed = request.POST.get("send_at", "")
    try:
        send_at = local_time(typed, membership.organization.time_zone)
        [sent] = texts_send(
            [
                TextToSend(
                    membership=membership,
                    sender=conversation.phone_number_id,
                    to=conversation.contact_number,
                    body=body,
                    confirm_opted_out=request.POST.get("confirm_opted_out") == "on",
                    label="",
                    created_from=CreatedFrom.MANUAL,
                    send_at=send_at,
                )
            ]
        )
    except TwowayError as exc:
        sent = exc
    error = sent.message if isinstance(sent, TwowayError) else ""
    context = redrawn_thread_context(request, membership, conversation)
    kept = body if error else ""
    context.update(
        body=kept,
        error=error,
        counter=segment_info(kept),
        send_later={"open": bool(error), "value": typed if error else ""},
    )
    return render(request, "web/_composer_sent.html", context, status=422 if error else 200)


@require_POST
@member_view
def scheduled_text_edit(
    request: HttpRequest, membership: Membership, conversation_id: int, uid: UUID
) -> HttpResponse:
    """Save a scheduled text's new words and time; the thread redrawn with it, or with its
    form still open beside why it could not be saved."""
    conversation, message = _scheduled_text(membership, conversation_id, uid)
    body = request.POST.get("body", "")
    typed = request.POST.get("send_at", "")
    error = ""
    try:
        send_at = local_time(typed, membership.organization.time_zone)
        scheduled_edit(message=message, membership=membership, body=body, send_at=send_at)
    except TwowayError as exc:
        error = exc.message
    editing = {"uid": message.uid, "body": body, "send_at": typed} if error else None
    return _thread(request, membership, conversation, error, editing=editing)


@require_POST
@member_view
def scheduled_text_cancel(
    request: HttpRequest, membership: Membership, conversation_id: int, uid: UUID
) -> HttpResponse:
    conversation, message = _scheduled_text(membership, conversation_id, uid)
    error = ""
    try:
        scheduled_cancel(message=message, membership=membership)
    except TwowayError as exc:
        error = exc.message
    return _thread(request, membership, conversation, error)


def _scheduled_text(
    membership: Membership, conversation_id: int, uid: UUID
) -> tuple[Conversation, Message]:
    conversation = access_conversation_reply(membership, conversation_id)
    message = conversation.messages.filter(uid=uid).first()
    if message is None:
        raise NotFound("That message does not exist.")
    return conversation, message


def _thread(
    request: HttpRequest,
    membership: Membership,
    conversation: Conversation,
    error: str,
    *,
    editing: dict[str, Any] | None = None,
) -> HttpResponse:
    context = redrawn_thread_context(request, membership, conversation)
    context.update(scheduled_error=error, editing=editing)
    return render(request, "web/_thread.html", context, status=422 if error else 200)
