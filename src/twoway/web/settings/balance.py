"""Settings, SMS balance: what is left and the ledger of every change."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from twoway.accounts.access import require_admin
from twoway.accounts.decorators import member_view
from twoway.accounts.models import Membership
from twoway.billing.selectors import balance_ledger
from twoway.billing.services import balance_of

ENTRIES_PER_PAGE = 50


@member_view
def balance(request: HttpRequest, membership: Membership) -> HttpResponse:
    require_admin(membership)
    pages = Paginator(balance_ledger(membership.organization_id), ENTRIES_PER_PAGE)
    page = pages.get_page(request.GET.get("page"))
    return render(
        request,
        "web/settings/balance.html",
        {"balance": balance_of(membership.organization_id), "page": page},
    )
