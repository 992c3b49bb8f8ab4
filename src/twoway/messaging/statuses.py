"""What carriers report about what we sent and about our numbers: a message's delivery status
and a number's verification."""

from __future__ import annotations

from django.utils import timezone

from twoway.carriers.base import StatusUpdate, VerificationUpdate
from twoway.carriers.errors import explain
from twoway.conversations.models import Direction, Message, Status, status_moves_forward
from twoway.messaging.errors import RetryLater, Unprocessable
from twoway.numbers.models import PhoneNumber
from twoway.numbers.verification import number_verification_set
from twoway.realtime.events import MessageStatus, event_publish


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
    if not status_moves_forward(message.status, new):
        return
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
        MessageStatus(
            organization_id=message.organization_id,
            conversation_id=message.conversation_id,
            message=str(message.uid),
            status=message.status,
        )
    )


def verification_update_apply(carrier: str, update: VerificationUpdate) -> None:
    number = PhoneNumber.objects.filter(number=update.number, carrier=carrier).first()
    if number is None:
        raise Unprocessable(f"No {carrier} number {update.number} is set up in Twoway.")
    number_verification_set(number=number, status=update.status, reason=update.reason)
