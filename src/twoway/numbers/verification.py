"""A number's verification with the carriers: pending → in review → verified / rejected.

It can take weeks, so the state is kept on the number, shown in Settings > Numbers and the
composer, and changed by a carrier's callback or by an admin who heard from the carrier.
The admins hear of a verified (or rejected) number in the app and by e-mail.
"""

from __future__ import annotations

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from twoway.accounts.access import require_admin
from twoway.accounts.models import Membership
from twoway.core.errors import InvalidInput, NotFound
from twoway.notifications.services import notify_admins
from twoway.numbers.models import PhoneNumber, Verification

REASON_MAX_LENGTH = 300


@transaction.atomic
def number_verification_set(
    *,
    number: PhoneNumber,
    status: str,
    reason: str = "",
    actor: Membership | None = None,
) -> bool:
    """Record the carriers' verdict on `number`; `actor` is the admin entering it, None for a
    carrier callback. Returns False when nothing changed (a repeated callback)."""
    if actor is not None:
        require_admin(actor)
        if actor.organization_id != number.organization_id:
            raise NotFound("That phone number does not exist.")
    if status not in Verification.values:
        raise InvalidInput(
            "Pick a verification state: pending, in review, verified or rejected.",
            code="invalid_verification",
        )
    reason = (reason or "").strip()
    if status == Verification.REJECTED and not reason:
        raise InvalidInput(
            "Say why the carriers rejected the number, so the team knows what to fix.",
            code="reason_required",
        )
    if len(reason) > REASON_MAX_LENGTH:
        raise InvalidInput("Keep the reason to 300 characters or fewer.", code="reason_too_long")
    if status != Verification.REJECTED:
        reason = ""
    current = PhoneNumber.objects.select_for_update().get(pk=number.pk)
    if current.verification_status == status and current.verification_reason == reason:
        return False
    current.verification_status = status
    current.verification_reason = reason
    current.verification_updated_at = timezone.now()
    current.save(
        update_fields=["verification_status", "verification_reason", "verification_updated_at"]
    )
    number.verification_status, number.verification_reason = status, reason
    number.verification_updated_at = current.verification_updated_at
    if current.organization is not None:
        _tell_admins(current)
    return True


def _tell_admins(number: PhoneNumber) -> None:
    assert number.organization is not None
    link = reverse("settings_numbers")
    if number.verification_status == Verification.VERIFIED:
        notify_admins(
            organization=number.organization,
            kind="number.verified",
            title=f"Your number {number.display} is verified",
            body=(
                "The carriers approved it: texts from it now reach your clients reliably, and "
                "transactional messages go from it instead of the shared system number."
            ),
            link=link,
        )
    elif number.verification_status == Verification.REJECTED:
        notify_admins(
            organization=number.organization,
            kind="number.rejected",
            title=f"Verification of {number.display} was rejected",
            body=(
                f"The carriers gave this reason: {number.verification_reason}\n"
                "Texts from it may be filtered until it is verified; transactional messages "
                "keep going from the shared system number."
            ),
            link=link,
        )
