"""The chat window of the contacts table: a contact's live thread and a composer, on the right of
the table. Sending goes the inbox composer's way (`conversation_send`); a contact with no
conversation yet gets one on the first Send, as New conversation starts one."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from twoway.accounts.decorators import member_view
from twoway.accounts.models import Membership
from twoway.contacts.access import access_contact
from twoway.contacts.models import Contact, CreatedFrom, phones_in_order
from twoway.conversations.by_contact import latest_conversations
from twoway.conversations.models import Conversation
from twoway.conversations.selectors import thread_page
from twoway.core.errors import TwowayError
from twoway.core.phones import format_for_display
from twoway.core.segments import segment_info
from twoway.messaging.send_batch import TextToSend, texts_send
from twoway.numbers.access import numbers_usable_by
from twoway.realtime.models import RealtimeEvent

# Refusals of access rather than of the text: the answer's status says so (as New
# conversation's does); the window shows the reason either way.
_ACCESS_DENIED_CODES = frozenset({"not_found", "cannot_initiate", "no_sms_permission"})


def _last_event_id(membership: Membership) -> int:
    """Where the window's live events start: the thread it draws is as of now."""
    last = (
        RealtimeEvent.objects.filter(organization_id=membership.organization_id)
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
    )
    return last or 0


def _window(
    request: HttpRequest,
    membership: Membership,
    contact: Contact,
    conversation: Conversation | None,
    *,
    status: int = 200,
    **extra: object,
) -> HttpResponse:
    phones = phones_in_order(contact.phones.all())
    context: dict[str, object] = {
        "membership": membership,
        "contact": contact,
        "primary_phone": phones[0] if phones else None,
        "chat_name": contact.name
        or (format_for_display(phones[0].number) if phones else "")
        or "(no name)",
        "conversation": conversation,
        "counter": segment_info(str(extra.get("body", ""))),
    }
    if conversation is not None:
        messages, has_earlier = thread_page(conversation)
        context.update(
            messages=messages, has_earlier=has_earlier, last_event_id=_last_event_id(membership)
        )
    else:
        numbers = list(numbers_usable_by(membership))
        context.update(numbers=numbers, from_id=numbers[0].pk if numbers else None)
    context.update(extra)
    return render(request, "web/_contact_chat.html", context, status=status)


@member_view
def contact_chat(request: HttpRequest, membership: Membership, contact_id: int) -> HttpResponse:
    """The window: the contact's most recent conversation the member may open, or a composer
    that starts one."""
    contact = access_contact(membership, contact_id)
    conversation = latest_conversations(membership, [contact.pk]).get(contact.pk)
    return _window(request, membership, contact, conversation)


@require_POST
@member_view
def contact_chat_start(
    request: HttpRequest, membership: Membership, contact_id: int
) -> HttpResponse:
    """The first text to a contact with no conversation the member may open, to its primary
    number from the number picked; the answer is the window with the new conversation."""
    contact = access_contact(membership, contact_id)
    phones = phones_in_order(contact.phones.all())
    body = request.POST.get("body", "")
    from_id = request.POST.get("from_id", "")
    if not phones:
        return _window(request, membership, contact, None, status=422, body=body)
    [sent] = texts_send(
        [
            TextToSend(
                membership=membership,
                sender=int(from_id) if from_id.isdigit() else None,
                to=phones[0].number,
                body=body,
                confirm_opted_out=request.POST.get("confirm_opted_out") == "on",
                label="",
                created_from=CreatedFrom.MANUAL,
            )
        ]
    )
    if isinstance(sent, TwowayError):
        status = sent.status if sent.code in _ACCESS_DENIED_CODES else 422
        extra: dict[str, object] = {"body": body, "error": sent.message}
        if from_id.isdigit():
            extra["from_id"] = int(from_id)
        return _window(request, membership, contact, None, status=status, **extra)
    conversation = latest_conversations(membership, [contact.pk]).get(contact.pk)
    return _window(request, membership, contact, conversation)
