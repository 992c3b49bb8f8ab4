"""A client's text answered from the organization's canned responses: a keyword rule's answer
at any hour, else the away message while the organization is closed (once per conversation per
closed period). Both are ordinary texts of the conversation, checked as any automated text is
(opt-out, balance, sender); only the texts no compliance keyword took come here."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from twoway.accounts.models import Organization
from twoway.answering.models import AWAY_LABEL, RULE_LABEL_PREFIX, KeywordRule
from twoway.answering.selectors import answering_of, away_period_start, keyword_rule_for
from twoway.canned.merge_fields import merge_fields_fill_automated
from twoway.canned.models import CannedResponse
from twoway.contacts.models import Contact
from twoway.conversations.models import Category, Conversation, Direction, Message
from twoway.messaging.auto_replies import send_reply


def answering_rule_of(message: Message, conversation: Conversation) -> KeywordRule | None:
    return keyword_rule_for(message.organization_id, conversation.phone_number_id, message.body)


def answering_reply(
    message: Message,
    contact: Contact,
    organization: Organization,
    conversation: Conversation,
    rule: KeywordRule | None,
    notes: list[str],
    now: dt.datetime | None = None,
) -> None:
    """Send the rule's answer, or else the away message when it is due; a rule's answer
    replaces the away message, so a text never gets both."""
    if contact.is_opted_out:
        return
    if rule is not None:
        _send(
            message,
            contact,
            organization,
            conversation,
            rule.response,
            notes,
            label=f"{RULE_LABEL_PREFIX}{rule.keyword}",
        )
        return
    answering = answering_of(organization)
    away, since = away_period_start(answering, organization, now or timezone.now())
    if not away or answering.away_response is None:
        return
    sent = Message.objects.filter(
        conversation=conversation, direction=Direction.OUTBOUND, sent_by_label=AWAY_LABEL
    )
    if since is not None:
        sent = sent.filter(created_at__gte=since)
    if sent.exists():
        return  # this closed period's away message went already
    _send(
        message,
        contact,
        organization,
        conversation,
        answering.away_response,
        notes,
        label=AWAY_LABEL,
    )


def _send(
    message: Message,
    contact: Contact,
    organization: Organization,
    conversation: Conversation,
    response: CannedResponse,
    notes: list[str],
    *,
    label: str,
) -> None:
    body = merge_fields_fill_automated(
        body=response.body, contact=contact, organization=organization
    )
    send_reply(
        notes,
        label.lower(),
        phone_number=conversation.phone_number,
        organization=organization,
        to=message.from_number,
        body=body,
        category=Category.DIRECT,
        label=label,
        answers=False,  # sent alone: the client's text still waits for a person, or needed none
    )
