"""The simulated phone network: handsets that receive what Twoway sends and text back.

It plays the carrier's side: it accepts messages (once per idempotency key), reports delivery
a moment later, and turns a handset's reply into an inbound event exactly as a webhook would.

Every organization of the installation shares it. A handset is claimed by the first
organization to text it or to play it (play.py says who may play one); its behaviour
(landline, unreachable) is that organization's test setting, so it shapes only that
organization's texts: another organization's texts to the phone are delivered as to any phone.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from twoway.carriers.base import CarrierStatus, InboundMessage, StatusUpdate, VerificationUpdate
from twoway.simulator.models import HandsetBehaviour, SimHandset, SimMessage

SLUG = "simulator"
_OUTCOME: dict[str, tuple[CarrierStatus, str]] = {
    HandsetBehaviour.DELIVER: ("delivered", ""),
    HandsetBehaviour.LANDLINE: ("undelivered", "30006"),
    HandsetBehaviour.UNREACHABLE: ("failed", "30003"),
}


def handset_get(number: str) -> SimHandset:
    handset, _ = SimHandset.objects.get_or_create(number=number)
    return handset


def handset_lock(number: str) -> SimHandset:
    """The handset, its row locked until the transaction ends: claiming it and the traffic
    that decides who may play it are then seen and written one at a time."""
    handset, _ = SimHandset.objects.select_for_update().get_or_create(number=number)
    return handset


def _senders(keys_and_numbers: list[tuple[str | None, str]]) -> list[int | None]:
    """The organization that sent each (idempotency key, business number) text: Twoway's
    message with that id (the key is our message id), else the business number's owner."""
    from twoway.conversations.models import Message
    from twoway.numbers.models import PhoneNumber

    uids = {}
    for key, _ in keys_and_numbers:
        try:
            uids[key] = uuid.UUID(key or "")
        except ValueError:
            continue
    by_uid = dict(
        Message.objects.filter(uid__in=uids.values()).values_list("uid", "organization_id")
    )
    numbers = {n for key, n in keys_and_numbers if not (key in uids and uids[key] in by_uid)}
    by_number = (
        dict(
            PhoneNumber.objects.filter(number__in=numbers, is_system=False).values_list(
                "number", "organization_id"
            )
        )
        if numbers
        else {}
    )
    return [
        by_uid.get(uids[key]) if key in uids and uids[key] in by_uid else by_number.get(number)
        for key, number in keys_and_numbers
    ]


def network_accept(*, idempotency_key: str, from_number: str, to_number: str, body: str) -> str:
    """Take a message for a handset; the same key twice returns the first message's id."""
    if existing := SimMessage.objects.filter(idempotency_key=idempotency_key).first():
        return str(existing.sid)
    report_at = timezone.now() + dt.timedelta(seconds=settings.SIMULATOR_DELIVERY_DELAY)
    try:
        with transaction.atomic():
            handset = handset_lock(to_number)
            if handset.claimed_by_id is None:
                [sender] = _senders([(idempotency_key, from_number)])
                if sender is not None:
                    SimHandset.objects.filter(pk=handset.pk).update(claimed_by_id=sender)
            message = SimMessage.objects.create(
                handset=handset,
                direction=SimMessage.MT,
                business_number=from_number,
                body=body,
                idempotency_key=idempotency_key,
                report_at=report_at,
            )
    except IntegrityError:
        return str(SimMessage.objects.get(idempotency_key=idempotency_key).sid)
    return str(message.sid)


def network_report_due(limit: int = 200) -> int:
    """Deliver (or fail) accepted messages whose time has come and report it like a carrier."""
    from twoway.carrier_events.store import carrier_event_record

    now = timezone.now()
    due = list(
        SimMessage.objects.select_related("handset")
        .filter(direction=SimMessage.MT, status="accepted", report_at__lte=now)
        .order_by("report_at")[:limit]
    )
    # A behaviour is its claiming organization's setting: look up who sent the few texts to
    # phones set to fail that some organization claimed.
    shaped = [
        m
        for m in due
        if m.handset.behaviour != HandsetBehaviour.DELIVER and m.handset.claimed_by_id is not None
    ]
    senders = dict(
        zip(
            (m.pk for m in shaped),
            _senders([(m.idempotency_key, m.business_number) for m in shaped]),
            strict=True,
        )
    )
    for message in due:
        behaviour = HandsetBehaviour(message.handset.behaviour)
        if message.pk in senders and senders[message.pk] != message.handset.claimed_by_id:
            behaviour = HandsetBehaviour.DELIVER
        status, code = _OUTCOME[behaviour]
        with transaction.atomic():
            updated = SimMessage.objects.filter(pk=message.pk, status="accepted").update(
                status=status, error_code=code
            )
            if updated:
                carrier_event_record(
                    SLUG,
                    StatusUpdate(
                        carrier_message_id=str(message.sid), status=status, error_code=code
                    ),  # type: ignore[arg-type]
                )
    return len(due)


def network_next_report_in() -> float | None:
    upcoming = (
        SimMessage.objects.filter(direction=SimMessage.MT, status="accepted")
        .order_by("report_at")
        .values_list("report_at", flat=True)
        .first()
    )
    if upcoming is None:
        return None
    return max((upcoming - timezone.now()).total_seconds(), 0.0)


@transaction.atomic
def handset_send(
    *, handset_number: str, business_number: str, body: str, played_by_id: int | None = None
) -> SimMessage:
    """The handset texts a business number: the network hands Twoway an inbound event.
    `played_by_id`: the organization whose member played the handset, if one did."""
    from twoway.carrier_events.store import carrier_event_record

    message = SimMessage.objects.create(
        handset=handset_get(handset_number),
        direction=SimMessage.MO,
        business_number=business_number,
        played_by_id=played_by_id,
        body=body,
        status="delivered",
    )
    carrier_event_record(
        SLUG,
        InboundMessage(
            carrier_message_id=str(message.sid),
            from_number=handset_number,
            to_number=business_number,
            body=body,
        ),
    )
    return message


def network_verification_report(*, number: str, status: str, reason: str = "") -> bool:
    """The simulated carriers finished a step of reviewing `number`: they report it like a
    carrier's verification callback, processed by the worker."""
    from twoway.carrier_events.store import carrier_event_record

    return carrier_event_record(
        SLUG,
        VerificationUpdate(number=number, status=status, reason=reason),  # type: ignore[arg-type]
    )
