"""Balance reads, scoped to one organization."""

from __future__ import annotations

from django.db.models import QuerySet

from twoway.billing.models import BalanceEntry


def balance_ledger(organization_id: int) -> QuerySet[BalanceEntry]:
    """Every change to the organization's balance, newest first, with who and what caused it."""
    return (
        BalanceEntry.objects.filter(organization_id=organization_id)
        .select_related("created_by", "message")
        .order_by("-id")
    )
