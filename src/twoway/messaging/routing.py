"""Where a text to one of our numbers goes: which organization, which inbox, which thread."""

from __future__ import annotations

from dataclasses import dataclass

from twoway.accounts.models import Organization
from twoway.conversations.models import Category, Conversation
from twoway.core.phones import InvalidPhoneNumber, normalize_phone
from twoway.messaging.errors import Unprocessable
from twoway.messaging.senders import system_reply_origin
from twoway.numbers.activation import dedicated_number
from twoway.numbers.models import PhoneNumber


@dataclass(frozen=True)
class InboundRoute:
    """Where a text to one of our numbers goes."""

    organization: Organization
    # The number whose conversation shows it; None when it reaches no inbox (two-way texting
    # off, or a reply to a marketing text).
    inbox_number: PhoneNumber | None
    conversation: Conversation | None = None  # the thread a system-number reply continues


def numbers_texted(wanted: set[tuple[str, str]]) -> dict[tuple[str, str], PhoneNumber]:
    """The numbers texts went to, by (carrier, number): a text reaches a number only through
    the carrier that has it, whichever carrier's webhook names it."""
    found: dict[tuple[str, str], PhoneNumber] = {}
    numbers = PhoneNumber.objects.select_related("organization").filter(
        number__in={number for _, number in wanted}, carrier__in={carrier for carrier, _ in wanted}
    )
    for number in numbers.order_by("pk"):
        # The first, as `.first()` finds it.
        found.setdefault((number.carrier, number.number), number)
    return found


def number_texted(carrier: str, number: str) -> PhoneNumber | None:
    return (
        PhoneNumber.objects.select_related("organization")
        .filter(number=number, carrier=carrier)
        .first()
    )


def sender_number(raw: str, texted: PhoneNumber) -> str:
    country = texted.organization.country if texted.organization else "US"
    try:
        return normalize_phone(raw, country)
    except InvalidPhoneNumber:
        return raw  # a short code or alphanumeric sender, kept as sent


def inbound_route(texted: PhoneNumber, from_number: str) -> InboundRoute:
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
    on; replies to marketing reach no inbox."""
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
