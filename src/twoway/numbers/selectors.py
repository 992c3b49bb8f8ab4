"""Reads on phone numbers, always scoped to one organization."""

from __future__ import annotations

from django.db.models import QuerySet

from twoway.accounts.models import Membership, Organization, Role, Team
from twoway.numbers.models import PhoneNumber


def numbers_for_settings(organization: Organization) -> QuerySet[PhoneNumber]:
    """The organization's numbers, with who may use them."""
    return (
        PhoneNumber.objects.filter(organization=organization)
        .select_related("carrier_account")
        .prefetch_related("access_users__user", "access_teams")
        .order_by("id")
    )


def members_for_access(organization: Organization) -> QuerySet[Membership]:
    """Members a number can be opened to: admins may use every number anyway."""
    return (
        Membership.objects.filter(organization=organization, user__is_active=True)
        .exclude(role=Role.ADMINISTRATIVE)
        .select_related("user")
        .order_by("user__email")
    )


def teams_for_access(organization: Organization) -> QuerySet[Team]:
    return Team.objects.filter(organization=organization).order_by("name")
