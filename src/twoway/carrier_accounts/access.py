"""Who may see and change a carrier account: the administrators of its organization."""

from __future__ import annotations

from twoway.accounts.access import require_admin
from twoway.accounts.models import Membership
from twoway.carrier_accounts.models import CarrierAccount
from twoway.core.errors import NotFound


def access_carrier_account(membership: Membership, account_id: int) -> CarrierAccount:
    """The organization's account `account_id`, for one of its administrators (PermissionDenied
    for anyone else). Another organization's account, or the operator's, is NotFound: from
    outside, it does not exist."""
    require_admin(membership)
    found = (
        CarrierAccount.objects.filter(pk=account_id, organization_id=membership.organization_id)
        .select_related("organization")
        .first()
    )
    if found is None:
        raise NotFound("That carrier account does not exist.")
    return found
