"""What a text gets back from Twoway itself: keyword actions (STOP, START, HELP and a worded
opt-out flagged for an agent) and the do-not-reply answer to a text no inbox shows."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone

from twoway.accounts.models import OffReply, Organization
from twoway.compliance.keywords import KeywordAction, KeywordSet, looks_like_opt_out
from twoway.contacts.services import contact_flag_opt_out, contact_set_opt_in
from twoway.conversations.models import Category, Direction, Message
from twoway.messaging.routing import InboundRoute
from twoway.messaging.services import message_send
from twoway.numbers.models import PhoneNumber
from twoway.realtime.events import ContactUpdated, event_publish

log = logging.getLogger(__name__)

# A text no inbox shows gets the do-not-reply message at most this often per handset.
DO_NOT_REPLY_INTERVAL = dt.timedelta(hours=24)

DO_NOT_REPLY_LABEL = "do-not-reply"


def answers_itself(
    body: str, contact: Any, organization: Organization, keywords: KeywordSet
) -> bool:
    """True for a text Twoway answers alone, which needs no agent: STOP, START from a contact
    who had opted out, HELP when there is a HELP reply. "Yes" from a contact who never opted out
    answers an agent; a worded opt-out waits for one."""
    found = keywords.match(body)
    if found is None:
        return False
    if found.action is KeywordAction.OPT_IN:
        return bool(contact.is_opted_out)
    if found.action is KeywordAction.HELP:
        return bool(organization.help_text)
    return True


def keywords_apply(
    message: Message,
    contact: Any,
    organization: Organization,
    texted: PhoneNumber,
    notes: list[str],
    keywords: KeywordSet,
) -> bool:
    """Act on STOP, START and HELP and the organization's own keywords (and flag a worded
    opt-out); True for a keyword."""
    found = keywords.match(message.body)
    action = found.action if found else None
    reply = ""
    # Opt-out and opt-in confirm a change, once: a second STOP gets no second text, and "Yes"
    # from a contact who never opted out is an answer to an agent, not a resubscription.
    if action in (KeywordAction.OPT_OUT, KeywordAction.OPT_IN):
        opting_in = action is KeywordAction.OPT_IN
        changed = contact_set_opt_in(
            contact=contact,
            opted_in=opting_in,
            source="keyword",
            text=message.body,
            phone_number=message.from_number,
            message_id=message.pk,
        )
        if changed:
            reply = (
                organization.opt_in_confirmation if opting_in else organization.opt_out_confirmation
            )
    elif action is KeywordAction.HELP:
        reply = organization.help_text
    elif not contact.is_opted_out and looks_like_opt_out(message.body, keywords):
        contact_flag_opt_out(
            contact=contact,
            text=message.body,
            phone_number=message.from_number,
            message_id=message.pk,
        )
    if action is not None:
        event_publish(
            ContactUpdated(
                organization_id=organization.pk,
                conversation_id=message.conversation_id,
                opt_in_status=contact.opt_in_status,
            )
        )
    if not reply:
        return action is not None
    conversation = message.conversation
    # The confirmation leaves from the number the contact texted, and joins their thread.
    send_reply(
        notes,
        "confirmation" if action is not KeywordAction.HELP else "HELP answer",
        phone_number=conversation.phone_number if conversation is not None else None,
        organization=organization,
        reply_from=texted,
        to=message.from_number,
        body=organization.render(reply),
        category=Category.AUTO_REPLY,
        label=f"keyword:{found.keyword if found else ''}",
    )
    return True


def off_inbox_answer(
    message: Message,
    organization: Organization,
    texted: PhoneNumber,
    route: InboundRoute,
    notes: list[str],
) -> None:
    """A text no inbox shows gets the organization's do-not-reply message when it chose one,
    at most once a day per handset, so two auto-responders never text each other forever."""
    if texted.is_system and route.inbox_number is None and organization.two_way_enabled:
        return  # a reply to marketing: carriers expect silence, not an answer
    if organization.two_way_enabled or organization.off_reply != OffReply.DO_NOT_REPLY:
        return
    since = timezone.now() - DO_NOT_REPLY_INTERVAL
    already = Message.objects.filter(
        organization=organization,
        direction=Direction.OUTBOUND,
        category=Category.AUTO_REPLY,
        sent_by_label=DO_NOT_REPLY_LABEL,
        from_number=texted.number,
        to_number=message.from_number,
        created_at__gte=since,
    ).exists()
    if already:
        return
    send_reply(
        notes,
        "do-not-reply answer",
        organization=organization,
        reply_from=texted,
        to=message.from_number,
        body=organization.render(organization.do_not_reply_text),
        category=Category.AUTO_REPLY,
        label=DO_NOT_REPLY_LABEL,
    )


def send_reply(notes: list[str], what: str, **send: Any) -> None:
    """Queue a compliance reply in a savepoint of its own, so that a reply which cannot be
    queued (a sender that cannot send, a bug) leaves the opt-out or the text it answers applied.
    A lost connection is not caught: then nothing of the text commits, and all of it, the
    reply with it, is tried again."""
    try:
        with transaction.atomic():
            message_send(**send)
    except (OperationalError, InterfaceError):
        raise
    except Exception as exc:
        log.error("The %s to %s could not be queued", what, send.get("to"), exc_info=exc)
        notes.append(f"The {what} was not sent: {type(exc).__name__}: {exc}")
