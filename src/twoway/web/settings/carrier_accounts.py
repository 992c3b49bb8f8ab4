"""Settings → Carrier accounts: the organization's own accounts at carriers (Twilio), each with
the webhook URL to paste into the carrier's console; adding, renaming, replacing credentials,
deleting one no number is held in.

Admins only (others get 403); another organization's account is not found (404). Credentials are
shown masked (their last 4 characters), never in full.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from twoway.accounts.access import require_admin
from twoway.accounts.decorators import member_view
from twoway.accounts.models import Membership
from twoway.carrier_accounts.access import access_carrier_account
from twoway.carrier_accounts.models import CarrierAccount
from twoway.carrier_accounts.selectors import carrier_accounts_for_settings, carriers_with_accounts
from twoway.carrier_accounts.services import (
    InvalidAccountField,
    carrier_account_create,
    carrier_account_delete,
    carrier_account_update,
)
from twoway.carriers.base import Carrier
from twoway.core.errors import NotFound, TwowayError
from twoway.web.settings.carrier_accounts_forms import CarrierAccountForm


def _webhook_url(request: HttpRequest, account: CarrierAccount) -> str:
    """The address the carrier must post to: under TWOWAY_PUBLIC_URL when it is set (what
    carriers are told everywhere else), else the address this page was opened at."""
    if settings.TWOWAY_PUBLIC_URL:
        return settings.TWOWAY_PUBLIC_URL + account.webhook_path
    return request.build_absolute_uri(account.webhook_path)


def _carrier(slug: str) -> type[Carrier]:
    for cls in carriers_with_accounts():
        if cls.slug == slug:
            return cls
    raise NotFound("Twoway has no accounts for that carrier.")


def _form_error(form: forms.Form, exc: TwowayError) -> None:
    """A service's refusal, shown beside the field it is about when the form has that field."""
    field = exc.field if isinstance(exc, InvalidAccountField) else None
    form.add_error(field if field in form.fields else None, exc.message)


@member_view
def carrier_accounts_list(request: HttpRequest, membership: Membership) -> HttpResponse:
    require_admin(membership)
    accounts = [
        {
            "account": account,
            "credentials": account.credentials_masked(),
            "webhook_url": _webhook_url(request, account),
            "numbers": list(account.phone_numbers.all()),
        }
        for account in carrier_accounts_for_settings(membership.organization)
    ]
    return render(
        request,
        "web/settings/carrier_accounts.html",
        {
            "membership": membership,
            "accounts": accounts,
            "carriers": carriers_with_accounts(),
            "public_url": settings.TWOWAY_PUBLIC_URL,
        },
    )


@member_view
def carrier_account_add(request: HttpRequest, membership: Membership, carrier: str) -> HttpResponse:
    require_admin(membership)
    cls = _carrier(carrier)
    form = CarrierAccountForm(request.POST if request.method == "POST" else None, carrier=cls)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                account = carrier_account_create(
                    actor=membership,
                    organization=membership.organization,
                    carrier=cls.slug,
                    name=form.cleaned_data["name"],
                    credentials=form.credentials(),
                )
            except TwowayError as exc:
                _form_error(form, exc)
            else:
                messages.success(
                    request,
                    f"Added {account.name}. Paste its webhook URL into {cls.name}'s console.",
                )
                return redirect("settings_carrier_account_edit", account_id=account.pk)
        status = 422
    return render(
        request,
        "web/settings/carrier_account_add.html",
        {"membership": membership, "form": form, "carrier": cls},
        status=status,
    )


@member_view
def carrier_account_edit(
    request: HttpRequest, membership: Membership, account_id: int
) -> HttpResponse:
    """An account's name, credentials and webhook URL, and deleting it."""
    account = access_carrier_account(membership, account_id)
    cls = _carrier(account.carrier)
    status = 200
    if request.method == "POST":
        form = CarrierAccountForm(request.POST, carrier=cls, account=account)
        if form.is_valid():
            try:
                carrier_account_update(
                    actor=membership,
                    account=account,
                    name=form.cleaned_data["name"],
                    credentials=form.credentials(),
                )
            except TwowayError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, f"Saved {account.name}.")
                return redirect("settings_carrier_accounts")
        status = 422
    else:
        form = CarrierAccountForm(initial={"name": account.name}, carrier=cls, account=account)
    return render(
        request,
        "web/settings/carrier_account_edit.html",
        {
            "membership": membership,
            "account": account,
            "carrier": cls,
            "form": form,
            "credentials": account.credentials_masked(),
            "webhook_url": _webhook_url(request, account),
            "numbers": list(account.phone_numbers.all()),
            "public_url": settings.TWOWAY_PUBLIC_URL,
        },
        status=status,
    )


@require_POST
@member_view
def carrier_account_delete_view(
    request: HttpRequest, membership: Membership, account_id: int
) -> HttpResponse:
    account = access_carrier_account(membership, account_id)
    name = account.name
    try:
        carrier_account_delete(actor=membership, account=account)
    except TwowayError as exc:
        messages.error(request, exc.message)
        return redirect("settings_carrier_account_edit", account_id=account.pk)
    messages.success(request, f"Deleted {name}.")
    return redirect("settings_carrier_accounts")
