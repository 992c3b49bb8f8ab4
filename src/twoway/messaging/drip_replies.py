"""A contact who answers stops their drips: any text from them deletes the drip steps still
waiting to be sent to their number (the help centre: "drip messages will be sent until a reply
has been received"). Both inbound paths (`inbound.py`, `inbound_batch.py`) call this one
function, so a reply stops a drip whichever path received it."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models import Q

from twoway.billing.services import balance_refund
from twoway.conversations.models import Category, Message, Status


@transaction.atomic
def drip_steps_drop(senders: Iterable[tuple[int, str]]) -> int:
    """Delete the unsent drip steps to these (organization id, number) pairs, their reserved
    segments given back; how many were deleted. Runs in the caller's transaction."""
    pairs = set(senders)
    if not pairs:
        return 0
    by_organization: dict[int, set[str]] = {}
    for organization_id, number in pairs:
        by_organization.setdefault(organization_id, set()).add(number)
    wanted = Q()
    for organization_id, numbers in by_organization.items():
        wanted |= Q(organization_id=organization_id, to_number__in=numbers)
    # Locked: a promotion running now either queued a step first (it is sent: it was due before
    # the reply) or finds it gone.
    waiting = list(
        Message.objects.select_for_update()
        .filter(wanted, status=Status.SCHEDULED, category=Category.DRIP)
        .order_by("pk")
    )
    for message in waiting:
        balance_refund(message=message)
    if waiting:
        Message.objects.filter(pk__in=[m.pk for m in waiting], status=Status.SCHEDULED).delete()
    return len(waiting)
