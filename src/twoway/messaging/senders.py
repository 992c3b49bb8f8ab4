"""Which number a text leaves from, and which conversation it belongs to, by its category.

- Direct texts (and a person's drips and blasts) go 1:1 from the organization's number, in the
  conversation with that number; they need two-way texting on.
- Transactional texts (confirmations, reminders) belong to the conversation on the
  organization's own number when it has one, but leave from the shared system number until that
  number is trusted (verified, or needing no verification). Replies find their way back through
  the last send to the handset (`system_reply_origin`).
- Marketing texts leave from a non-dedicated number (the system number unless the caller names
  another) and open no conversation: replies to them reach no inbox.
"""

from __future__ import annotations

from dataclasses import dataclass

from twoway.accounts.models import Organization
from twoway.conversations.models import Category, Direction, Message
from twoway.core.errors import InvalidInput
from twoway.numbers.activation import dedicated_number
from twoway.numbers.models import PhoneNumber


@dataclass(frozen=True)
class SenderPlan:
    sender: PhoneNumber  # the number the carrier sends from
    conversation_number: PhoneNumber | None  # whose conversation stores it; None: none


class TwoWayOff(InvalidInput):
    code = "two_way_off"


def system_number() -> PhoneNumber | None:
    """The shared system number, when the operator set one up."""
    return PhoneNumber.objects.filter(is_system=True, sms_enabled=True).order_by("pk").first()


def sender_plan(
    *, organization: Organization, phone_number: PhoneNumber | None, category: str
) -> SenderPlan:
    if category == Category.TRANSACTIONAL:
        return _transactional(organization, phone_number)
    if category == Category.MARKETING:
        return _marketing(phone_number)
    if phone_number is None or phone_number.is_system:
        raise InvalidInput("Pick one of your numbers to send from.", code="sender_required")
    if category == Category.DIRECT and not (
        organization.two_way_enabled and not phone_number.is_held
    ):
        raise TwoWayOff(
            "Two-way texting is off for this organization, so texts cannot be sent from "
            f"{phone_number.display} and replies are not received. An administrator can turn it "
            "on in Settings > Two-way texting."
        )
    return SenderPlan(sender=phone_number, conversation_number=phone_number)


def _transactional(organization: Organization, phone_number: PhoneNumber | None) -> SenderPlan:
    own = phone_number
    if own is None and organization.two_way_enabled:
        own = dedicated_number(organization)
    if own is not None and own.is_held:
        own = None  # two-way is off: no inbox to hold the thread
    if own is not None and own.is_trusted:
        return SenderPlan(sender=own, conversation_number=own)
    shared = system_number()
    if shared is not None:
        return SenderPlan(sender=shared, conversation_number=own)
    if own is not None:
        # No system number set up: an unverified own number still beats not sending a
        # booking confirmation at all.
        return SenderPlan(sender=own, conversation_number=own)
    raise InvalidInput(
        "There is no number to send this from: turn on two-way texting, or ask the operator to "
        "set up a system number.",
        code="no_sender",
    )


def _marketing(phone_number: PhoneNumber | None) -> SenderPlan:
    if phone_number is not None:
        if phone_number.is_dedicated:
            raise InvalidInput(
                f"Marketing texts do not go from your dedicated number {phone_number.display}; "
                "leave the sender out to use the system number.",
                code="dedicated_marketing",
            )
        return SenderPlan(sender=phone_number, conversation_number=None)
    shared = system_number()
    if shared is None:
        raise InvalidInput(
            "Marketing texts go from the system number, and none is set up. Ask the operator "
            "to add one.",
            code="no_sender",
        )
    return SenderPlan(sender=shared, conversation_number=None)


def system_reply_origin(system: PhoneNumber, handset: str) -> Message | None:
    """The last text sent to `handset` from the shared `system` number: a reply to the system
    number answers that text, so it belongs to that text's organization."""
    return (
        Message.objects.filter(
            direction=Direction.OUTBOUND, from_number=system.number, to_number=handset
        )
        .select_related("organization", "conversation")
        .order_by("-created_at", "-pk")
        .first()
    )
