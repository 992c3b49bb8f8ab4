"""An event that came through a carrier account's webhook acts on that account's numbers only.

Whoever holds an account's credentials can sign what comes to its webhook, and an organization's
administrators enter their own: a text, delivery report or review received there that names a
number of another account (another organization's, or the operator's) is refused, never applied
to that number. Events from the operator's webhook are signed with the operator's credentials
and act on any number of their carrier, as before accounts existed.
"""

from __future__ import annotations

from twoway.carrier_events.models import CarrierEvent, EventKind
from twoway.conversations.models import Direction, Message
from twoway.messaging.errors import Unprocessable
from twoway.messaging.routing import number_texted
from twoway.numbers.models import PhoneNumber


def event_may_use(event: CarrierEvent, number: PhoneNumber | None) -> bool:
    """Whether `event` may act on `number` (None: a number Twoway does not have)."""
    if event.carrier_account_id is None:
        return True
    return number is not None and number.carrier_account_id == event.carrier_account_id


def event_account_check(event: CarrierEvent) -> None:
    """Raise Unprocessable when an account's event names a number of another account. A report
    on a message not recorded yet passes: applying it waits for the message, then checks."""
    if event.carrier_account_id is None:
        return
    payload = event.payload if isinstance(event.payload, dict) else {}
    if event.kind == EventKind.INBOUND:
        number = number_texted(event.carrier, str(payload.get("to_number")))
    elif event.kind == EventKind.VERIFICATION:
        number = PhoneNumber.objects.filter(
            number=str(payload.get("number")), carrier=event.carrier
        ).first()
    else:
        sender = (
            Message.objects.filter(
                carrier=event.carrier,
                carrier_message_id=str(payload.get("carrier_message_id")),
                direction=Direction.OUTBOUND,
            )
            .values_list("from_number", flat=True)
            .first()
        )
        if sender is None:
            return
        number = PhoneNumber.all_objects.filter(number=sender, carrier=event.carrier).first()
    if not event_may_use(event, number):
        raise Unprocessable(
            f"Came through carrier account {event.carrier_account_id}'s webhook but names a "
            "number that account does not hold."
        )
