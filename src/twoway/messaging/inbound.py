"""What happens to a carrier's webhook: stored raw at once, processed by the worker after.

`carrier_event_record` is all a webhook request does besides verifying it, so it answers fast and
a retried webhook lands on the unique key instead of creating a second message. The worker runs
`carrier_events_process_pending`; each event is processed and marked done in one transaction, so
an event is processed exactly once whatever crashes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from twoway.accounts.models import OffReply, Organization
from twoway.carriers.base import (
    CarrierEventData,
    InboundMessage,
    StatusUpdate,
    VerificationUpdate,
)
from twoway.carriers.models import CarrierEvent, EventKind
from twoway.compliance.keywords import (
    KeywordAction,
    classify,
    looks_like_opt_out,
    normalize_keyword,
)
from twoway.compliance.models import ConsentEvent, ConsentEventKind
from twoway.contacts.models import CreatedFrom
from twoway.contacts.services import contact_get_or_create_by_phone, contact_set_opt_in
from twoway.conversations.models import Category, Conversation, Direction, Message, Status
from twoway.conversations.services import conversation_get_or_create, conversation_record_inbound
from twoway.core.phones import InvalidPhoneNumber, normalize_phone
from twoway.messaging.segments import segment_info
from twoway.messaging.senders import system_reply_origin
from twoway.numbers.activation import dedicated_number
from twoway.numbers.models import PhoneNumber
from twoway.numbers.verification import number_verification_set
from twoway.realtime.services import event_publish
from twoway.realtime.wakeup import wake_worker

log = logging.getLogger(__name__)

# A status report may arrive before the worker recorded the carrier's id for that send; it is
# tried again for a while before it is given up.
STATUS_RETRY_DELAY = dt.timedelta(seconds=2)
STATUS_MAX_ATTEMPTS = 30
# An event whose processing crashed (a bug, a database outage) is kept and tried again, ever
# more slowly: after a fix it is processed, and it stays visible in the admin meanwhile.
CRASH_RETRY_MAX_DELAY = dt.timedelta(minutes=10)

# How far a status may move: a late "sent" never undoes "delivered".
_STATUS_RANK = {
    Status.QUEUED: 0,
    Status.SENDING: 1,
    Status.SENT: 2,
    Status.DELIVERED: 3,
    Status.UNDELIVERED: 3,
    Status.FAILED: 3,
}


# A text no inbox shows gets the do-not-reply message at most this often per handset.
DO_NOT_REPLY_INTERVAL = dt.timedelta(hours=24)
DO_NOT_REPLY_LABEL = "do-not-reply"


class RetryLater(Exception):
    pass


class Unprocessable(Exception):
    """The event can never be processed (an unknown number): recorded and left."""


def carrier_event_record(carrier: str, event: CarrierEventData) -> bool:
    """Store a verified webhook event once. False when it was a duplicate."""
    if isinstance(event, InboundMessage):
        kind, key = EventKind.INBOUND, event.carrier_message_id
    elif isinstance(event, VerificationUpdate):
        kind = EventKind.VERIFICATION
        digest = hashlib.sha256(event.reason.encode()).hexdigest()[:16]
        key = f"{event.number}:{event.status}:{digest}"
    else:
        kind = EventKind.STATUS
        key = f"{event.carrier_message_id}:{event.status}:{event.error_code}"
    payload = dataclasses.asdict(event)
    payload["raw"] = dict(event.raw)
    try:
        with transaction.atomic():
            CarrierEvent.objects.create(carrier=carrier, kind=kind, dedupe_key=key, payload=payload)
    except IntegrityError:
        return False
    wake_worker()
    return True


def carrier_events_process_pending(limit: int = 100) -> int:
    """Process up to `limit` waiting events; returns how many were handled."""
    now = timezone.now()
    ids = list(
        CarrierEvent.objects.filter(processed_at__isnull=True)
        .exclude(retry_at__gt=now)
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )
    handled = 0
    for event_id in ids:
        handled += _process_one(event_id)
    return handled


def _process_one(event_id: int) -> int:
    with transaction.atomic():
        event = (
            CarrierEvent.objects.select_for_update(skip_locked=True)
            .filter(pk=event_id, processed_at__isnull=True)
            .first()
        )
        if event is None:
            return 0  # another worker has it, or had it
        event.attempts += 1
        try:
            with transaction.atomic():
                _dispatch(event)
        except RetryLater as exc:
            if event.attempts >= STATUS_MAX_ATTEMPTS:
                event.processed_at = timezone.now()
            event.retry_at = timezone.now() + STATUS_RETRY_DELAY
            event.error = str(exc)[:300]
        except Unprocessable as exc:
            log.warning("Carrier event %s left unprocessed: %s", event.pk, exc)
            event.processed_at = timezone.now()
            event.error = str(exc)[:300]
        except Exception as exc:
            # A bug: keep the event for a later try and an operator to look at.
            log.exception("Carrier event %s failed", event.pk)
            event.retry_at = timezone.now() + min(
                STATUS_RETRY_DELAY * event.attempts, CRASH_RETRY_MAX_DELAY
            )
            event.error = f"{type(exc).__name__}: {exc}"[:300]
        else:
            event.processed_at = timezone.now()
            event.error = ""
        event.save(update_fields=["attempts", "processed_at", "retry_at", "error"])
    return 1


def _dispatch(event: CarrierEvent) -> None:
    data: dict[str, Any] = dict(event.payload)
    if event.kind == EventKind.INBOUND:
        data["media_urls"] = tuple(data.get("media_urls") or ())
        inbound_message_receive(event.carrier, InboundMessage(**data))
    elif event.kind == EventKind.VERIFICATION:
        verification_update_apply(event.carrier, VerificationUpdate(**data))
    else:
        status_update_apply(event.carrier, StatusUpdate(**data))


@dataclass(frozen=True)
class InboundRoute:
    """Where a text to one of our numbers goes."""

    organization: Organization
    # The number whose conversation shows it; None when it reaches no inbox (two-way texting
    # off, or a reply to a marketing text).
    inbox_number: PhoneNumber | None
    conversation: Conversation | None = None  # the thread a system-number reply continues


def inbound_message_receive(carrier: str, inbound: InboundMessage) -> Message:
    """A handset texted one of our numbers: store it where the agents will see it, then act."""
    texted = (
        PhoneNumber.objects.select_related("organization").filter(number=inbound.to_number).first()
    )
    if texted is None:
        raise Unprocessable(f"No number {inbound.to_number} is set up in Twoway.")
    existing = Message.objects.filter(
        carrier=carrier, carrier_message_id=inbound.carrier_message_id
    ).first()
    if existing:
        return existing
    from_number = _sender_number(inbound.from_number, texted)
    route = _route(texted, from_number)
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
    message = Message.objects.create(
        organization=organization,
        conversation=conversation,
        direction=Direction.INBOUND,
        body=inbound.body,
        encoding=info.encoding,
        segments=info.segments,
        status=Status.RECEIVED,
        from_number=from_number,
        to_number=texted.number,
        carrier=carrier,
        carrier_message_id=inbound.carrier_message_id,
    )
    if conversation is not None:
        conversation_record_inbound(conversation=conversation, message=message)
        event_publish(
            organization_id=organization.pk,
            kind="message.created",
            conversation_id=conversation.pk,
            message=str(message.uid),
            direction="in",
            muted=conversation.muted,
            preview=message.body[:80],
            contact=contact.name or from_number,
        )
    was_keyword = _apply_keywords(message, contact, organization, texted)
    if conversation is None and not was_keyword and not contact.is_opted_out:
        _answer_off_inbox(message, organization, texted, route)
    return message


def _sender_number(raw: str, texted: PhoneNumber) -> str:
    country = texted.organization.country if texted.organization else "US"
    try:
        return normalize_phone(raw, country)
    except InvalidPhoneNumber:
        return raw  # a short code or alphanumeric sender, kept as sent


def _route(texted: PhoneNumber, from_number: str) -> InboundRoute:
    if texted.is_system:
        return _route_system_reply(texted, from_number)
    organization = texted.organization
    assert organization is not None
    if not organization.two_way_enabled or texted.is_held:
        return InboundRoute(organization, None)
    return InboundRoute(organization, texted)


def _route_system_reply(system: PhoneNumber, from_number: str) -> InboundRoute:
    """The system number is shared: a reply belongs to whoever texted that handset from it last.
    Replies to transactional texts reach that organization's inbox while its two-way texting is
    on; replies to marketing reach no inbox (seed 001)."""
    origin = system_reply_origin(system, from_number)
    if origin is None:
        raise Unprocessable(
            f"{from_number} texted the system number {system.number}, which has sent it nothing."
        )
    organization = origin.organization
    if origin.category == Category.MARKETING or not organization.two_way_enabled:
        return InboundRoute(organization, None)
    if origin.conversation is not None and not origin.conversation.phone_number.is_held:
        return InboundRoute(organization, origin.conversation.phone_number, origin.conversation)
    own = dedicated_number(organization)
    if own is None or own.is_held:
        return InboundRoute(organization, None)
    return InboundRoute(organization, own)


def _answer_off_inbox(
    message: Message, organization: Organization, texted: PhoneNumber, route: InboundRoute
) -> None:
    """A text no inbox shows gets the organization's do-not-reply message when it chose one,
    at most once a day per handset, so two auto-responders never text each other forever."""
    if texted.is_system and route.inbox_number is None and organization.two_way_enabled:
        return  # a reply to marketing: carriers and the seed expect silence, not an answer
    if organization.two_way_enabled or organization.off_reply != OffReply.DO_NOT_REPLY:
        return
    from twoway.messaging.services import message_send

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
    message_send(
        organization=organization,
        reply_from=texted,
        to=message.from_number,
        body=organization.render(organization.do_not_reply_text),
        category=Category.AUTO_REPLY,
        label=DO_NOT_REPLY_LABEL,
    )


def _apply_keywords(
    message: Message, contact: Any, organization: Organization, texted: PhoneNumber
) -> bool:
    """Act on STOP, START and HELP (and flag a worded opt-out); True for a keyword."""
    # Imported here: sending depends on inbound's neighbours, not the other way round.
    from twoway.messaging.services import message_send

    action = classify(message.body)
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
    elif looks_like_opt_out(message.body):
        ConsentEvent.objects.create(
            organization=organization,
            contact=contact,
            kind=ConsentEventKind.OPT_OUT_FLAGGED,
            source="keyword",
            text=message.body[:500],
            phone_number=message.from_number,
            message=message,
        )
    if action is not None:
        event_publish(
            organization_id=organization.pk,
            kind="contact.updated",
            conversation_id=message.conversation_id,
            opt_in_status=contact.opt_in_status,
        )
    if not reply:
        return action is not None
    conversation = message.conversation
    # The confirmation leaves from the number the contact texted, and joins their thread.
    message_send(
        phone_number=conversation.phone_number if conversation is not None else None,
        organization=organization,
        reply_from=texted,
        to=message.from_number,
        body=organization.render(reply),
        category=Category.AUTO_REPLY,
        label=f"keyword:{normalize_keyword(message.body)}",
    )
    return True


def verification_update_apply(carrier: str, update: VerificationUpdate) -> None:
    number = PhoneNumber.objects.filter(number=update.number, carrier=carrier).first()
    if number is None:
        raise Unprocessable(f"No {carrier} number {update.number} is set up in Twoway.")
    number_verification_set(number=number, status=update.status, reason=update.reason)


def status_update_apply(carrier: str, update: StatusUpdate) -> None:
    message = (
        Message.objects.select_for_update()
        .filter(
            carrier=carrier,
            carrier_message_id=update.carrier_message_id,
            direction=Direction.OUTBOUND,
        )
        .first()
    )
    if message is None:
        raise RetryLater(f"No sent message has carrier id {update.carrier_message_id} yet.")
    new = Status(update.status)
    if _STATUS_RANK.get(new, 0) <= _STATUS_RANK.get(Status(message.status), 0):
        return
    from twoway.carriers.errors import explain

    message.status = new
    fields = ["status"]
    if new == Status.DELIVERED:
        message.delivered_at = timezone.now()
        fields.append("delivered_at")
    if update.error_code:
        message.error_code = update.error_code
        message.error_message = explain(update.error_code)
        fields += ["error_code", "error_message"]
    message.save(update_fields=fields)
    event_publish(
        organization_id=message.organization_id,
        kind="message.status",
        conversation_id=message.conversation_id,
        message=str(message.uid),
        status=message.status,
    )
