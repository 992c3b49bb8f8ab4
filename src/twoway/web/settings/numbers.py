"""Settings → Numbers: the organization's numbers, buying one, and each number's inbox settings.

Admins only (others get 403); a number of another organization is not found (404).
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from twoway.accounts.access import require_admin
from twoway.accounts.decorators import member_view
from twoway.accounts.models import Membership, Organization
from twoway.carrier_accounts.models import CarrierAccount
from twoway.carrier_accounts.selectors import carrier_accounts_for_settings
from twoway.carriers.base import AvailableNumber
from twoway.core.errors import NotFound, TwowayError
from twoway.core.phones import format_for_display
from twoway.numbers.access import access_phone_number
from twoway.numbers.models import DEFAULT_MPS, Verification
from twoway.numbers.selectors import numbers_for_settings
from twoway.numbers.services import (
    InvalidNumberField,
    number_add,
    number_release,
    number_search,
    number_update,
    provisioning_carriers,
)
from twoway.numbers.verification import number_verification_set
from twoway.web.settings.numbers_forms import (
    SELECTED,
    NumberAddForm,
    NumberSearchForm,
    NumberSettingsForm,
)


def _form_error(form: forms.Form, exc: TwowayError) -> None:
    """A service's refusal, shown beside the field it is about when the form has that field."""
    field = exc.field if isinstance(exc, InvalidNumberField) else None
    form.add_error(field if field in form.fields else None, exc.message)


@member_view
def numbers_list(request: HttpRequest, membership: Membership) -> HttpResponse:
    require_admin(membership)
    return render(
        request,
        "web/settings/numbers.html",
        {"membership": membership, "numbers": numbers_for_settings(membership.organization)},
    )


def _number_sources(organization: Organization) -> list[tuple[str, str]]:
    """Where a number can be bought: each carrier that sells numbers through Twoway's own
    account, and through each of the organization's accounts with it ("<carrier>@<account id>")."""
    sources: list[tuple[str, str]] = []
    accounts = list(carrier_accounts_for_settings(organization))
    for carrier in provisioning_carriers():
        sources.append((carrier.slug, carrier.name))
        sources += [
            (f"{carrier.slug}@{account.pk}", f"{carrier.name}: {account.name} (your account)")
            for account in accounts
            if account.carrier == carrier.slug
        ]
    return sources


def _source(organization: Organization, value: str) -> tuple[str, CarrierAccount | None]:
    """The carrier and account a source names (one of `_number_sources`' values)."""
    carrier, _, account_id = value.partition("@")
    if not account_id:
        return carrier, None
    account = carrier_accounts_for_settings(organization).filter(pk=int(account_id)).first()
    if account is None:
        raise NotFound("That carrier account does not exist.")
    return carrier, account


@member_view
def number_add_view(request: HttpRequest, membership: Membership) -> HttpResponse:
    """GET searches the carrier's available numbers; POST adds the one picked."""
    require_admin(membership)
    organization = membership.organization
    sources = _number_sources(organization)
    search = NumberSearchForm(
        request.GET if "carrier" in request.GET else None,
        sources=sources,
        initial={"carrier": sources[0][0] if sources else ""},
    )
    add = NumberAddForm(
        request.POST if request.method == "POST" else None,
        sources=sources,
        initial={"carrier": request.GET.get("carrier", "")},
    )
    offers: list[AvailableNumber] | None = None
    status = 200
    if request.method == "POST":
        if add.is_valid():
            try:
                carrier, account = _source(organization, add.cleaned_data["carrier"])
                number = number_add(
                    actor=membership,
                    organization=organization,
                    carrier=carrier,
                    carrier_account=account,
                    number=add.cleaned_data["number"],
                    label=add.cleaned_data["label"],
                )
            except TwowayError as exc:
                _form_error(add, exc)
            else:
                messages.success(
                    request,
                    f"{number.display} is now one of your numbers. Choose who can use it.",
                )
                return redirect("settings_number_edit", number_id=number.pk)
        status = 422
    # The search stays in the URL, so a refused "add" shows the same choice again.
    if search.is_bound and search.is_valid():
        try:
            carrier, account = _source(organization, search.cleaned_data["carrier"])
            offers = number_search(
                organization=organization,
                carrier=carrier,
                carrier_account=account,
                area_code=search.cleaned_data["area_code"],
            )
        except TwowayError as exc:
            _form_error(search, exc)
            status = 422
    elif search.is_bound:
        status = 422
    return render(
        request,
        "web/settings/number_add.html",
        {
            "membership": membership,
            "search": search,
            "add": add,
            "offers": offers,
            "carrier": search.cleaned_data.get("carrier") if search.is_bound else None,
            "picked": add["number"].value() or "",
            "default_mps": DEFAULT_MPS,
        },
        status=status,
    )


@member_view
def number_edit(request: HttpRequest, membership: Membership, number_id: int) -> HttpResponse:
    """A number's details and inbox settings."""
    require_admin(membership)
    number = access_phone_number(membership, number_id)
    organization = membership.organization
    status = 200
    if request.method == "POST":
        form = NumberSettingsForm(request.POST, organization=organization)
        if form.is_valid():
            data = form.cleaned_data
            try:
                number_update(
                    actor=membership,
                    number=number,
                    label=data["label"],
                    number_type=data["number_type"],
                    sms_enabled=data["sms_enabled"],
                    mms_enabled=data["mms_enabled"],
                    mps_limit=data["mps_limit"],
                    access_everyone=data["access"] != SELECTED,
                    access_users=data["access_users"],
                    access_teams=data["access_teams"],
                    routing_mode=data["routing_mode"],
                )
            except TwowayError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, f"Saved the settings of {number.display}.")
                return redirect("settings_numbers")
        status = 422
    else:
        form = NumberSettingsForm(
            initial=NumberSettingsForm.initial_for(number), organization=organization
        )
    return render(
        request,
        "web/settings/number_edit.html",
        {
            "membership": membership,
            "number": number,
            "form": form,
            "conversation_count": number.conversations.count(),
            "verification_choices": Verification.choices,
        },
        status=status,
    )


@require_POST
@member_view
def number_release_view(
    request: HttpRequest, membership: Membership, number_id: int
) -> HttpResponse:
    require_admin(membership)
    number = access_phone_number(membership, number_id)
    shown, carrier = format_for_display(number.number), number.carrier
    try:
        number_release(actor=membership, number=number)
    except TwowayError as exc:
        messages.error(request, exc.message)
        return redirect("settings_number_edit", number_id=number.pk)
    note = "" if carrier == "simulator" else f" Release it in your {carrier} account too."
    messages.success(request, f"{shown} is released from Twoway.{note}")
    return redirect("settings_numbers")


@require_POST
@member_view
def number_verification_view(
    request: HttpRequest, membership: Membership, number_id: int
) -> HttpResponse:
    """An admin records what the carrier said about the number's verification."""
    require_admin(membership)
    number = access_phone_number(membership, number_id)
    try:
        changed = number_verification_set(
            number=number,
            status=request.POST.get("status", ""),
            reason=request.POST.get("reason", ""),
            actor=membership,
        )
    except TwowayError as exc:
        messages.error(request, exc.message)
    else:
        if changed:
            messages.success(
                request,
                f"{number.display} is now “{number.get_verification_status_display()}”.",
            )
    return redirect("settings_number_edit", number_id=number.pk)
