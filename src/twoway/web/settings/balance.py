"""Settings, SMS balance: what is left, credit added by an administrator, and the ledger of
every change."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from twoway.accounts.access import require_admin
from twoway.accounts.decorators import member_view
from twoway.accounts.models import Membership
from twoway.billing.selectors import balance_ledger
from twoway.billing.services import balance_grant, balance_of
from twoway.core.errors import TwowayError
from twoway.web.settings.balance_forms import CreditForm

ENTRIES_PER_PAGE = 50


@member_view
def balance(request: HttpRequest, membership: Membership) -> HttpResponse:
    require_admin(membership)
    form = CreditForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            amount, note = form.cleaned_data["amount"], form.cleaned_data["note"]
            try:
                balance_grant(
                    organization=membership.organization,
                    amount=amount,
                    note=note,
                    actor=membership.user,
                )
            except TwowayError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(
                    request, f"Added {amount} segment{'' if amount == 1 else 's'} of credit."
                )
                return redirect("settings_balance")
        status = 422  # nothing was added: the form says why
    pages = Paginator(balance_ledger(membership.organization_id), ENTRIES_PER_PAGE)
    page = pages.get_page(request.GET.get("page"))
    return render(
        request,
        "web/settings/balance.html",
        {"balance": balance_of(membership.organization_id), "page": page, "form": form},
        status=status,
    )
