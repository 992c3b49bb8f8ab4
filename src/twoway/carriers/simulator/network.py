"""The simulated phone network: handsets that receive what Twoway sends and text back.

It plays the carrier's side: it accepts messages (once per idempotency key), reports delivery
a moment later, and turns a handset's reply into an inbound event exactly as a webhook would.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from twoway.carriers.base import CarrierStatus, InboundMessage, StatusUpdate, VerificationUpdate
from twoway.carriers.simulator.models import HandsetBehaviour, SimHandset, SimMessage

SLUG = "simulator"
_OUTCOME: dict[str, tuple[CarrierStatus, str]] = {
    HandsetBehaviour.DELIVER: ("delivered", ""),
    HandsetBehaviour.LANDLINE: ("undelivered", "30006"),
    HandsetBehaviour.UNREACHABLE: ("failed", "30003"),
}


def handset_get(number: str) -> SimHandset:
    handset, _ = SimHandset.objects.get_or_create(number=number)
    return handset


def network_accept(*, idempotency_key: str, from_number: str, to_number: str, body: str) -> str:
    """Take a message for a handset; the same key twice returns the first message's id."""
    if existing := SimMessage.objects.filter(idempotency_key=idempotency_key).first():
        return str(existing.sid)
    report_at = timezone.now() + dt.timedelta(seconds=settings.SIMULATOR_DELIVERY_DELAY)
    try:
        with transaction.atomic():
            message = SimMessage.objects.create(
                handset=handset_get(to_number),
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
    from twoway.messaging.inbound import carrier_event_record

    now = timezone.now()
    due = list(
        SimMessage.objects.select_related("handset")
        .filter(direction=SimMessage.MT, status="accepted", report_at__lte=now)
        .order_by("report_at")[:limit]
    )
    for message in due:
        status, code = _OUTCOME[HandsetBehaviour(message.handset.behaviour)]
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
def handset_send(*, handset_number: str, business_number: str, body: str) -> SimMessage:
    """The handset texts a business number: the network hands Twoway an inbound event."""
    from twoway.messaging.inbound import carrier_event_record

    message = SimMessage.objects.create(
        handset=handset_get(handset_number),
        direction=SimMessage.MO,
        business_number=business_number,
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
    from twoway.messaging.inbound import carrier_event_record

    return carrier_event_record(
        SLUG,
        VerificationUpdate(number=number, status=status, reason=reason),  # type: ignore[arg-type]
    )
