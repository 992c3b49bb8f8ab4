"""The inbox: folders on the left, the open thread and its composer on the right."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from twoway.accounts.access import (
    access_conversation,
    access_conversation_reply,
    access_phone_number,
    can_delete_conversations,
    can_export_conversations,
    numbers_usable_by,
)
from twoway.accounts.models import Membership
from twoway.conversations.models import Conversation, Folder
from twoway.conversations.selectors import folder_counts, inbox_conversations, thread_messages
from twoway.conversations.services import note_add
from twoway.core.errors import InvalidInput, TwowayError
from twoway.messaging.segments import segment_info
from twoway.messaging.services import OptedOutError, message_send
from twoway.realtime.models import RealtimeEvent
from twoway.web.decorators import member_view

# Errors of access rather than of the form: a number the member may not use, a permission
# they lack. (An opted-out contact or a used-up balance is a 422: the form can go ahead.)
_ACCESS_DENIED_CODES = frozenset({"not_found", "cannot_initiate", "no_sms_permission"})

FOLDER_TABS = [
    (Folder.NEEDS_ATTENTION, "Needs attention"),
    (Folder.PARTICIPATING, "Participating"),
    (Folder.ARCHIVED, "Archived"),
]


def _folder(request: HttpRequest, default: str = Folder.NEEDS_ATTENTION) -> str:
    folder = request.GET.get("folder", default)
    return folder if folder in Folder.values else default


def _inbox_context(membership: Membership, folder: str) -> dict[str, object]:
    return {
        "folder": folder,
        "tabs": FOLDER_TABS,
        "counts": folder_counts(membership),
        "conversations": inbox_conversations(membership, folder),
    }


def _last_event_id(membership: Membership) -> int:
    last = (
        RealtimeEvent.objects.filter(organization_id=membership.organization_id)
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
    )
    return last or 0


@member_view
def inbox(request: HttpRequest, membership: Membership) -> HttpResponse:
    context = _inbox_context(membership, _folder(request))
    context.update(membership=membership, last_event_id=_last_event_id(membership))
    return render(request, "web/inbox.html", context)


@member_view
def conversation_list(request: HttpRequest, membership: Membership) -> HttpResponse:
    context = _inbox_context(membership, _folder(request))
    context["open_id"] = int(request.GET.get("open") or 0)
    return render(request, "web/_conversation_list.html", context)


def thread_context(membership: Membership, conversation_id: int) -> dict[str, object]:
    conversation = access_conversation(membership, conversation_id)
    return {
        "conversation": conversation,
        "contact": conversation.contact,
        "messages": thread_messages(conversation),
        "membership": membership,
        # The actions bar offers only what this member may do.
        "can_delete": can_delete_conversations(membership),
        "can_export": can_export_conversations(membership),
    }


@member_view
def conversation_detail(
    request: HttpRequest, membership: Membership, conversation_id: int
) -> HttpResponse:
    context = thread_context(membership, conversation_id)
    conversation: Conversation = context["conversation"]  # type: ignore[assignment]
    context.update(_inbox_context(membership, _folder(request, conversation.folder)))
    context.update(
        last_event_id=_last_event_id(membership),
        open_id=conversation_id,
        counter=segment_info(""),
    )
    return render(request, "web/inbox.html", context)


@member_view
def conversation_thread(
    request: HttpRequest, membership: Membership, conversation_id: int
) -> HttpResponse:
    return render(request, "web/_thread.html", thread_context(membership, conversation_id))


@require_POST
@member_view
def conversation_send(
    request: HttpRequest, membership: Membership, conversation_id: int
) -> HttpResponse:
    conversation = access_conversation_reply(membership, conversation_id)
    body = request.POST.get("body", "")
    error = ""
    try:
        message_send(
            phone_number=conversation.phone_number,
            to=conversation.contact_number,
            body=body,
            membership=membership,
            confirm_opted_out=request.POST.get("confirm_opted_out") == "on",
        )
        body = ""
    except TwowayError as exc:
        error = exc.message
    context = thread_context(membership, conversation_id)
    context.update(body=body, error=error, counter=segment_info(body))
    # 422 tells a script the send failed; htmx is configured to show it all the same.
    return render(request, "web/_conversation_panel.html", context, status=422 if error else 200)


@require_POST
@member_view
def conversation_note(
    request: HttpRequest, membership: Membership, conversation_id: int
) -> HttpResponse:
    conversation = access_conversation(membership, conversation_id)
    note_add(
        conversation=conversation, body=request.POST.get("body", ""), author_id=membership.user_id
    )
    return redirect("conversation", conversation_id=conversation.pk)


@require_POST
@member_view
def composer_counter(request: HttpRequest, membership: Membership) -> HttpResponse:
    """The live characters/segments counter: the server counts, exactly as it will bill."""
    body = request.POST.get("body", "")
    return render(
        request,
        "web/_counter.html",
        {
            "counter": segment_info(body),
            "max_length": membership.organization.max_message_length,
            "length": len(body),
        },
    )


@member_view
def new_conversation(request: HttpRequest, membership: Membership) -> HttpResponse:
    numbers = list(numbers_usable_by(membership))
    context: dict[str, object] = {
        "numbers": numbers,
        "membership": membership,
        # "Text this contact" on a contact card links here with the number filled in.
        "form": {
            "to": request.GET.get("to", ""),
            "body": "",
            "from_id": numbers[0].pk if numbers else None,
        },
        "counter": segment_info(""),
    }
    if not membership.can_initiate:
        context["error"] = "Your role can answer existing conversations but not start new ones."
        return render(request, "web/new_conversation.html", context, status=403)
    if request.method == "POST":
        to, body = request.POST.get("to", ""), request.POST.get("body", "")
        from_id = request.POST.get("from_id", "")
        context.update(
            form={"to": to, "body": body, "from_id": from_id}, counter=segment_info(body)
        )
        try:
            if not from_id.isdigit():
                raise InvalidInput("Pick a number to send from.")
            message = message_send(
                phone_number=access_phone_number(membership, int(from_id)),
                to=to,
                body=body,
                membership=membership,
                confirm_opted_out=request.POST.get("confirm_opted_out") == "on",
            )
        except TwowayError as exc:
            context.update(error=exc.message, needs_confirmation=isinstance(exc, OptedOutError))
            # The form shows the message either way; the status tells a script a number it may
            # not use (404) or a permission it lacks (403) from a mistake in the form (422).
            status = exc.status if exc.code in _ACCESS_DENIED_CODES else 422
            return render(request, "web/new_conversation.html", context, status=status)
        return redirect(reverse("conversation", args=[message.conversation_id]))
    return render(request, "web/new_conversation.html", context)
