"""The open conversation's actions: archive, unarchive, mark unread, mute, assign, delete,
export.

Each is a POST (export a GET download); with htmx the conversation panel is swapped in place and
other open inboxes hear of the change over SSE; without it the browser goes back to the thread.
"""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from twoway.accounts.decorators import member_view
from twoway.accounts.models import Membership
from twoway.carrier_events.erasure import conversation_erase
from twoway.conversations.access import (
    access_conversation,
    access_conversation_assign,
    access_conversation_delete,
    access_conversation_export,
)
from twoway.conversations.export import MAX_EXPORT_DAYS, conversation_export
from twoway.conversations.models import Conversation
from twoway.conversations.selectors import ASSIGNEE_FILTER
from twoway.conversations.services import (
    conversation_archive,
    conversation_assign,
    conversation_mark_unread,
    conversation_set_muted,
    conversation_unarchive,
)
from twoway.core.errors import InvalidInput
from twoway.core.segments import segment_info
from twoway.web.inbox import thread_context


def _after_action(
    request: HttpRequest, membership: Membership, conversation: Conversation
) -> HttpResponse:
    if request.htmx:  # type: ignore[attr-defined]
        context = thread_context(membership, conversation.pk)
        context["counter"] = segment_info("")
        return render(request, "web/_conversation_panel.html", context)
    return redirect(
        reverse("conversation", args=[conversation.pk]) + f"?folder={conversation.folder}"
    )


def _action(
    change: Callable[[Conversation], Conversation],
) -> Callable[..., HttpResponse]:
    @require_POST
    @member_view
    def view(request: HttpRequest, membership: Membership, conversation_id: int) -> HttpResponse:
        conversation = change(access_conversation(membership, conversation_id))
        return _after_action(request, membership, conversation)

    return view


conversation_archive_view = _action(lambda c: conversation_archive(conversation=c))
conversation_unarchive_view = _action(lambda c: conversation_unarchive(conversation=c))
conversation_unread_view = _action(lambda c: conversation_mark_unread(conversation=c))
conversation_mute_view = _action(lambda c: conversation_set_muted(conversation=c, muted=True))
conversation_unmute_view = _action(lambda c: conversation_set_muted(conversation=c, muted=False))


@require_POST
@member_view
def conversation_assign_view(
    request: HttpRequest, membership: Membership, conversation_id: int
) -> HttpResponse:
    """`assignee` is "user:<id>", "team:<id>", or empty to unassign."""
    conversation = access_conversation_assign(membership, conversation_id)
    assignee = request.POST.get("assignee", "")
    try:
        if assignee and (not ASSIGNEE_FILTER.match(assignee) or ":" not in assignee):
            raise InvalidInput("Pick a person or a team to assign to.", code="invalid_assignee")
        kind, _, pk = assignee.partition(":")
        conversation = conversation_assign(
            conversation=conversation,
            actor=membership,
            user_id=int(pk) if kind == "user" else None,
            team_id=int(pk) if kind == "team" else None,
        )
    except InvalidInput as exc:
        context = thread_context(membership, conversation.pk)
        context.update(counter=segment_info(""), assign_error=exc.message)
        return render(request, "web/_conversation_panel.html", context, status=422)
    return _after_action(request, membership, conversation)


@member_view
def conversation_delete_view(
    request: HttpRequest, membership: Membership, conversation_id: int
) -> HttpResponse:
    """GET asks for confirmation; POST deletes for good."""
    conversation = access_conversation_delete(membership, conversation_id)
    if request.method != "POST":
        context = {"conversation": conversation, "contact": conversation.contact}
        return render(request, "web/conversation_delete.html", context)
    conversation_erase(conversation=conversation)
    target = reverse("inbox")
    if request.htmx:  # type: ignore[attr-defined]
        return HttpResponse(status=204, headers={"HX-Redirect": target})
    return redirect(target)


def _parse_date(value: str, label: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"Give the {label} date as YYYY-MM-DD.", code="invalid_date") from None


@member_view
def conversation_export_view(
    request: HttpRequest, membership: Membership, conversation_id: int
) -> HttpResponse:
    """The form; with `start`, `end` and `format` filled in, the file as a download."""
    conversation = access_conversation_export(membership, conversation_id)
    today = timezone.localdate(timezone=zoneinfo.ZoneInfo(membership.organization.time_zone))
    form = {
        "start": request.GET.get(
            "start", str(today - datetime.timedelta(days=MAX_EXPORT_DAYS - 1))
        ),
        "end": request.GET.get("end", str(today)),
        "format": request.GET.get("format", "csv"),
    }
    context: dict[str, object] = {
        "conversation": conversation,
        "contact": conversation.contact,
        "form": form,
        "max_days": MAX_EXPORT_DAYS,
    }
    if "start" not in request.GET:
        return render(request, "web/conversation_export.html", context)
    try:
        exported = conversation_export(
            conversation=conversation,
            start=_parse_date(form["start"], "start"),
            end=_parse_date(form["end"], "end"),
            export_format=form["format"],
        )
    except InvalidInput as exc:
        context["error"] = exc.message
        return render(request, "web/conversation_export.html", context, status=400)
    response = HttpResponse(exported.content, content_type=exported.content_type)
    response["Content-Disposition"] = f'attachment; filename="{exported.filename}"'
    return response
