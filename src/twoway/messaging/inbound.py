"""A text from a handset to one of our numbers, received: stored where the agents will see it,
then acted on. The host of carrier events calls this for each inbound event it cannot take in a
batch (`inbound_batch.py` receives plain texts to inboxes together)."""

from __future__ import annotations

from twoway.carriers.base import InboundMessage
from twoway.compliance.keywords import looks_like_opt_out
from twoway.compliance.organization_keywords import keyword_set_of
from twoway.contacts.models import CreatedFrom
from twoway.contacts.services import contact_get_or_create_by_phone
from twoway.conversations.models import Direction, Message, Status
from twoway.conversations.services import (
    conversation_get_or_create,
    conversation_record_inbound,
    message_created,
)
from twoway.core.segments import segment_info
from twoway.media.rules import MMS_ENCODING, MMS_SEGMENTS
from twoway.media.services import media_expect
from twoway.messaging.answering_replies import answering_reply, answering_rule_of
from twoway.messaging.auto_replies import answers_itself, keywords_apply, off_inbox_answer
from twoway.messaging.drip_replies import drip_steps_drop
from twoway.messaging.errors import Unprocessable
from twoway.messaging.routing import inbound_route, number_texted, sender_number
from twoway.realtime.events import event_publish


def inbound_message_receive(
    carrier: str, inbound: InboundMessage, *, notes: list[str] | None = None
) -> Message:
    """A handset texted one of our numbers: store it where the agents will see it, then act.

    A compliance reply that cannot be queued undoes nothing else (the opt-out stays applied):
    why is logged and added to `notes`, which the worker keeps on the event."""
    notes = [] if notes is None else notes
    texted = number_texted(carrier, inbound.to_number)
    if texted is None:
        # Another carrier's number (or none): that carrier, not this one, delivers its texts.
        raise Unprocessable(f"No {carrier} number {inbound.to_number} is set up in Twoway.")
    existing = Message.objects.filter(
        carrier=carrier, carrier_message_id=inbound.carrier_message_id
    ).first()
    if existing:
        return existing
    from_number = sender_number(inbound.from_number, texted)
    route = inbound_route(texted, from_number)
    organization = route.organization
    contact, _ = contact_get_or_create_by_phone(
        organization=organization,
        number=from_number,
        created_from=CreatedFrom.INBOUND,
        source_number=route.inbox_number,
    )
    conversation = route.conversation
    if conversation is None and route.inbox_number is not None:
        conversation, _ = conversation_get_or_create(
            phone_number=route.inbox_number, contact=contact, contact_number=from_number
        )
    info = segment_info(inbound.body)
    mms = bool(inbound.media_urls)
    message = Message.objects.create(
        organization=organization,
        conversation=conversation,
        direction=Direction.INBOUND,
        body=inbound.body,
        encoding=MMS_ENCODING if mms else info.encoding,
        segments=MMS_SEGMENTS if mms else info.segments,
        status=Status.RECEIVED,
        from_number=from_number,
        to_number=texted.number,
        carrier=carrier,
        carrier_message_id=inbound.carrier_message_id,
    )
    if mms:
        media_expect(
            message=message,
            urls=inbound.media_urls,
            carrier=carrier,
            carrier_account_id=texted.carrier_account_id,
        )
    drip_steps_drop([(organization.pk, from_number)])
    keywords = keyword_set_of(organization.pk)
    # Compliance keywords win: a text one of them takes is no rule's, and gets no away message.
    answerable = conversation is not None and keywords.match(inbound.body) is None
    answerable = answerable and not looks_like_opt_out(inbound.body, keywords)
    rule = answering_rule_of(message, conversation) if answerable and conversation else None
    if conversation is not None:
        # Read before the keyword acts: START answers itself only from an opted-out contact.
        # A text a keyword rule answers needs no agent either.
        attention = not answers_itself(inbound.body, contact, organization, keywords)
        attention = attention and (rule is None or contact.is_opted_out)
        conversation_record_inbound(conversation=conversation, message=message, attention=attention)
        event_publish(
            message_created(message, contact=contact.name or from_number, muted=conversation.muted)
        )
    was_keyword = keywords_apply(message, contact, organization, texted, notes, keywords)
    if conversation is None and not was_keyword and not contact.is_opted_out:
        off_inbox_answer(message, organization, texted, route, notes)
    if answerable and conversation is not None:
        answering_reply(message, contact, organization, conversation, rule, notes)
    return message
