"""The inbox: folders on the left, the open thread and its composer on the right."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from urllib.parse import urlencode

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from twoway.accounts.access import initiate_refusal
from twoway.accounts.decorators import member_view
from twoway.accounts.models import Membership
from twoway.accounts.names import person_name
from twoway.contacts.models import CreatedFrom
from twoway.conversations.access import (
    access_conversation,
    access_conversation_reply,
    can_assign_conversations,
    can_delete_conversations,
    can_export_conversations,
    conversations_visible_to,
)
from twoway.conversations.models import Conversation, Folder
from twoway.conversations.selectors import (
    ASSIGNEE_FILTER,
    FOLDER_COUNT_CAP,
    INBOX_THROUGH_MAX,
    ContactFilter,
    InboxCursor,
    assignee_choices,
    assignee_filter_choices,
    contact_filter_choices,
    conversations_with_flagged_opt_out,
    failed_texts_visible_to,
    folder_counts,
    inbox_page,
    inbox_scope,
    thread_page,
)
from twoway.conversations.services import (
    conversation_archive,
    conversation_mark_read,
    conversation_mark_unread,
    conversation_unarchive,
    note_add,
)
from twoway.core.errors import InvalidInput, TwowayError
from twoway.core.segments import GSM7, UCS2, replace_lookalikes, segment_info
from twoway.core.text import emoji_from_shortcodes
from twoway.media.services import media_check
from twoway.messaging.send_batch import TextToSend, texts_send
from twoway.messaging.services import OptedOutError, message_send
from twoway.numbers.access import access_phone_number, numbers_usable_by
from twoway.realtime.models import RealtimeEvent
from twoway.web.contact_filters import contact_filter_from, contact_filter_values

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


def _assignee(request: HttpRequest) -> str:
    """The assignee filter ("me", "none", "user:<id>", "team:<id>"); "" shows everyone's."""
    assignee = request.GET.get("assignee", "")
    return assignee if ASSIGNEE_FILTER.match(assignee) else ""


def _filter_query(assignee: str, contact_filter: ContactFilter) -> str:
    """The filters as the tabs', rows' and "Show older" links carry them: `&name=value`..."""
    values = {"assignee": assignee, **contact_filter_values(contact_filter)}
    kept = {name: value for name, value in values.items() if value}
    return "&" + urlencode(kept) if kept else ""


def _assignee_options(membership: Membership) -> list[tuple[str, list[tuple[str, str]]]]:
    """The assignee filter's teams and people, as (group, [(value, label)])."""
    choices = assignee_filter_choices(membership)
    teams = [(f"team:{t.pk}", f"Team {t.name}") for t in choices["teams"]]
    people = [(f"user:{m.user_id}", person_name(m.user)) for m in choices["members"]]
    return [("Teams", teams), ("People", people)]


def _cursor(request: HttpRequest, name: str) -> InboxCursor | None:
    """A place in the list (`before` or `through`); a bad one is a 400 (InvalidInput): as the
    first page, "Show older" would append rows already on screen."""
    value = request.GET.get(name, "")
    return InboxCursor.parse(value) if value else None


def _inbox_context(
    membership: Membership,
    folder: str,
    assignee: str = "",
    contact_filter: ContactFilter | None = None,
    *,
    before: InboxCursor | None = None,
    through: InboxCursor | None = None,
) -> dict[str, object]:
    contact_filter = contact_filter or ContactFilter()
    # The member's numbers and teams, read once.
    scope = inbox_scope(membership, assignee, contact_filter)
    page = inbox_page(membership, folder, assignee, scope=scope, before=before, through=through)
    return {
        "folder": folder,
        "tabs": FOLDER_TABS,
        "counts": folder_counts(membership, assignee, scope=scope),
        "count_cap": FOLDER_COUNT_CAP,
        "conversations": page.conversations,
        "older_cursor": page.older_cursor,
        # Kept in the tabs' and rows' links, so the filters stay on across folders.
        "assignee": assignee,
        "contact_filter": contact_filter,
        "filter_query": _filter_query(assignee, contact_filter),
        # Called by the template, so the partial list refreshed live does not run their queries.
        "assignee_options": functools.partial(_assignee_options, membership),
        "contact_options": functools.partial(contact_filter_choices, membership.organization_id),
        "failed_count": functools.partial(_failed_count, membership),
        "flagged_count": functools.partial(_flagged_count, membership),
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
    # `before`: an older page, for "Show older conversations" followed without JavaScript.
    context = _inbox_context(
        membership,
        _folder(request),
        _assignee(request),
        contact_filter_from(request),
        before=_cursor(request, "before"),
    )
    context.update(membership=membership, last_event_id=_last_event_id(membership))
    return render(request, "web/inbox.html", context)


# The Failed texts link counts up to this many ("99+" beyond).
FAILED_COUNT_CAP = 99


def _failed_count(membership: Membership) -> int:
    return failed_texts_visible_to(membership)[: FAILED_COUNT_CAP + 1].count()


def _flagged_count(membership: Membership) -> int:
    return conversations_with_flagged_opt_out(membership)[: FAILED_COUNT_CAP + 1].count()


# The inbox list's bulk actions (its ticked rows), each the one-conversation action's service.
BULK_ACTIONS: dict[str, Callable[..., Conversation]] = {
    "archive": conversation_archive,
    "unarchive": conversation_unarchive,
    "read": conversation_mark_read,
    "unread": conversation_mark_unread,
}


@require_POST
@member_view
def conversations_bulk(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Archive (or unarchive), mark read or unread every ticked conversation the member sees
    (any other id is left alone, as if not ticked), in one transaction; then the list, with the
    folder and filters of the address it was posted to."""
    action = BULK_ACTIONS.get(request.POST.get("action", ""))
    if action is None:
        raise InvalidInput("Pick what to do with the conversations.", code="unknown_action")
    values = request.POST.getlist("conversation")
    ids = [int(value) for value in values if value.isascii() and value.isdigit()]
    if not ids:
        raise InvalidInput("Tick the conversations first.", code="nothing_picked")
    if len(ids) > INBOX_THROUGH_MAX:
        raise InvalidInput(f"Pick at most {INBOX_THROUGH_MAX} conversations at once.")
    with transaction.atomic():
        for conversation in conversations_visible_to(membership).filter(pk__in=ids).order_by("pk"):
            action(conversation=conversation)
    folder, assignee, contact_filter = (
        _folder(request),
        _assignee(request),
        contact_filter_from(request),
    )
    if not request.htmx:  # type: ignore[attr-defined]
        return redirect(
            reverse("inbox") + f"?folder={folder}" + _filter_query(assignee, contact_filter)
        )
    context = _inbox_context(membership, folder, assignee, contact_filter)
    return render(request, "web/_conversation_list.html", context)


@member_view
def conversation_list(request: HttpRequest, membership: Membership) -> HttpResponse:
    """The list, redrawn live (down to `through`, the last row on screen: twoway.js); with
    `before`, the rows after that one and the link to the next, for "Show older"."""
    folder, assignee = _folder(request), _assignee(request)
    # The open conversation's id, to mark its row; anything else marks none (`isdigit` alone
    # passes "²", which `int` refuses).
    open_value = request.GET.get("open", "")
    open_id = int(open_value) if re.fullmatch(r"[0-9]{1,18}", open_value) else 0
    contact_filter = contact_filter_from(request)
    before = _cursor(request, "before")
    if before is None:
        context = _inbox_context(
            membership, folder, assignee, contact_filter, through=_cursor(request, "through")
        )
        context["open_id"] = open_id
        return render(request, "web/_conversation_list.html", context)
    # Appended to the list: no tabs, so no counts.
    scope = inbox_scope(membership, assignee, contact_filter)
    page = inbox_page(membership, folder, assignee, scope=scope, before=before)
    context = {
        "folder": folder,
        "conversations": page.conversations,
        "older_cursor": page.older_cursor,
        "filter_query": _filter_query(assignee, contact_filter),
        "open_id": open_id,
    }
    return render(request, "web/_conversation_rows.html", context)


def thread_context(
    membership: Membership, conversation_id: int, *, around: str = "", since: str = ""
) -> dict[str, object]:
    """The open conversation: its newest messages (or those from `around` or `since`, a message
    uid, on: see `thread_page`)."""
    conversation = access_conversation(membership, conversation_id)
    messages, has_earlier = thread_page(conversation, around=around, since=since)
    context = _header_context(membership, conversation)
    context.update(messages=messages, has_earlier=has_earlier)
    return context


def _header_context(membership: Membership, conversation: Conversation) -> dict[str, object]:
    """What the header (name, assignee, actions bar) shows: no messages, so the header alone
    can be redrawn live without reading the thread."""
    return {
        "conversation": conversation,
        "contact": conversation.contact,
        "membership": membership,
        # The actions bar offers only what this member may do.
        "can_delete": can_delete_conversations(membership),
        "can_export": can_export_conversations(membership),
        "can_assign": can_assign_conversations(membership),
        # Querysets: only run when the actions bar lists them.
        "assignee_choices": assignee_choices(conversation),
    }


@member_view
def conversation_detail(
    request: HttpRequest, membership: Membership, conversation_id: int
) -> HttpResponse:
    context = thread_context(membership, conversation_id, around=request.GET.get("around", ""))
    conversation: Conversation = context["conversation"]  # type: ignore[assignment]
    context.update(
        _inbox_context(
            membership,
            _folder(request, conversation.folder),
            _assignee(request),
            contact_filter_from(request),
        )
    )
    context.update(
        last_event_id=_last_event_id(membership),
        open_id=conversation_id,
        counter=segment_info(""),
    )
    return render(request, "web/inbox.html", context)


@member_view
def conversation_panel(
    request: HttpRequest, membership: Membership, conversation_id: int
) -> HttpResponse:
    """The conversation alone (header, actions, thread, composer): what a click in the list
    swaps in, since the list and the tab counts are already on screen."""
    context = thread_context(membership, conversation_id, around=request.GET.get("around", ""))
    context["counter"] = segment_info("")
    return render(request, "web/_conversation_panel_open.html", context)


@member_view
def conversation_header(
    request: HttpRequest, membership: Membership, conversation_id: int
) -> HttpResponse:
    """The header alone, redrawn live when the conversation's folder, assignee or mute changes
    (another agent's action, a new text), so its actions match the conversation."""
    conversation = access_conversation(membership, conversation_id)
    return render(
        request, "web/_conversation_header.html", _header_context(membership, conversation)
    )


@member_view
def conversation_thread(
    request: HttpRequest, membership: Membership, conversation_id: int
) -> HttpResponse:
    """The thread, redrawn live (from `since`, the oldest message on screen: twoway.js); with
    `before` (a message uid), the messages older than it."""
    before = request.GET.get("before", "")
    if not before:
        since = request.GET.get("since", "")
        context = thread_context(membership, conversation_id, since=since)
        return render(request, "web/_thread.html", context)
    conversation = access_conversation(membership, conversation_id)
    messages, has_earlier = thread_page(conversation, before=before)
    context = {
        "conversation": conversation,
        "membership": membership,
        "messages": messages,
        "has_earlier": has_earlier,
        "older": True,
    }
    return render(request, "web/_messages.html", context)


@require_POST
@member_view
def conversation_send(
    request: HttpRequest, membership: Membership, conversation_id: int
) -> HttpResponse:
    """Send from the composer: the text goes the way the API's do (`texts_send`), and the answer
    is the composer (emptied, or keeping the text beside the error) with the thread redrawn
    from `since`, as its live redraw is. The header redraws itself live."""
    conversation = access_conversation_reply(membership, conversation_id)
    body = request.POST.get("body", "")
    if files := request.FILES.getlist("media"):
        error = _mms_send(request, membership, conversation, body, files)
        return _composer_answer(request, membership, conversation, body, error)
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
            )
        ]
    )
    error = sent.message if isinstance(sent, TwowayError) else ""
    return _composer_answer(request, membership, conversation, body, error)


def _mms_send(
    request: HttpRequest,
    membership: Membership,
    conversation: Conversation,
    body: str,
    files: list[UploadedFile],
) -> str:
    """An MMS from the composer: the files checked by their content, then `message_send`
    (texts_send, the batch path, takes texts only). Why it cannot go, or ""."""
    try:
        message_send(
            phone_number=conversation.phone_number,
            to=conversation.contact_number,
            body=body,
            membership=membership,
            confirm_opted_out=request.POST.get("confirm_opted_out") == "on",
            media=media_check(files),
        )
    except TwowayError as exc:
        return exc.message
    return ""


def redrawn_thread_context(
    request: HttpRequest, membership: Membership, conversation: Conversation
) -> dict[str, object]:
    """The thread as an action in it answers (Send, Save as note, Retry): redrawn from the
    posted `since`, the oldest message on screen, as its live redraw is."""
    messages, has_earlier = thread_page(conversation, since=request.POST.get("since", ""))
    return {
        "conversation": conversation,
        "contact": conversation.contact,
        "membership": membership,
        "messages": messages,
        "has_earlier": has_earlier,
    }


def _composer_answer(
    request: HttpRequest,
    membership: Membership,
    conversation: Conversation,
    body: str,
    error: str,
) -> HttpResponse:
    """The composer (emptied, or keeping the text beside the error) and the thread redrawn
    from `since`, as its live redraw is: what Send and Save as note answer."""
    if not error:
        body = ""
    context = redrawn_thread_context(request, membership, conversation)
    context.update(body=body, error=error, counter=segment_info(body))
    # 422 tells a script the send failed; htmx is configured to show it all the same.
    return render(request, "web/_composer_sent.html", context, status=422 if error else 200)


@require_POST
@member_view
def conversation_note(
    request: HttpRequest, membership: Membership, conversation_id: int
) -> HttpResponse:
    """A note from the composer (Save as note): shown to the team in the thread, never sent."""
    conversation = access_conversation(membership, conversation_id)
    body = request.POST.get("body", "")
    try:
        note_add(conversation=conversation, body=body, author_id=membership.user_id)
    except TwowayError as exc:
        if not request.htmx:  # type: ignore[attr-defined]
            raise
        return _composer_answer(request, membership, conversation, body, exc.message)
    if request.htmx:  # type: ignore[attr-defined]
        return _composer_answer(request, membership, conversation, body, "")
    return redirect("conversation", conversation_id=conversation.pk)


@require_POST
@member_view
def composer_counter(request: HttpRequest, membership: Membership) -> HttpResponse:
    """The live characters/segments counter: the server counts, exactly as it will bill (the
    text as it will be sent: shortcodes made emoji); and, where typographic look-alikes (curly
    quotes, long dashes, an ellipsis, non-breaking spaces) alone make the text Unicode, the text
    with plain ones instead, offered with the segments it saves."""
    typed = request.POST.get("body", "")
    body = emoji_from_shortcodes(typed)
    counter = segment_info(body)
    max_length = membership.organization.max_message_length
    context: dict[str, object] = {
        "counter": counter,
        "max_length": max_length,
        "length": len(body),
        "over": max(0, len(body) - max_length),
    }
    plain = replace_lookalikes(typed)
    if counter.encoding == UCS2 and plain != typed:
        plain_counter = segment_info(emoji_from_shortcodes(plain))
        if plain_counter.encoding == GSM7:
            context["plain"] = {
                "text": plain,
                "saved": counter.segments - plain_counter.segments,
            }
    return render(request, "web/_counter.html", context)


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
    refusal = initiate_refusal(membership)
    if refusal is not None:
        context["error"] = refusal.message
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
