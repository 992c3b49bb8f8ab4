"""Failed texts: Retry on a failed text in its thread, and the Failed list of every failed text
the member sees, to send several again at once (`messaging.retry`)."""

from __future__ import annotations

from uuid import UUID

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from twoway.accounts.decorators import member_view
from twoway.accounts.models import Membership
from twoway.conversations.access import access_conversation_reply
from twoway.conversations.selectors import failed_texts_visible_to
from twoway.core.errors import NotFound, TwowayError
from twoway.messaging.retry import texts_retry
from twoway.web.inbox import redrawn_thread_context

# The most failed texts the list shows, newest first.
FAILED_PAGE = 200


@require_POST
@member_view
def message_retry(
    request: HttpRequest, membership: Membership, conversation_id: int, uid: UUID
) -> HttpResponse:
    """Retry in the thread: the text sent again, and the thread redrawn (from `since`, as its
    live redraw is) with the new text, or with why it could not go."""
    conversation = access_conversation_reply(membership, conversation_id)
    message = conversation.messages.filter(uid=uid).first()
    if message is None:
        raise NotFound("That message does not exist.")
    [result] = texts_retry(membership, [message.pk]).values()
    error = result.message if isinstance(result, TwowayError) else ""
    context = redrawn_thread_context(request, membership, conversation)
    context["retry_error"] = error
    return render(request, "web/_thread.html", context, status=422 if error else 200)


@member_view
def failed_list(request: HttpRequest, membership: Membership) -> HttpResponse:
    return render(request, "web/failed.html", _list_context(membership))


@require_POST
@member_view
def failed_retry(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Retry selected: each ticked text sent again; the list says how many went and why the
    others did not."""
    ids = [
        int(value)
        for value in request.POST.getlist("message")
        if value.isascii() and value.isdigit()
    ]
    results = texts_retry(membership, ids)
    refused = [result for result in results.values() if isinstance(result, TwowayError)]
    context = _list_context(membership)
    context.update(
        sent_again=len(results) - len(refused),
        refusals=sorted({error.message for error in refused}),
        nothing_picked=not ids,
    )
    return render(request, "web/failed.html", context, status=422 if not ids else 200)


def _list_context(membership: Membership) -> dict[str, object]:
    failed = list(
        failed_texts_visible_to(membership).select_related(
            "conversation__contact", "conversation__phone_number"
        )[: FAILED_PAGE + 1]
    )
    return {
        "membership": membership,
        "failed": failed[:FAILED_PAGE],
        "more": len(failed) > FAILED_PAGE,
        "page_size": FAILED_PAGE,
    }
