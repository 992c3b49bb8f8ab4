"""Two-way texting on and off.

Switching it on gives the organization a dedicated number at once, with the business's area
code when the carrier has one there. Switching it off keeps that number for the organization
for `TWO_WAY_HOLD_DAYS`: switched on again within that window, the same number comes back;
after it, `held_numbers_release` (a periodic job: numbers/tasks.py) lets the number go.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from twoway.accounts.access import require_admin
from twoway.accounts.models import Membership, OffReply, Organization
from twoway.carriers.base import AvailableNumber
from twoway.core.errors import InvalidInput, PermissionDenied
from twoway.core.phones import InvalidPhoneNumber, normalize_phone
from twoway.numbers.models import PhoneNumber, Verification
from twoway.numbers.services import CarrierRefused, number_add, number_search

log = logging.getLogger(__name__)

# Carrier rules for business texting cover these countries only.
TWO_WAY_COUNTRIES = {"US": "the United States", "CA": "Canada"}


class TwoWayUnavailable(InvalidInput):
    code = "two_way_unavailable"


def dedicated_number(organization: Organization) -> PhoneNumber | None:
    """The organization's two-way number, held or in use; None once released or never had."""
    return (
        PhoneNumber.objects.filter(organization=organization, is_dedicated=True)
        .order_by("pk")
        .first()
    )


def business_area_code(organization: Organization) -> str | None:
    """The area code of the business's own phone, for a dedicated number that looks local."""
    if not organization.business_phone:
        return None
    try:
        e164 = normalize_phone(organization.business_phone, organization.country)
    except InvalidPhoneNumber:
        return None
    if not e164.startswith("+1") or len(e164) != 12:
        return None  # area codes as we offer them are North American
    return e164[2:5]


def two_way_activate(*, actor: Membership, business_phone: str | None = None) -> PhoneNumber:
    """Switch two-way texting on for the actor's organization and return its dedicated number.
    `business_phone`, the business's own phone, is stored with it (and picks the area code of a
    number bought now).

    Buying a number calls the carrier, which must not hold the database, so it happens first;
    the rest is one transaction: when the purchase fails nothing is stored. Calling it again
    while on changes nothing but the business phone.
    """
    _require_active_admin(actor)
    organization = Organization.objects.get(pk=actor.organization_id)
    if business_phone is not None:
        organization.business_phone = business_phone
    country = organization.country.upper()
    if country not in TWO_WAY_COUNTRIES:
        raise TwoWayUnavailable(
            "Two-way texting is available only to businesses in the United States and Canada, "
            "because of carrier rules for business texting. This organization's country is "
            f"{country}."
        )
    number = dedicated_number(organization)
    if number is None:
        number = _buy_dedicated_number(actor, organization)
    with transaction.atomic():
        PhoneNumber.objects.filter(pk=number.pk).update(held_until=None)
        Organization.objects.filter(pk=organization.pk).update(
            two_way_enabled=True, business_phone=organization.business_phone
        )
    number.refresh_from_db()
    actor.organization.refresh_from_db()
    log.info("Two-way texting on for %s with %s", organization, number.number)
    return number


def _buy_dedicated_number(actor: Membership, organization: Organization) -> PhoneNumber:
    carrier = settings.TWOWAY_DEFAULT_CARRIER
    offer = _first_offer(organization, carrier, business_area_code(organization))
    number = number_add(
        actor=actor,
        organization=organization,
        carrier=carrier,
        number=offer.number,
        label="Two-way",
        number_type=offer.number_type,
    )
    # The carriers register the business's details with its new number before they trust
    # its texts ("verification"); until then texts may be filtered.
    PhoneNumber.objects.filter(pk=number.pk).update(
        is_dedicated=True,
        verification_status=Verification.PENDING,
        verification_updated_at=timezone.now(),
    )
    number.refresh_from_db()
    return number


def _first_offer(
    organization: Organization, carrier: str, area_code: str | None
) -> AvailableNumber:
    """A number in the business's area code when the carrier has one, else anywhere in its
    country."""
    if area_code:
        try:
            offers = number_search(
                organization=organization, carrier=carrier, area_code=area_code, limit=1
            )
        except CarrierRefused:
            offers = []  # no numbers in that area: any local number will do
        if offers:
            return offers[0]
    offers = number_search(organization=organization, carrier=carrier, limit=1)
    if not offers:
        raise CarrierRefused(
            "The carrier has no numbers available right now, so two-way texting could not be "
            "switched on. Try again later."
        )
    return offers[0]


def two_way_deactivate(
    *, actor: Membership, off_reply: str, do_not_reply_text: str | None = None
) -> PhoneNumber | None:
    """Switch two-way texting off; texts to the organization then get `off_reply` (with
    `do_not_reply_text`, when given, as the do-not-reply message). The dedicated number is held
    for the organization; returns it (None if it never had one)."""
    _require_active_admin(actor)
    if off_reply not in OffReply.values:
        raise InvalidInput(
            "Pick what texts to your number get instead: the do-not-reply auto message or no "
            "auto reply.",
            code="invalid_off_reply",
        )
    hold_until = timezone.now() + dt.timedelta(days=settings.TWO_WAY_HOLD_DAYS)
    with transaction.atomic():
        changes: dict[str, object] = {"two_way_enabled": False, "off_reply": off_reply}
        if do_not_reply_text is not None:
            changes["do_not_reply_text"] = do_not_reply_text.strip()
        Organization.objects.filter(pk=actor.organization_id).update(**changes)
        number = dedicated_number(actor.organization)
        if number is not None and number.held_until is None:
            PhoneNumber.objects.filter(pk=number.pk).update(held_until=hold_until)
    actor.organization.refresh_from_db()
    if number is not None:
        number.refresh_from_db()
    return number


def held_numbers_release(now: dt.datetime | None = None) -> list[PhoneNumber]:
    """Let go of dedicated numbers whose hold ran out. Their rows stay, released, for the
    history of their conversations; reactivating later buys a new number."""
    now = now or timezone.now()
    released = []
    due = PhoneNumber.objects.filter(held_until__lte=now).order_by("pk")
    for number in due:
        with transaction.atomic():
            # Conditional: a reactivation at this very moment wins over the release.
            taken = PhoneNumber.objects.filter(
                pk=number.pk, held_until__lte=now, released_at__isnull=True
            ).update(released_at=now, held_until=None, is_dedicated=False)
        if taken:
            log.info(
                "Released %s of %s after its hold; release it in the %s console too if the "
                "carrier still bills it",
                number.number,
                number.organization,
                number.carrier,
            )
            number.refresh_from_db()
            released.append(number)
    return released


def _require_active_admin(actor: Membership) -> None:
    if not actor.user.is_active:
        raise PermissionDenied("Your account is deactivated.", code="inactive")
    require_admin(actor)
