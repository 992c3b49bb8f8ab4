"""The one way any outbound text enters Twoway: validate → compliance → persist → queue.

People, the API and automation all call `message_send`; the dispatcher takes it from there.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from twoway.accounts.access import initiate_refusal, sms_permission_missing
from twoway.accounts.models import RENDERED_MAX_LENGTH, Membership, Organization
from twoway.billing.services import balance_charge, balance_lock
from twoway.contacts.models import ConsentStatus, Contact, CreatedFrom
from twoway.contacts.services import contact_get_or_create_by_phone, contact_mark_consent_sent
from twoway.conversations.models import (
    AUTOMATED_CATEGORIES,
    Category,
    Conversation,
    Direction,
    Message,
    Priority,
    Status,
)
from twoway.conversations.services import (
    conversation_get_or_create,
    conversation_record_outbound,
    message_created,
)
from twoway.core.errors import InvalidInput, PermissionDenied
from twoway.core.phones import (
    InvalidPhoneNumber,
    country_of,
    format_for_display,
    is_premium_rate,
    no_sms_kind,
    normalize_phone,
)
from twoway.core.segments import segment_info
from twoway.core.text import NUL_MESSAGE, emoji_from_shortcodes, has_nul, is_blank
from twoway.media.rules import MMS_ENCODING, MMS_SEGMENTS
from twoway.media.services import CheckedMedia, media_attach
from twoway.messaging.send_times import schedule_time_check
from twoway.messaging.senders import SenderPlan, sender_plan
from twoway.numbers.models import PhoneNumber
from twoway.realtime.events import event_publish
from twoway.realtime.wakeup import wake_worker


class OptedOutError(PermissionDenied):
    """The contact opted out; a person may still send after confirming, automation never."""

    code = "opted_out"


_PRIORITY = {
    Category.DIRECT: Priority.CONVERSATION,
    Category.AUTO_REPLY: Priority.CONVERSATION,
    Category.CONSENT: Priority.CONVERSATION,
    Category.TRANSACTIONAL: Priority.AUTOMATED,
    Category.MARKETING: Priority.BULK,
    Category.DRIP: Priority.BULK,
    Category.BLAST: Priority.BULK,
}


def priority_of(category: str) -> int:
    """The dispatcher's order: conversations first, then automated texts, then bulk."""
    return _PRIORITY.get(Category(category), Priority.AUTOMATED)


def validate_body(organization: Organization, body: str, category: str = Category.DIRECT) -> str:
    """The text as it will be sent (shortcodes made emoji, ends stripped), or why it cannot be."""
    text = emoji_from_shortcodes(body.strip())
    if is_blank(text):
        # Spaces or invisible marks only (zero-width, direction): nothing to read, still billed.
        raise InvalidInput("Type a message first.", code="empty_body")
    if has_nul(text):
        raise InvalidInput(NUL_MESSAGE, code="null_character")
    # Compliance replies (a STOP's confirmation, HELP's answer) must go whatever length the
    # organization allows its agents; only what carriers accept at all bounds them.
    limit = organization.max_message_length
    if category in (Category.AUTO_REPLY, Category.CONSENT):
        limit = RENDERED_MAX_LENGTH
    if len(text) > limit:
        raise InvalidInput(
            f"The message is {len(text)} characters long; this organization allows at most "
            f"{limit}.",
            code="too_long",
        )
    return text


@transaction.atomic
def message_send(
    *,
    phone_number: PhoneNumber | None = None,
    to: str,
    body: str,
    category: str = Category.DIRECT,
    organization: Organization | None = None,
    membership: Membership | None = None,
    label: str = "",
    confirm_opted_out: bool = False,
    created_from: str = CreatedFrom.MANUAL,
    reply_from: PhoneNumber | None = None,
    retry_of: int | None = None,
    media: Sequence[CheckedMedia] = (),
    send_at: dt.datetime | None = None,
    answers: bool = True,
) -> Message:
    """Store an outbound text and queue it (or schedule it for `send_at`); raises a TwowayError
    a person can read otherwise.

    `phone_number` is the organization's number whose conversation the text belongs to; the
    category decides which number it really leaves from (`senders.sender_plan`). Transactional
    and marketing texts may leave it out and name the `organization` instead.
    `membership` is the person sending (None for the API and automation, which are checked by
    their callers); `confirm_opted_out` is the person's explicit "send anyway" to an opted-out
    contact, which automation can never give. `reply_from` is for compliance replies only: they
    leave from the number the contact texted, whatever it is. `retry_of` is the failed text
    this one sends again. `media` (checked by `media.services.media_check`) makes it an MMS,
    which may have no text. A scheduled text is checked now as any text is, and again at its
    time (`messaging.scheduling`); a consent message it needs goes at once. `answers` False
    is a direct text Twoway sends alone (an away message): it leaves the conversation where
    the client's text put it, as a compliance reply does.
    """
    if send_at is not None:
        schedule_time_check(send_at)
    if organization is None:
        if phone_number is None or phone_number.organization is None:
            raise InvalidInput("Pick one of your numbers to send from.", code="sender_required")
        organization = phone_number.organization
    text = "" if media and is_blank(body) else validate_body(organization, body, category)
    try:
        to_number = normalize_phone(to, organization.country)
    except InvalidPhoneNumber as exc:
        raise InvalidInput(str(exc), code="invalid_to") from exc
    if category != Category.AUTO_REPLY:
        # A compliance reply answers a handset that texted in, wherever it is: a STOP from
        # abroad is confirmed all the same.
        check_recipient(organization, to_number, own=is_own_number(organization, to_number))
    if reply_from is not None:
        assert category == Category.AUTO_REPLY, "only compliance replies pick their sender"
        plan = SenderPlan(sender=reply_from, conversation_number=phone_number)
    else:
        plan = sender_plan(organization=organization, phone_number=phone_number, category=category)
    if not plan.sender.sms_enabled:
        raise InvalidInput(f"{plan.sender.display} cannot send SMS.", code="sender_disabled")
    if membership is not None and not membership.can_reply:
        raise sms_permission_missing()

    if category != Category.AUTO_REPLY:
        balance_lock(organization.pk)
    contact, _ = contact_get_or_create_by_phone(
        organization=organization, number=to_number, created_from=created_from
    )
    conversation = None
    if plan.conversation_number is not None:
        conversation = Conversation.objects.filter(
            phone_number=plan.conversation_number, contact_number=to_number
        ).first()
    if conversation is None and membership is not None:
        refusal = initiate_refusal(membership)
        if refusal is not None:
            raise refusal
    check_opt_out(contact, category, confirm_opted_out, to_number)
    if send_at is not None and contact.is_opted_out:
        # Promotion fails a text whose contact is opted out at its time: a confirmation given
        # now would not count then.
        raise OptedOutError(
            f"{contact.name or to_number} has opted out of texts; a text to them can only be "
            "sent now, after confirming, not scheduled."
        )
    if conversation is None and plan.conversation_number is not None:
        conversation, _ = conversation_get_or_create(
            phone_number=plan.conversation_number, contact=contact, contact_number=to_number
        )
    if needs_consent_message(organization, contact, category):
        consent = _queue(
            organization=organization,
            conversation=conversation,
            sender=plan.sender,
            to_number=to_number,
            text=organization.render(organization.consent_message),
            category=Category.CONSENT,
            membership=None,
            label="consent message",
            contact=contact,
        )
        contact_mark_consent_sent(
            contact=contact, message_id=consent.pk, body=consent.body, to_number=consent.to_number
        )
    return _queue(
        organization=organization,
        conversation=conversation,
        sender=plan.sender,
        to_number=to_number,
        text=text,
        category=category,
        membership=membership,
        label=label,
        contact=contact,
        retry_of=retry_of,
        media=media,
        send_at=send_at,
        answers=answers,
    )


def is_own_number(organization: Organization, to_number: str) -> bool:
    """The number is one of the organization's own, or the shared system number."""
    return PhoneNumber.objects.filter(
        Q(organization=organization) | Q(is_system=True), number=to_number
    ).exists()


def check_recipient(organization: Organization, to_number: str, *, own: bool) -> None:
    """Refuse a number Twoway must not text: its own numbers (`own`, from `is_own_number`),
    lines that cannot take a text or that charge for one, and countries the organization does
    not send to."""

    # The number as a person reads it, formatted only for a refusal: most texts pass.
    def shown() -> str:
        return format_for_display(to_number)

    if own:
        raise InvalidInput(
            f"{shown()} is one of your own numbers (or the system number); text a contact's "
            "number instead.",
            code="own_number",
        )
    if is_premium_rate(to_number):
        raise InvalidInput(
            f"{shown()} is a premium-rate number; texts to it are charged to the sender.",
            code="premium_rate",
        )
    if kind := no_sms_kind(to_number):
        raise InvalidInput(f"{shown()} is {kind}, which cannot receive texts.", code="invalid_to")
    country = country_of(to_number)
    if country not in organization.allowed_country_codes:
        allowed = ", ".join(sorted(organization.allowed_country_codes))
        raise InvalidInput(
            f"{shown()} is {f'a {country} number' if country else 'of no known country'}; "
            f"this organization texts only numbers of {allowed} (Settings, Organization).",
            code="country_not_allowed",
        )


def needs_consent_message(organization: Organization, contact: Contact, category: str) -> bool:
    """The organization's consent message goes first to a contact who has not had it; it is
    queued before the text it precedes, so the dispatcher sends it first (same priority, older)."""
    return (
        organization.consent_required
        and contact.consent_status == ConsentStatus.NOT_SENT
        and category not in (Category.AUTO_REPLY, Category.CONSENT)
    )


def check_opt_out(contact: Contact, category: str, confirmed: bool, to_number: str) -> None:
    """Opted-out contacts get compliance replies, and a person's text only once confirmed."""
    if not contact.is_opted_out or category == Category.AUTO_REPLY:
        return
    who = contact.name or to_number
    if category in AUTOMATED_CATEGORIES:
        raise OptedOutError(
            f"{who} has opted out of texts; automated messages are not sent to them."
        )
    if not confirmed:
        raise OptedOutError(
            f"{who} has opted out of texts. Automated messages are never sent to them; "
            "confirm to send this one anyway."
        )


def _queue(
    *,
    organization: Organization,
    conversation: Conversation | None,
    sender: PhoneNumber,
    to_number: str,
    text: str,
    category: str,
    membership: Membership | None,
    label: str,
    contact: Contact,
    retry_of: int | None = None,
    media: Sequence[CheckedMedia] = (),
    send_at: dt.datetime | None = None,
    answers: bool = True,
) -> Message:
    info = segment_info(text)
    now = timezone.now()
    message = Message.objects.create(
        organization=organization,
        conversation=conversation,
        direction=Direction.OUTBOUND,
        category=category,
        body=text,
        encoding=MMS_ENCODING if media else info.encoding,
        segments=MMS_SEGMENTS if media else info.segments,
        # A scheduled text has no next attempt until promotion queues it: no claim sees it.
        status=Status.QUEUED if send_at is None else Status.SCHEDULED,
        from_number=sender.number,
        to_number=to_number,
        carrier=sender.carrier,
        sent_by_id=membership.user_id if membership else None,
        sent_by_label=label,
        priority=priority_of(category),
        next_attempt_at=now if send_at is None else None,
        send_at=send_at,
        retry_of_id=retry_of,
    )
    balance_charge(message=message)
    if media:  # after the charge: a refused one stores no files
        media_attach(message=message, media=media)
    if conversation is not None:
        conversation_record_outbound(
            conversation=conversation,
            message=message,
            answers=answers and category == Category.DIRECT,
        )
    event_publish(
        message_created(
            message,
            contact=contact.name or to_number,
            muted=conversation.muted if conversation is not None else False,
        )
    )
    wake_worker()
    return message
