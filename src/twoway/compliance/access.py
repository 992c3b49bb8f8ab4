"""Who may read the consent ledger (the rules are listed in `accounts.access`).

The whole organization's ledger is compliance data, which administrators own, as they own the
compliance settings. One contact's entries are part of that contact's card and go with access
to the contact (`contacts.access`)."""

from __future__ import annotations

from django.db.models import QuerySet

from twoway.accounts.models import Membership
from twoway.compliance.models import ConsentEvent
from twoway.core.errors import PermissionDenied


def can_read_consent_ledger(membership: Membership) -> bool:
    return membership.is_admin


def access_consent_ledger(membership: Membership) -> QuerySet[ConsentEvent]:
    """The organization's ledger entries, for a member who may read them all."""
    if not can_read_consent_ledger(membership):
        raise PermissionDenied(
            "Only administrators can read the organization's consent ledger.",
            code="admin_only",
        )
    return ConsentEvent.objects.filter(organization_id=membership.organization_id)
