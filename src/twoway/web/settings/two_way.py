"""Settings → Two-way texting: switch it on (a dedicated number at once) or off.

Admins only; the work is in numbers.activation.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from twoway.accounts.access import require_admin
from twoway.accounts.decorators import member_view
from twoway.accounts.models import Membership, OffReply, Organization
from twoway.compliance.replies import rendered_too_long
from twoway.core.errors import TwowayError
from twoway.core.phones import InvalidPhoneNumber, format_for_display, normalize_phone
from twoway.numbers.activation import (
    TWO_WAY_COUNTRIES,
    dedicated_number,
    two_way_activate,
    two_way_deactivate,
)


class ActivateForm(forms.Form):
    business_phone = forms.CharField(
        max_length=20,
        required=False,
        label="Your business phone",
        help_text="Your new texting number gets its area code where the carrier has one.",
    )

    def __init__(self, *args: object, organization: Organization, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.organization = organization

    def clean_business_phone(self) -> str:
        value = self.cleaned_data["business_phone"].strip()
        if not value:
            return ""
        try:
            return normalize_phone(value, self.organization.country)
        except InvalidPhoneNumber as exc:
            raise forms.ValidationError(str(exc)) from None


class DeactivateForm(forms.Form):
    off_reply = forms.ChoiceField(
        choices=OffReply.choices,
        widget=forms.RadioSelect,
        label="Texts to your number then get",
    )
    do_not_reply_text = forms.CharField(
        max_length=320,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Do-not-reply auto message",
        help_text="Sent at most once a day to each client who texts. “{org}” becomes your name.",
    )

    def __init__(self, *args: object, organization: Organization, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.organization = organization

    def clean_do_not_reply_text(self) -> str:
        text: str = self.cleaned_data["do_not_reply_text"]
        label = "The do-not-reply message"
        if problem := rendered_too_long(label, text, self.organization.name):
            raise forms.ValidationError(problem)
        return text


def _context(membership: Membership, **extra: object) -> dict[str, object]:
    organization = membership.organization
    return {
        "membership": membership,
        "organization": organization,
        "number": dedicated_number(organization),
        "supported": organization.country.upper() in TWO_WAY_COUNTRIES,
        **extra,
    }


@member_view
def two_way_settings(request: HttpRequest, membership: Membership) -> HttpResponse:
    require_admin(membership)
    organization = membership.organization
    activate = ActivateForm(
        initial={"business_phone": format_for_display(organization.business_phone)},
        organization=organization,
    )
    deactivate = DeactivateForm(
        organization=organization,
        initial={
            "off_reply": organization.off_reply,
            "do_not_reply_text": organization.do_not_reply_text,
        },
    )
    return render(
        request,
        "web/settings/two_way.html",
        _context(membership, activate=activate, deactivate=deactivate),
    )


@require_POST
@member_view
def two_way_on(request: HttpRequest, membership: Membership) -> HttpResponse:
    require_admin(membership)
    organization = membership.organization
    form = ActivateForm(request.POST, organization=organization)
    if form.is_valid():
        try:
            number = two_way_activate(
                actor=membership, business_phone=form.cleaned_data["business_phone"]
            )
        except TwowayError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                f"Two-way texting is on. Your texting number is {number.display}.",
            )
            return redirect("settings_two_way")
    return render(
        request,
        "web/settings/two_way.html",
        _context(membership, activate=form, deactivate=DeactivateForm(organization=organization)),
        status=422,
    )


@require_POST
@member_view
def two_way_off(request: HttpRequest, membership: Membership) -> HttpResponse:
    require_admin(membership)
    organization = membership.organization
    form = DeactivateForm(request.POST, organization=organization)
    if form.is_valid():
        two_way_deactivate(
            actor=membership,
            off_reply=form.cleaned_data["off_reply"],
            do_not_reply_text=form.cleaned_data["do_not_reply_text"],
        )
        # The page itself says until when the number is kept: no need to say it twice.
        messages.success(request, "Two-way texting is off.")
        return redirect("settings_two_way")
    return render(
        request,
        "web/settings/two_way.html",
        _context(
            membership,
            activate=ActivateForm(organization=organization),
            deactivate=form,
        ),
        status=422,
    )
