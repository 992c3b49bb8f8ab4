"""Drip campaigns read: always the member's organization's."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from twoway.accounts.models import Membership
from twoway.drips.models import DripCampaign, DripStep


def drip_campaigns_list(membership: Membership) -> QuerySet[DripCampaign]:
    """The organization's campaigns by name, with their steps (and canned responses)."""
    steps = DripStep.objects.select_related("canned_response").order_by("position")
    return (
        DripCampaign.objects.filter(organization_id=membership.organization_id)
        .prefetch_related(Prefetch("steps", queryset=steps))
        .order_by("name", "pk")
    )
